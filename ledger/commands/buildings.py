"""Buildings (楼栋): staff add a community's buildings with their leaders (楼栋长) and put
households in them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from ledger.actor import Actor
from ledger.domain.buildings import BuildingRegister
from ledger.domain.registry import Community, Member
from ledger.errors import NotFound
from ledger.write.unit_of_work import UnitOfWork


def building_of_community(uow: UnitOfWork, community_id: UUID, building_id: UUID
                          ) -> dict[str, Any]:
    """The building, if it is one of the community's; not found otherwise."""
    register = uow.find(BuildingRegister, BuildingRegister.create_id(community_id))
    if register is None:
        raise NotFound("not-found", thing="building")
    return register.building(building_id)


def _leader(uow: UnitOfWork, community_id: UUID, leader_member_id: UUID | None) -> None:
    if leader_member_id is None:
        return
    leader = uow.get(Member, leader_member_id)
    if leader.community_id != community_id:
        raise NotFound("not-found", thing="member")
    leader.check_active()


def add_building(community_id: UUID, name: str, grid_id: UUID, leader_member_id: UUID | None,
                 by: Actor) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Add a building to a grid of the community, with its leader (a member of it)."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        community.check_grid(grid_id)
        _leader(uow, community_id, leader_member_id)
        register = uow.find(BuildingRegister, BuildingRegister.create_id(community_id))
        if register is None:
            register = BuildingRegister(community_id=community_id, actor_id=by.id,
                                        actor_role=by.role_value)
            uow.add(register)
        building_id = register.add(name, grid_id, leader_member_id, by)
        return {**register.building(building_id), "community_id": community_id}

    return command


def set_leader(community_id: UUID, building_id: UUID, leader_member_id: UUID | None,
               by: Actor) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Name the building's leader (楼栋长), or none."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        building_of_community(uow, community_id, building_id)
        _leader(uow, community_id, leader_member_id)
        register = uow.get(BuildingRegister, BuildingRegister.create_id(community_id))
        register.set_leader(building_id, leader_member_id, by)
        return {**register.building(building_id), "community_id": community_id}

    return command
