"""Small wishes (微心愿): a resident posts a wish, a volunteer claims it, staff confirm it
fulfilled and the volunteer earns points under the community's wish rule."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidTransition

WISH_RULE = "WISH"  # the rulebook's code for a fulfilled wish


class WishStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"


class Wish(LedgerAggregate):
    """One wish: who posted it, its text, who claimed it, and when each step was taken."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Posted")
    def __init__(self, community_id: UUID, member_id: UUID, text: str, at: datetime,
                 actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.member_id = member_id
        self.text = text
        self.posted_at = at
        self.status = WishStatus.OPEN.value
        self.claimer_id: UUID | None = None
        self.claimed_at: datetime | None = None
        self.fulfilled_at: datetime | None = None
        self.award_id: UUID | None = None
        self.points = 0

    def claim(self, claimer_id: UUID, at: datetime, by: Actor) -> None:
        """Take the wish on; refused for one's own wish and for a wish no longer open."""
        if self.status != WishStatus.OPEN:
            raise InvalidTransition("wish-not-open", status=self.status)
        if claimer_id == self.member_id:
            raise InvalidTransition("own-wish")
        self._claimed(claimer_id=claimer_id, at=at, actor_id=by.id, actor_role=by.role_value)

    def check_claimed(self) -> None:
        if self.status != WishStatus.CLAIMED:
            raise InvalidTransition("wish-not-claimed", status=self.status)

    def fulfil(self, at: datetime, award_id: UUID | None, points: int, by: Actor) -> None:
        self.check_claimed()
        self._fulfilled(at=at, award_id=award_id, points=points, actor_id=by.id,
                        actor_role=by.role_value)

    @event("Claimed")
    def _claimed(self, claimer_id: UUID, at: datetime, actor_id: str, actor_role: str) -> None:
        self.status = WishStatus.CLAIMED.value
        self.claimer_id = claimer_id
        self.claimed_at = at

    @event("Fulfilled")
    def _fulfilled(self, at: datetime, award_id: UUID | None, points: int, actor_id: str,
                   actor_role: str) -> None:
        self.status = WishStatus.FULFILLED.value
        self.fulfilled_at = at
        self.award_id = award_id
        self.points = points


class WishBoard(LedgerAggregate):
    """A community's wishes, in the order they were posted."""

    @staticmethod
    def create_id(community_id: UUID) -> UUID:
        return uuid5(ids.LINLI_NAMESPACE, f"wish-board:{community_id}")

    @event("Opened")
    def __init__(self, community_id: UUID, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.wish_ids: list[UUID] = []

    def pin(self, wish_id: UUID, by: Actor) -> None:
        self._pinned(wish_id=wish_id, actor_id=by.id, actor_role=by.role_value)

    @event("Pinned")
    def _pinned(self, wish_id: UUID, actor_id: str, actor_role: str) -> None:
        self.wish_ids.append(wish_id)
