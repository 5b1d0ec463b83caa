"""An instant is RFC 3339 text: a number is refused however it is written, never read as
epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from api.instants import Instant

INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


@pytest.mark.parametrize("text", ["1700000000", "-1.5", "+3", "1e9", "-8.964513280642204e-235",
                                  "2E-3", "inf", "nan"])
def test_a_number_is_refused_however_written(text: str) -> None:
    with pytest.raises(ValidationError, match="field-rfc3339"):
        INSTANT.validate_python(text)


def test_rfc3339_text_is_read() -> None:
    assert INSTANT.validate_python("2026-11-23T08:00:00+08:00") == datetime(
        2026, 11, 23, 0, 0, tzinfo=UTC)
