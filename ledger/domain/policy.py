"""A community's policies: for points, when they expire, how many a member may redeem a day
and what a till needs to take them (`ledger.domain.consent`); for the time bank, how many
minutes a member may store, give and withdraw."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol, Self
from zoneinfo import ZoneInfo

from ledger.domain.consent import ConsentPolicy
from ledger.errors import AgeRequirementNotMet


class AwardApproval(StrEnum):
    """Who may approve an award waiting for approval."""

    ANY_STAFF = "any_staff"
    ANOTHER_STAFF = "another_staff"  # not the one who recorded it (四眼原则)


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
    redemption_consent: ConsentPolicy = ConsentPolicy.PAYMENT_CODE
    award_approval: AwardApproval = AwardApproval.ANY_STAFF

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
                "daily_redemption_limit_points": self.daily_redemption_limit_points,
                "redemption_consent": self.redemption_consent.value,
                "award_approval": self.award_approval.value}

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> PointsPolicy:
        """The policy as recorded; a policy set before consent was asked for asks for it."""
        if not data:
            return cls()
        limit = data.get("daily_redemption_limit_points")
        consent = data.get("redemption_consent", ConsentPolicy.PAYMENT_CODE.value)
        approval = data.get("award_approval", AwardApproval.ANY_STAFF.value)
        return cls(ExpiryKind(str(data["expiry"])), int(data["n"]),  # type: ignore[call-overload]
                   int(limit) if limit is not None else None,  # type: ignore[call-overload]
                   ConsentPolicy(str(consent)), AwardApproval(str(approval)))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (first_of_next - timedelta(days=1)).day))


class Kin(Protocol):
    """A member, as far as the gift rule asks: whom they are a relative of."""

    def is_relative_of(self, other: Self) -> bool: ...


class OverCap(StrEnum):
    REFUSE = "refuse"  # a deposit that would go over the storage cap is refused
    DONATE = "donate"  # what goes over is deposited and given to the community's pool


class GiftRecipients(StrEnum):
    ANYONE = "anyone"
    RELATIVES = "relatives"  # registered relatives, or members of the same household


@dataclass(frozen=True)
class TimeBankPolicy:
    """A community's time-bank rules; every one is enforced by the ledger."""

    storage_cap_minutes: int | None = None
    over_cap: OverCap = OverCap.REFUSE
    gift_recipients: GiftRecipients = GiftRecipients.ANYONE
    withdraw_min_age: int | None = None
    team_minutes_donate_only: bool = False
    auto_confirm_days: int | None = 7
    service_rule_code: str | None = None  # a rule (per hour) that also awards points

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TimeBankPolicy:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "over_cap" in values:
            values["over_cap"] = OverCap(values["over_cap"])
        if "gift_recipients" in values:
            values["gift_recipients"] = GiftRecipients(values["gift_recipients"])
        return cls(**values)

    def room(self, balance: int) -> int | None:
        """Minutes a member holding `balance` may still store (None: no cap)."""
        if self.storage_cap_minutes is None:
            return None
        return max(0, self.storage_cap_minutes - balance)

    def allows_gift(self, giver: Kin, receiver: Kin) -> bool:
        if self.gift_recipients is GiftRecipients.ANYONE:
            return True
        return giver.is_relative_of(receiver) or receiver.is_relative_of(giver)

    def check_age(self, birth_date: date | None, today: date) -> None:
        if self.withdraw_min_age is None:
            return
        if birth_date is None:
            raise AgeRequirementNotMet("age-no-birth-date", age=self.withdraw_min_age)
        age = today.year - birth_date.year - ((today.month, today.day)
                                              < (birth_date.month, birth_date.day))
        if age < self.withdraw_min_age:
            raise AgeRequirementNotMet("age-too-young", age=self.withdraw_min_age, actual=age)
