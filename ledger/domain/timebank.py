"""The time bank (时间银行): a community's policy, service deposits, and what communities owe
each other when one's members receive care from another's volunteers (通存通兑)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import AgeRequirementNotMet, CreditLimitReached

if TYPE_CHECKING:
    from ledger.domain.registry import Member


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

    def allows_gift(self, giver: Member, receiver: Member) -> bool:
        if self.gift_recipients is GiftRecipients.ANYONE:
            return True
        return giver.is_relative_of(receiver) or receiver.is_relative_of(giver)

    def check_age(self, birth_date: date | None, today: date) -> None:
        if self.withdraw_min_age is None:
            return
        if birth_date is None:
            raise AgeRequirementNotMet(
                f"members withdraw from age {self.withdraw_min_age}; "
                "this member has no birth date on record")
        age = today.year - birth_date.year - ((today.month, today.day)
                                              < (birth_date.month, birth_date.day))
        if age < self.withdraw_min_age:
            raise AgeRequirementNotMet(
                f"members withdraw from age {self.withdraw_min_age}; this member is {age}")


class Deposit(LedgerAggregate):
    """Minutes deposited for a verified service (志愿服务记录): who served whom, what, when.

    A service order deposits at most once: its deposit's id derives from the order's.
    """

    @staticmethod
    def create_id(service_request_id: UUID | None) -> UUID:
        return ids.order_deposit_id(service_request_id) if service_request_id else ids.new_id()

    @event("Recorded")
    def __init__(
        self,
        volunteer_id: UUID,
        community_id: UUID,
        recipient_id: UUID | None,
        service_type: str,
        minutes: int,
        occurred_at: datetime,
        team: str | None,
        service_request_id: UUID | None,
        stars: int | None,
        donated: int,
        points_award_id: UUID | None,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.volunteer_id = volunteer_id
        self.community_id = community_id
        self.recipient_id = recipient_id
        self.service_type = service_type
        self.minutes = minutes
        self.occurred_at = occurred_at
        self.team = team
        self.service_request_id = service_request_id
        self.stars = stars
        self.donated = donated
        self.points_award_id = points_award_id


class Interchange(LedgerAggregate):
    """What two communities owe each other in minutes (通存通兑).

    When a member of community P withdraws minutes for care given by a volunteer of community
    Q, P owes Q those minutes. `due` is what `first` owes `second` (negative: what `second`
    owes `first`), the pair ordered by id. Each community may cap what the other owes it.
    """

    @staticmethod
    def create_id(first: UUID, second: UUID) -> UUID:
        """The pair's id, whichever way round it is named."""
        low, high = sorted((first, second), key=str)
        return ids.interchange_id(low, high)

    @event("Opened")
    def __init__(self, first: UUID, second: UUID, actor_id: str, actor_role: str) -> None:
        self.first = first
        self.second = second
        self.due = 0
        self.limits: dict[str, int | None] = {}

    @classmethod
    def open(cls, a: UUID, b: UUID, by: Actor) -> Interchange:
        first, second = sorted((a, b), key=str)
        return cls(first=first, second=second, actor_id=by.id, actor_role=by.role_value)

    def owed_by(self, debtor: UUID) -> int:
        """What `debtor` owes the other community now (negative: what it is owed)."""
        return self.due if debtor == self.first else -self.due

    def limit_for(self, debtor: UUID) -> int | None:
        """How much the other community lets `debtor` owe it (None: no limit)."""
        creditor = self.second if debtor == self.first else self.first
        return self.limits.get(str(creditor))

    def record_care(self, debtor: UUID, minutes: int, withdrawal_id: UUID, by: Actor) -> None:
        """`debtor`'s member received `minutes` of care from the other's volunteer."""
        after = self.owed_by(debtor) + minutes
        limit = self.limit_for(debtor)
        if limit is not None and minutes > 0 and after > limit:
            raise CreditLimitReached(
                f"community {debtor} would owe {after} minutes; its partner allows {limit}")
        self._care_recorded(debtor=debtor, minutes=minutes, withdrawal_id=withdrawal_id,
                            due_after=after if debtor == self.first else -after,
                            actor_id=by.id, actor_role=by.role_value)

    def set_limit(self, creditor: UUID, limit: int | None, by: Actor) -> None:
        self._limit_set(creditor=creditor, limit=limit, actor_id=by.id,
                        actor_role=by.role_value)

    @event("CareRecorded")
    def _care_recorded(self, debtor: UUID, minutes: int, withdrawal_id: UUID, due_after: int,
                       actor_id: str, actor_role: str) -> None:
        self.due = due_after

    @event("LimitSet")
    def _limit_set(self, creditor: UUID, limit: int | None, actor_id: str,
                   actor_role: str) -> None:
        self.limits = {**self.limits, str(creditor): limit}
