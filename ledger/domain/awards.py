"""Awards (积分发放): points for a good deed under a rule, pending until approved where needed;
once posted, reversed in whole or in parts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import AwardAlreadyReversed, InvalidTransition, ReversalExceedsAward


class AwardStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Award(LedgerAggregate):
    """An award of points to a member: recorded, then approved, rejected or reversed (in
    parts that add up to at most its points; it is `reversed` when nothing is left).
    `requested_points` is what the rule gave before a cap cut it."""

    # Class defaults: awards stored before these were kept.
    reversed_points: int = 0
    requested_points: int | None = None
    recorded_by: str | None = None

    imported_from: str | None = None  # a class default: awards recorded before imports

    @staticmethod
    def create_id(imported_from: str | None = None) -> UUID:
        """A new time-ordered id; for a row of an import, the row's own (so a retry finds it)."""
        return ids.imported_id(imported_from) if imported_from else ids.new_id()

    @event("Recorded")
    def __init__(
        self,
        member_id: UUID,
        community_id: UUID,
        rule_code: str,
        rule_version: int,
        quantity: int | None,
        minutes: int | None,
        points: int,
        status: str,
        occurred_at: datetime,
        cap_keys: list[str],
        note: str,
        actor_id: str,
        actor_role: str,
        requested_points: int | None = None,
        imported_from: str | None = None,
    ) -> None:
        self.member_id = member_id
        self.community_id = community_id
        self.rule_code = rule_code
        self.rule_version = rule_version
        self.quantity = quantity
        self.minutes = minutes
        self.points = points
        self.status = status
        self.occurred_at = occurred_at
        self.cap_keys = cap_keys
        self.note = note
        self.reason: str | None = None
        self.recorded_by = actor_id
        self.requested_points = requested_points
        self.imported_from = imported_from

    @classmethod
    def make(cls, *, member_id: UUID, community_id: UUID, rule_code: str, rule_version: int,
             quantity: int | None, minutes: int | None, points: int, status: str,
             occurred_at: datetime, cap_keys: list[str], note: str, actor_id: str,
             actor_role: str, requested_points: int | None = None,
             imported_from: str | None = None, id: UUID | None = None,  # noqa: A002
             ) -> Award:
        """`Award(...)`, every field given in order straight to `_create`: the same event,
        without the library's mapping of the arguments to `__init__`'s."""
        made: Award = cls._create(
            cls.Recorded,  # type: ignore[attr-defined]
            id=id, member_id=member_id, community_id=community_id, rule_code=rule_code,
            rule_version=rule_version, quantity=quantity, minutes=minutes, points=points,
            status=status, occurred_at=occurred_at, cap_keys=cap_keys, note=note,
            actor_id=actor_id, actor_role=actor_role, requested_points=requested_points,
            imported_from=imported_from)
        return made

    @property
    def points_left(self) -> int:
        """Points of a posted award not yet reversed."""
        return self.points - self.reversed_points

    @property
    def capped(self) -> bool:
        return self.requested_points is not None and self.requested_points > self.points

    def _require(self, *allowed: AwardStatus, step: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition("award-state", step=step, status=self.status)

    def approve(self, by: Actor) -> None:
        self._require(AwardStatus.PENDING, step="approve")
        self._approved(actor_id=by.id, actor_role=by.role_value)

    def reject(self, reason: str, by: Actor) -> None:
        self._require(AwardStatus.PENDING, step="reject")
        self._rejected(reason=reason, actor_id=by.id, actor_role=by.role_value)

    def check_reversal(self, points: int | None) -> int:
        """The points a reversal of `points` (None: all that is left) takes back; refuses
        one of an award not posted, or of more than is left."""
        if self.status == AwardStatus.REVERSED:
            raise AwardAlreadyReversed("award-reversed")
        self._require(AwardStatus.POSTED, step="reverse")
        amount = self.points_left if points is None else points
        if amount > self.points_left:
            raise ReversalExceedsAward("reversal-exceeds", left=self.points_left, asked=amount)
        return amount

    def reverse(self, reason: str, by: Actor, points: int | None = None) -> int:
        """Reverse `points` (all that is left by default); returns how many."""
        amount = self.check_reversal(points)
        self._reversed(reason=reason, actor_id=by.id, actor_role=by.role_value, points=amount)
        return amount

    @event("Approved")
    def _approved(self, actor_id: str, actor_role: str) -> None:
        self.status = AwardStatus.POSTED.value

    @event("Rejected")
    def _rejected(self, reason: str, actor_id: str, actor_role: str) -> None:
        self.status = AwardStatus.REJECTED.value
        self.reason = reason

    @event("Reversed")
    def _reversed(self, reason: str, actor_id: str, actor_role: str,
                  points: int | None = None) -> None:
        self.reversed_points += self.points_left if points is None else points
        if self.reversed_points >= self.points:
            self.status = AwardStatus.REVERSED.value
        self.reason = reason
