"""Small wishes (微心愿): a resident (or staff for them) posts one, a volunteer claims it,
staff confirm it fulfilled; the claimer earns points under the community's `WISH` rule where
the rulebook has one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.commands import points
from ledger.commands.batches import triggered
from ledger.domain.registry import Community, Member
from ledger.domain.wishes import WISH_RULE, Wish, WishBoard
from ledger.errors import DomainError, NotFound
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class WishState:
    """A wish as a step left it."""

    id: UUID
    community_id: UUID
    member_id: UUID
    text: str
    status: str
    posted_at: datetime
    claimer_id: UUID | None
    claimed_at: datetime | None
    fulfilled_at: datetime | None
    points: int
    award_id: UUID | None

    @classmethod
    def of(cls, wish: Wish) -> WishState:
        return cls(wish.id, wish.community_id, wish.member_id, wish.text, wish.status,
                   wish.posted_at, wish.claimer_id, wish.claimed_at, wish.fulfilled_at,
                   wish.points, wish.award_id)


Command = Callable[[UnitOfWork], WishState]


def post(member_id: UUID, text: str, by: Actor, now: datetime) -> Command:
    """Post a wish for a resident: their own token, or staff of their community."""

    def command(uow: UnitOfWork) -> WishState:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        by.check_member(member_id, "member", member_id)
        member.check_active()
        board = uow.find(WishBoard, WishBoard.create_id(member.community_id))
        if board is None:
            board = WishBoard(community_id=member.community_id, actor_id=by.id,
                              actor_role=by.role_value)
            uow.add(board)
        wish = Wish(community_id=member.community_id, member_id=member_id, text=text, at=now,
                    actor_id=by.id, actor_role=by.role_value)
        uow.add(wish)
        board.pin(wish.id, by)
        return WishState.of(wish)

    return command


def _wish(uow: UnitOfWork, wish_id: UUID, by: Actor) -> Wish:
    """The wish, if `by` is of its community (a member of it, or its staff)."""
    wish = uow.get(Wish, wish_id)
    if by.role is Role.MEMBER:
        if by.member_id is None or uow.get(Member, by.member_id).community_id != \
                wish.community_id:
            raise NotFound("not-found", thing="wish")
    else:
        by.check_community(wish.community_id, "wish", wish_id)
    return wish


def claim(wish_id: UUID, claimer_id: UUID | None, by: Actor, now: datetime) -> Command:
    """A volunteer takes the wish on: a member's own token, or staff naming the volunteer."""

    def command(uow: UnitOfWork) -> WishState:
        wish = _wish(uow, wish_id, by)
        volunteer_id = by.member_id if by.role is Role.MEMBER else claimer_id
        if volunteer_id is None:
            raise NotFound("not-found", thing="member")
        volunteer = uow.get(Member, volunteer_id)
        if volunteer.community_id != wish.community_id:
            raise NotFound("not-found", thing="member")
        volunteer.check_active()
        wish.claim(volunteer_id, now, by)
        return WishState.of(wish)

    return command


def fulfil(wish_id: UUID, by: Actor, now: datetime) -> Command:
    """Staff confirm the wish fulfilled; the claimer earns the `WISH` rule's points once,
    within its caps (no rule, or no room: fulfilled without points)."""

    def command(uow: UnitOfWork) -> WishState:
        wish = _wish(uow, wish_id, by)
        wish.check_claimed()
        assert wish.claimer_id is not None
        community = uow.get(Community, wish.community_id)
        award_id, earned = None, 0
        if WISH_RULE in community.rule_codes:
            before = triggered(uow)
            try:
                made = points.award(wish.claimer_id, WISH_RULE, quantity=1, minutes=None,
                                    occurred_at=now, note=f"微心愿：{wish.text}"[:500],
                                    now=now, by=by)(uow)
                award_id, earned = made.id, made.points
            except DomainError:
                if triggered(uow) != before:
                    raise
        wish.fulfil(now, award_id, earned, by)
        return WishState.of(wish)

    return command
