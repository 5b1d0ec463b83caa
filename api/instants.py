"""Instants in and out as RFC 3339 text, days as YYYY-MM-DD: a bare number is refused, never
read as epoch seconds or days."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, str) and not value.lstrip("+-").replace(".", "", 1).isdigit():
        return value
    if hasattr(value, "tzinfo"):  # already a datetime (set from Python)
        return value
    raise ValueError("field-rfc3339")


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


def _iso_day_text(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value
    if isinstance(value, date):
        return value
    raise ValueError("field-day")


Day = Annotated[date, BeforeValidator(_iso_day_text)]
