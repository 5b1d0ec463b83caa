"""The household ledger (家庭积分台账): a household's balance and passbook, its members' summed."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.access_log import PersonalReadsDep
from api.deps import LinliDep, PageCursor, PageLimit, StaffAuditorOrMember, visible_household
from api.schemas_reports import (
    HouseholdBalanceOut,
    HouseholdMemberOut,
    HouseholdPassbookLineOut,
    HouseholdPassbookOut,
)
from ledger.domain.assets import Asset
from ledger.limits import PAGE_DEFAULT
from projections import households

router = APIRouter(prefix="/v1/households/{household_id}", tags=["households"])


@router.get("/balance", response_model=HouseholdBalanceOut)
def get_household_balance(
    household_id: UUID, actor: StaffAuditorOrMember, linli: LinliDep,
    reads: PersonalReadsDep,
) -> HouseholdBalanceOut:
    visible_household(linli, actor, household_id)
    figures = households.household_figures(linli.engine, str(household_id))
    reads.record("姓名（户账本）", [m.member_id for m in figures.members])
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
    actor: StaffAuditorOrMember,
    linli: LinliDep,
    asset: Asset = Asset.POINTS,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: PageCursor = None,
) -> HouseholdPassbookOut:
    """Every member's lines, newest first, each naming whose it is."""
    visible_household(linli, actor, household_id)
    lines, next_before = households.household_passbook(
        linli.engine, str(household_id), asset, limit=limit, before=cursor)
    return HouseholdPassbookOut(
        household_id=household_id, asset=asset,
        items=[HouseholdPassbookLineOut(**{k: v for k, v in line.items()
                                           if k in HouseholdPassbookLineOut.model_fields})
               for line in lines],
        next_cursor=str(next_before) if next_before is not None else None,
    )
