"""The time bank (时间银行): service deposits, and what communities owe each other when one's
members receive care from another's volunteers (通存通兑). The policy is in `policy`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import CreditLimitReached


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
    `open_months` holds what is due by the month (in the district's time zone) the care was
    recorded in, until a district settlement takes those months off.
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

    def record_care(self, debtor: UUID, minutes: int, withdrawal_id: UUID, by: Actor,
                    month: str | None = None) -> None:
        """`debtor`'s member received `minutes` of care from the other's volunteer (or at
        the other's service counter), recorded in `month`."""
        after = self.owed_by(debtor) + minutes
        limit = self.limit_for(debtor)
        if limit is not None and minutes > 0 and after > limit:
            raise CreditLimitReached("credit-limit", after=after, limit=limit)
        self._care_recorded(debtor=debtor, minutes=minutes, withdrawal_id=withdrawal_id,
                            due_after=after if debtor == self.first else -after,
                            actor_id=by.id, actor_role=by.role_value, month=month)

    @property
    def open_months(self) -> dict[str, int]:
        """What is due by month, not settled yet (empty for pairs opened before months were
        kept)."""
        found: dict[str, int] = getattr(self, "months_open", {})
        return found

    def due_in(self, months: list[str]) -> int:
        """What `first` owes `second` for care recorded in `months`, net."""
        return sum(self.open_months.get(m, 0) for m in months)

    def settle(self, settlement_id: UUID, months: list[str], by: Actor) -> int:
        """Take what is due for `months` off (a district settled it); what `first` owed."""
        minutes = self.due_in(months)
        settled = [m for m in months if m in self.open_months]
        if settled:
            self._settled(settlement_id=settlement_id, months=settled, minutes=minutes,
                          due_after=self.due - minutes, actor_id=by.id,
                          actor_role=by.role_value)
        return minutes

    def set_limit(self, creditor: UUID, limit: int | None, by: Actor) -> None:
        self._limit_set(creditor=creditor, limit=limit, actor_id=by.id,
                        actor_role=by.role_value)

    @event("CareRecorded")
    def _care_recorded(self, debtor: UUID, minutes: int, withdrawal_id: UUID, due_after: int,
                       actor_id: str, actor_role: str, month: str | None = None) -> None:
        if month is not None:
            signed = minutes if debtor == self.first else -minutes
            self.months_open = {**self.open_months,
                                month: self.open_months.get(month, 0) + signed}
        self.due = due_after

    @event("Settled")
    def _settled(self, settlement_id: UUID, months: list[str], minutes: int, due_after: int,
                 actor_id: str, actor_role: str) -> None:
        self.months_open = {m: v for m, v in self.open_months.items() if m not in months}
        self.due = due_after

    @event("LimitSet")
    def _limit_set(self, creditor: UUID, limit: int | None, actor_id: str,
                   actor_role: str) -> None:
        self.limits = {**self.limits, str(creditor): limit}
