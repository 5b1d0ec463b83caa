"""A community's points policy: when points expire, and how many a member may redeem a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class ExpiryKind(StrEnum):
    NEVER = "never"
    MONTHS_AFTER_EARNING = "months_after_earning"
    END_OF_NTH_YEAR = "end_of_nth_year"


@dataclass(frozen=True)
class PointsPolicy:
    """`n` months after the day earned, or the end of the `n`th year after the year earned
    (n = 0: the end of the same year). Instants are local midnights in the community's zone."""

    expiry: ExpiryKind = ExpiryKind.NEVER
    n: int = 0
    daily_redemption_limit_points: int | None = None

    def expires_at(self, earned_at: datetime, time_zone: str) -> datetime | None:
        zone = ZoneInfo(time_zone)
        earned_on = earned_at.astimezone(zone).date()
        if self.expiry is ExpiryKind.NEVER:
            return None
        if self.expiry is ExpiryKind.MONTHS_AFTER_EARNING:
            day = add_months(earned_on, self.n)
        else:
            day = date(earned_on.year + self.n + 1, 1, 1)
        return datetime.combine(day, time(0, 0), tzinfo=zone)

    def as_dict(self) -> dict[str, object]:
        return {"expiry": self.expiry.value, "n": self.n,
                "daily_redemption_limit_points": self.daily_redemption_limit_points}

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> PointsPolicy:
        if not data:
            return cls()
        limit = data.get("daily_redemption_limit_points")
        return cls(ExpiryKind(str(data["expiry"])), int(data["n"]),  # type: ignore[call-overload]
                   int(limit) if limit is not None else None)  # type: ignore[call-overload]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (first_of_next - timedelta(days=1)).day))
