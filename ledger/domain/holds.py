"""Holds (预授权): a till authorises points, then captures some or all of them, or voids them.
An unused hold expires at `expires_at` and its points are released."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import CaptureExceedsHold, HoldAlreadyCaptured, HoldExpired, HoldVoided


class HoldStatus(StrEnum):
    HELD = "held"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


class Hold(LedgerAggregate):
    """Points of one member reserved for one merchant until captured, voided or expired;
    `description` (what is being bought) goes on the redemption a capture makes."""

    description: str = ""  # a class default: holds placed before it existed have none

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Placed")
    def __init__(
        self,
        merchant_id: UUID,
        member_id: UUID,
        community_id: UUID,
        points: int,
        expires_at: datetime,
        actor_id: str,
        actor_role: str,
        description: str = "",
    ) -> None:
        self.merchant_id = merchant_id
        self.member_id = member_id
        self.community_id = community_id
        self.points = points
        self.expires_at = expires_at
        self.status = HoldStatus.HELD.value
        self.redemption_id: UUID | None = None
        self.captured = 0
        self.description = description

    def is_due(self, now: datetime) -> bool:
        return self.status == HoldStatus.HELD and now >= self.expires_at

    def check_capture(self, points: int, now: datetime) -> None:
        """Refuse a capture that cannot happen; nothing is triggered."""
        self._check_open(now, step="capture")
        if points > self.points:
            raise CaptureExceedsHold("capture-exceeds", points=self.points, asked=points)

    def _check_open(self, now: datetime, step: str) -> None:
        if self.status == HoldStatus.CAPTURED:
            raise HoldAlreadyCaptured("hold-captured", step=step, redemption=self.redemption_id)
        if self.status == HoldStatus.VOIDED:
            raise HoldVoided("hold-voided", step=step)
        if self.status == HoldStatus.EXPIRED or now >= self.expires_at:
            raise HoldExpired("hold-expired", step=step, at=self.expires_at.isoformat())

    def capture(self, redemption_id: UUID, points: int, now: datetime, by: Actor) -> None:
        self.check_capture(points, now)
        self._captured(redemption_id=redemption_id, points=points, actor_id=by.id,
                       actor_role=by.role_value)

    def void(self, now: datetime, by: Actor) -> bool:
        """Void the hold; False when it was already voided (a retry changes nothing)."""
        if self.status == HoldStatus.VOIDED:
            return False
        self._check_open(now, step="void")
        self._voided(actor_id=by.id, actor_role=by.role_value)
        return True

    def expire(self, now: datetime, by: Actor) -> bool:
        if not self.is_due(now):
            return False
        self._expired(actor_id=by.id, actor_role=by.role_value)
        return True

    @event("Captured")
    def _captured(self, redemption_id: UUID, points: int, actor_id: str, actor_role: str) -> None:
        self.status = HoldStatus.CAPTURED.value
        self.redemption_id = redemption_id
        self.captured = points

    @event("Voided")
    def _voided(self, actor_id: str, actor_role: str) -> None:
        self.status = HoldStatus.VOIDED.value

    @event("Expired")
    def _expired(self, actor_id: str, actor_role: str) -> None:
        self.status = HoldStatus.EXPIRED.value
