"""Buildings (楼栋) between grid and household, each with a leader (楼栋长), and the building's
ledger (一楼栋一账本): its households' points and hours. A building's board is
`GET /v1/leaderboards?building_id=`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.bootstrap import Linli
from api.deps import (
    LinliDep,
    StaffAuditorOrMemberCommunity,
    StaffOfPathCommunity,
    StaffOrAuditorCommunity,
    caught_up,
    check_building,
    load,
)
from api.idempotency import WriteDep
from api.schemas_voice import (
    BuildingHouseholdOut,
    BuildingIn,
    BuildingLedgerOut,
    BuildingOut,
    BuildingPatch,
    BuildingsOut,
)
from ledger.commands import buildings as commands
from ledger.domain.buildings import BuildingRegister
from ledger.domain.registry import Member
from ledger.errors import NotFound
from ledger.limits import PAGE_MAX
from projections import households, registry_lists

router = APIRouter(prefix="/v1/communities/{community_id}/buildings", tags=["buildings"])


def building_out(entry: dict[str, Any], community_id: UUID, linli: Linli) -> BuildingOut:
    leader = entry["leader_member_id"]
    return BuildingOut(id=entry["id"], community_id=community_id, name=entry["name"],
                       grid_id=entry["grid_id"], leader_member_id=leader,
                       leader_name=load(linli, Member, leader).name if leader else None)


@router.post("", status_code=201, response_model=BuildingOut)
def add_building(community_id: UUID, body: BuildingIn, actor: StaffOfPathCommunity,
                 linli: LinliDep, write: WriteDep) -> Response:
    """Add a building to a grid of the community, with its leader (楼栋长) if named."""
    return write.execute(commands.add_building(community_id, body.name, body.grid_id,
                                               body.leader_member_id, actor),
                         lambda entry: building_out(entry, community_id, linli), body)


@router.patch("/{building_id}", response_model=BuildingOut)
def change_building(community_id: UUID, building_id: UUID, body: BuildingPatch,
                    actor: StaffOfPathCommunity, linli: LinliDep, write: WriteDep) -> Response:
    """Name the building's leader (or none)."""
    return write.execute(commands.set_leader(community_id, building_id, body.leader_member_id,
                                             actor),
                         lambda entry: building_out(entry, community_id, linli), body)


@router.get("", response_model=BuildingsOut)
def list_buildings(community: StaffAuditorOrMemberCommunity, linli: LinliDep) -> BuildingsOut:
    """The community's buildings, in the order they were added."""
    try:
        register = load(linli, BuildingRegister, BuildingRegister.create_id(community.id))
    except NotFound:
        return BuildingsOut(items=[])
    return BuildingsOut(items=[building_out(b, community.id, linli)
                               for b in register.buildings.values()])


@router.get("/{building_id}/ledger", response_model=BuildingLedgerOut)
def building_ledger(building_id: UUID, community: StaffOrAuditorCommunity, linli: LinliDep
                    ) -> BuildingLedgerOut:
    """一楼栋一账本: the building's households with their points and hours, and the sums."""
    entry = check_building(linli, community.id, building_id)
    caught_up(linli)
    page = registry_lists.households(linli.engine, str(community.id), None, None, PAGE_MAX,
                                     str(building_id))
    rows = []
    for household in page.items:
        figures = households.household_figures(linli.engine, household["household_id"])
        rows.append(BuildingHouseholdOut(
            household_id=household["household_id"], address=household["address"],
            points=figures.points, points_earned=figures.points_earned,
            minutes=figures.minutes, minutes_earned=figures.minutes_earned))
    return BuildingLedgerOut(
        **building_out(entry, community.id, linli).model_dump(), households=rows,
        points=sum(r.points for r in rows), points_earned=sum(r.points_earned for r in rows),
        minutes=sum(r.minutes for r in rows), minutes_earned=sum(r.minutes_earned for r in rows))
