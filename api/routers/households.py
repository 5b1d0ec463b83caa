"""The household ledger (家庭积分台账): a household's balance and passbook, its members' summed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from api.auth import require_role
from api.bootstrap import Linli
from api.deps import ActorDep, LinliDep, PageCursor, PageLimit
from api.routers.common import caught_up
from api.schemas_reports import (
    HouseholdBalanceOut,
    HouseholdMemberOut,
    HouseholdPassbookLineOut,
    HouseholdPassbookOut,
)
from ledger.actor import Actor, Role
from ledger.domain.assets import Asset
from ledger.errors import NotFound
from ledger.limits import PAGE_DEFAULT
from projections import households, registry_view

router = APIRouter(prefix="/v1/households/{household_id}", tags=["households"])


def visible_household(linli: Linli, actor: Actor, household_id: UUID) -> dict[str, Any]:
    """The household, if the actor may see it: staff and auditors of its community, admins,
    and its own members. 404 otherwise (never another's data). Call after `caught_up`."""
    found = registry_view.household(linli.engine, str(household_id))
    if found is None:
        raise NotFound(f"household {household_id} was not found")
    actor.check_community(UUID(found["community_id"]), "household", household_id)
    if actor.member_id is not None:
        members = registry_view.household_members(linli.engine, str(household_id))
        if str(actor.member_id) not in {m["member_id"] for m in members}:
            raise NotFound(f"household {household_id} was not found")
    return found


@router.get("/balance", response_model=HouseholdBalanceOut)
def get_household_balance(
    household_id: UUID, actor: ActorDep, linli: LinliDep
) -> HouseholdBalanceOut:
    require_role(actor, Role.STAFF, Role.AUDITOR, Role.MEMBER)
    caught_up(linli)
    visible_household(linli, actor, household_id)
    figures = households.household_figures(linli.engine, str(household_id))
    return HouseholdBalanceOut(
        household_id=household_id, points=figures.points, points_held=figures.points_held,
        points_available=figures.points - figures.points_held, minutes=figures.minutes,
        points_earned=figures.points_earned, minutes_earned=figures.minutes_earned,
        members=[HouseholdMemberOut(
            member_id=UUID(m.member_id), name=m.name, passbook_no=m.passbook_no,
            points=m.points, points_held=m.points_held, points_earned=m.points_earned,
            minutes=m.minutes, minutes_earned=m.minutes_earned) for m in figures.members],
    )


@router.get("/passbook", response_model=HouseholdPassbookOut)
def get_household_passbook(
    household_id: UUID,
    actor: ActorDep,
    linli: LinliDep,
    asset: Asset = Asset.POINTS,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: PageCursor = None,
) -> HouseholdPassbookOut:
    """Every member's lines, newest first, each naming whose it is."""
    require_role(actor, Role.STAFF, Role.AUDITOR, Role.MEMBER)
    before = cursor
    caught_up(linli)
    visible_household(linli, actor, household_id)
    lines, next_before = households.household_passbook(
        linli.engine, str(household_id), asset, limit=limit, before=before)
    return HouseholdPassbookOut(
        household_id=household_id, asset=asset,
        items=[HouseholdPassbookLineOut(**{k: v for k, v in line.items()
                                           if k in HouseholdPassbookLineOut.model_fields})
               for line in lines],
        next_cursor=str(next_before) if next_before is not None else None,
    )
