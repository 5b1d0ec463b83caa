"""Redemptions (兑换, 积分抵现): points a merchant takes at its till, refundable in part.

A refund gives points back to the lots they were taken from, the last taken first; a part
whose lot has expired since is expired again at once, so a refund never lengthens the life of
points (see `Redemption.lots_to_return`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import RefundExceedsRedemption


class Redemption(LedgerAggregate):
    """A member's points taken by a merchant; refunds give some or all of them back."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

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
        lots_taken: list[Any] | None = None,
        hold_id: UUID | None = None,
    ) -> None:
        self.merchant_id = merchant_id
        self.member_id = member_id
        self.community_id = community_id
        self.points = points
        self.description = description
        self.refunded = 0
        self.hold_id = hold_id
        # [lot_id, points, expires_at] still to give back, in the order they were taken
        self.lots_taken: list[Any] = [[i, -d, at] for i, d, at in (lots_taken or [])]

    @classmethod
    def make(cls, *, merchant_id: UUID, member_id: UUID, community_id: UUID, points: int,
             description: str, actor_id: str, actor_role: str,
             lots_taken: list[Any] | None = None, hold_id: UUID | None = None) -> Redemption:
        """`Redemption(...)`, every field given in order straight to `_create`: the same
        event, without the library's mapping of the arguments to `__init__`'s."""
        made: Redemption = cls._create(
            cls.Made,  # type: ignore[attr-defined]
            merchant_id=merchant_id, member_id=member_id, community_id=community_id,
            points=points, description=description, actor_id=actor_id, actor_role=actor_role,
            lots_taken=lots_taken, hold_id=hold_id)
        return made

    @property
    def refundable(self) -> int:
        return self.points - self.refunded

    def check_refund(self, points: int) -> None:
        if points > self.refundable:
            raise RefundExceedsRedemption("refund-exceeds", left=self.refundable,
                                          points=self.points)

    def lots_to_return(self, points: int) -> list[Any]:
        """Lot changes that give `points` back: the last lots taken first."""
        changes: list[Any] = []
        for lot_id, taken, expires_at in reversed(self.lots_taken):
            if points <= 0:
                break
            part = min(taken, points)
            changes.append([lot_id, part, expires_at])
            points -= part
        if points > 0:  # taken beyond the lots (an overdraft): give back without expiry
            changes.append([f"refund:{self.id}", points, None])
        return changes

    def refund(self, refund_id: UUID, points: int, returned: list[Any], by: Actor) -> None:
        self.check_refund(points)
        self._refunded(refund_id=refund_id, points=points, returned=returned, actor_id=by.id,
                       actor_role=by.role_value)

    @event("Refunded")
    def _refunded(
        self, refund_id: UUID, points: int, actor_id: str, actor_role: str,
        returned: list[Any] | None = None,
    ) -> None:
        self.refunded += points
        left = {lot_id: part for lot_id, part, _ in returned or []}
        for entry in reversed(self.lots_taken):
            give_back = min(entry[1], left.get(entry[0], 0))
            entry[1] -= give_back
            left[entry[0]] = left.get(entry[0], 0) - give_back
        self.lots_taken = [e for e in self.lots_taken if e[1] > 0]
