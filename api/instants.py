"""Instants in and out as RFC 3339 text, days as YYYY-MM-DD: a bare number is refused, never
read as epoch seconds or days."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator


def _a_number(text: str) -> bool:
    """Whether `text` reads as a number, however written (1700000000, -1.5, 1e9)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, str) and not _a_number(value):
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
