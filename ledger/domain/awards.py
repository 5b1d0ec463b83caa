"""Awards (积分发放): points for a good deed under a rule, pending until approved where needed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidTransition


class AwardStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Award(LedgerAggregate):
    """An award of points to a member: recorded, then approved, rejected or reversed."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

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

    def _require(self, *allowed: AwardStatus, step: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"cannot {step} an award that is {self.status}")

    def approve(self, by: Actor) -> None:
        self._require(AwardStatus.PENDING, step="approve")
        self._approved(actor_id=by.id, actor_role=by.role_value)

    def reject(self, reason: str, by: Actor) -> None:
        self._require(AwardStatus.PENDING, step="reject")
        self._rejected(reason=reason, actor_id=by.id, actor_role=by.role_value)

    def reverse(self, reason: str, by: Actor) -> None:
        self._require(AwardStatus.POSTED, step="reverse")
        self._reversed(reason=reason, actor_id=by.id, actor_role=by.role_value)

    @event("Approved")
    def _approved(self, actor_id: str, actor_role: str) -> None:
        self.status = AwardStatus.POSTED.value

    @event("Rejected")
    def _rejected(self, reason: str, actor_id: str, actor_role: str) -> None:
        self.status = AwardStatus.REJECTED.value
        self.reason = reason

    @event("Reversed")
    def _reversed(self, reason: str, actor_id: str, actor_role: str) -> None:
        self.status = AwardStatus.REVERSED.value
        self.reason = reason
