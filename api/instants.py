"""Instants in and out as RFC 3339 text: a bare number is refused, never read as epoch seconds."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, str) and not value.lstrip("+-").replace(".", "", 1).isdigit():
        return value
    if hasattr(value, "tzinfo"):  # already a datetime (set from Python)
        return value
    raise ValueError("give an RFC 3339 instant such as 2026-11-23T08:00:00+08:00")


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
