"""Small wishes (微心愿): a resident (or staff for them) posts a wish, a volunteer claims it,
staff confirm it fulfilled and the claimer earns points under the community's WISH rule.

Residents see their community's wishes with the wishers' names masked."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.bootstrap import Linli
from api.deps import (
    LinliDep,
    StaffActor,
    StaffAuditorOrMember,
    StaffOrMember,
    load,
    readable_community,
    sees_public_only,
)
from api.idempotency import WriteDep
from api.schemas_voice import ClaimIn, WishesOut, WishIn, WishOut, WishStatus
from ledger.actor import Actor, Role
from ledger.commands import wishes as commands
from ledger.commands.wishes import WishState
from ledger.domain.registry import Member
from ledger.domain.wishes import Wish, WishBoard
from ledger.errors import NotFound
from ledger.limits import PAGE_MAX
from ledger.privacy.masking import masked

router = APIRouter(prefix="/v1/wishes", tags=["wishes"])


def wish_out(state: WishState | Wish, linli: Linli, actor: Actor,
             public_view: bool = False) -> WishOut:
    """The wish as `actor` may see it: other residents get the wisher's name masked."""
    public = ((public_view or sees_public_only(actor))
              and (public_view or actor.member_id != state.member_id))
    name = load(linli, Member, state.member_id).name
    claimer = state.claimer_id
    return WishOut(
        id=state.id, community_id=state.community_id,
        member_id=None if public else state.member_id, name=masked(name) if public else name,
        text=state.text, status=state.status,  # type: ignore[arg-type]
        posted_at=state.posted_at, claimer_member_id=claimer,
        claimer_name=load(linli, Member, claimer).name if claimer is not None else None,
        claimed_at=state.claimed_at, fulfilled_at=state.fulfilled_at, points=state.points)


def _render(linli: Linli, actor: Actor) -> Any:
    return lambda state: wish_out(state, linli, actor)


@router.post("", status_code=201, response_model=WishOut)
def post_wish(body: WishIn, actor: StaffOrMember, linli: LinliDep, write: WriteDep
              ) -> Response:
    """Post a small wish (微心愿) for a resident: the resident's own token, or staff."""
    return write.execute(commands.post(body.member_id, body.text, actor, linli.clock()),
                         _render(linli, actor), body)


@router.post("/{wish_id}/claim", response_model=WishOut)
def claim_wish(wish_id: UUID, actor: StaffOrMember, linli: LinliDep, write: WriteDep,
               body: ClaimIn | None = None) -> Response:
    """A volunteer takes the wish on (a member's token for itself, or staff naming them);
    one's own wish, or one already claimed → 409 `invalid-transition`."""
    claimer = body.member_id if body is not None else None
    return write.execute(commands.claim(wish_id, claimer, actor, linli.clock()),
                         _render(linli, actor), body)


@router.post("/{wish_id}/fulfil", response_model=WishOut)
def fulfil_wish(wish_id: UUID, actor: StaffActor, linli: LinliDep, write: WriteDep
                ) -> Response:
    """Staff confirm the wish fulfilled; the claimer earns the WISH rule's points."""
    return write.execute(commands.fulfil(wish_id, actor, linli.clock()),
                         _render(linli, actor))


def _community_of(linli: Linli, actor: Actor, community_id: UUID | None) -> UUID:
    if actor.role is Role.MEMBER:
        assert actor.member_id is not None
        own = load(linli, Member, actor.member_id).community_id
        if community_id is not None and community_id != own:
            raise NotFound("not-found", thing="community")
        return own
    return UUID(readable_community(linli, actor, community_id)["community_id"])


@router.get("", response_model=WishesOut)
def list_wishes(actor: StaffAuditorOrMember, linli: LinliDep,
                community_id: UUID | None = None, status: WishStatus | None = None,
                limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
                public: Annotated[bool, Query(description="As the hall screen shows them: "
                                              "every name masked.")] = False) -> WishesOut:
    """The community's wishes, newest first; `status=open` for the wall of open wishes."""
    community = _community_of(linli, actor, community_id)
    try:
        board = load(linli, WishBoard, WishBoard.create_id(community))
    except NotFound:
        return WishesOut(items=[])
    items: list[WishOut] = []
    for wish_id in reversed(board.wish_ids):
        wish = load(linli, Wish, wish_id)
        if status is None or wish.status == status:
            items.append(wish_out(wish, linli, actor, public))
            if len(items) == limit:
                break
    return WishesOut(items=items)


@router.get("/{wish_id}", response_model=WishOut)
def get_wish(wish_id: UUID, actor: StaffAuditorOrMember, linli: LinliDep) -> WishOut:
    """One wish."""
    wish = load(linli, Wish, wish_id)
    if actor.role is Role.MEMBER:
        _community_of(linli, actor, wish.community_id)
    else:
        actor.check_community(wish.community_id, "wish", wish_id)
    return wish_out(wish, linli, actor)
