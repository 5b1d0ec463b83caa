"""Periods of the leaderboards and reports: all time, a year, a quarter, a month.

An earning counts in the periods of the instant it occurred, read in its community's time zone
(Asia/Shanghai by default): 2026-03-31T16:30Z is 1 April 00:30 in Shanghai, so April and Q2.
Keys: "all", "2026", "2026-Q2", "2026-04".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

ALL = "all"
YEAR_MIN, YEAR_MAX = 2000, 2999
PERIOD_PATTERN = r"^(all|\d{4}|\d{4}-Q[1-4]|\d{4}-(0[1-9]|1[0-2]))$"
QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"
_PERIOD = re.compile(PERIOD_PATTERN)


def zone(time_zone: str) -> ZoneInfo:
    return ZoneInfo(time_zone)


def keys_for(instant: datetime, time_zone: ZoneInfo) -> tuple[str, str, str, str]:
    """The four periods an instant counts in: all time, its year, quarter and month."""
    local = instant.astimezone(time_zone)
    quarter = (local.month - 1) // 3 + 1
    return ALL, f"{local.year:04d}", f"{local.year:04d}-Q{quarter}", f"{local:%Y-%m}"


def month_of(instant: datetime, time_zone: ZoneInfo) -> str:
    return f"{instant.astimezone(time_zone):%Y-%m}"


def is_period(text: str) -> bool:
    if not _PERIOD.match(text):
        return False
    return text == ALL or YEAR_MIN <= int(text[:4]) <= YEAR_MAX


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """'2026-Q4' -> Quarter(2026, 4); ValueError for anything else."""
        if not re.match(QUARTER_PATTERN, text) or not YEAR_MIN <= int(text[:4]) <= YEAR_MAX:
            raise ValueError(f"{text!r} is not a quarter like 2026-Q4")
        return cls(int(text[:4]), int(text[-1]))

    @property
    def key(self) -> str:
        return f"{self.year:04d}-Q{self.number}"

    @property
    def months(self) -> list[str]:
        first = (self.number - 1) * 3 + 1
        return [f"{self.year:04d}-{m:02d}" for m in range(first, first + 3)]

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year,
                                                                          self.number - 1)

    def bounds(self, time_zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the quarter as aware instants in the community's time zone."""
        start = datetime(self.year, (self.number - 1) * 3 + 1, 1, tzinfo=time_zone)
        end = (datetime(self.year + 1, 1, 1, tzinfo=time_zone) if self.number == 4
               else datetime(self.year, self.number * 3 + 1, 1, tzinfo=time_zone))
        return start, end


def year_months(year: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


def month_end(month: str, time_zone: ZoneInfo) -> datetime:
    """The first instant after `month` ('2026-11') in the time zone."""
    year, number = int(month[:4]), int(month[5:7])
    if number == 12:
        return datetime(year + 1, 1, 1, tzinfo=time_zone)
    return datetime(year, number + 1, 1, tzinfo=time_zone)
