"""Redemptions (兑换, 积分抵现): points a merchant takes at its till, refundable in part."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.actor import Actor
from ledger.errors import RefundExceedsRedemption


class Redemption(Aggregate):
    """A member's points taken by a merchant; refunds give some or all of them back."""

    @event("Made")
    def __init__(
        self,
        merchant_id: UUID,
        member_id: UUID,
        community_id: UUID,
        points: int,
        description: str,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.merchant_id = merchant_id
        self.member_id = member_id
        self.community_id = community_id
        self.points = points
        self.description = description
        self.refunded = 0

    @property
    def refundable(self) -> int:
        return self.points - self.refunded

    def refund(self, refund_id: UUID, points: int, by: Actor) -> None:
        if points > self.refundable:
            raise RefundExceedsRedemption(
                f"only {self.refundable} of the {self.points} points are left to refund"
            )
        self._refunded(refund_id=refund_id, points=points, actor_id=by.id,
                       actor_role=by.role.value)

    @event("Refunded")
    def _refunded(self, refund_id: UUID, points: int, actor_id: str, actor_role: str) -> None:
        self.refunded += points
