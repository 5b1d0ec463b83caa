"""Buildings (楼栋) between grid and household, each with a leader (楼栋长): a community's
register of them, so each building keeps its own ledger and board (一楼栋一账本)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import AlreadyExists, NotFound


class BuildingRegister(LedgerAggregate):
    """A community's buildings: each an id, a name, its grid and its leader."""

    @staticmethod
    def create_id(community_id: UUID) -> UUID:
        return uuid5(ids.LINLI_NAMESPACE, f"building-register:{community_id}")

    @event("Opened")
    def __init__(self, community_id: UUID, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.buildings: dict[str, dict[str, Any]] = {}

    def building(self, building_id: UUID) -> dict[str, Any]:
        found = self.buildings.get(str(building_id))
        if found is None:
            raise NotFound("not-found", thing="building")
        return found

    def add(self, name: str, grid_id: UUID, leader_member_id: UUID | None, by: Actor) -> UUID:
        """Add a building; refused when the grid has one of that name."""
        if any(b["name"] == name and b["grid_id"] == grid_id for b in self.buildings.values()):
            raise AlreadyExists("building-exists", name=name)
        building_id = ids.new_id()
        self._added(building_id=building_id, name=name, grid_id=grid_id,
                    leader_member_id=leader_member_id, actor_id=by.id, actor_role=by.role_value)
        return building_id

    def set_leader(self, building_id: UUID, leader_member_id: UUID | None, by: Actor) -> None:
        self.building(building_id)
        self._leader_set(building_id=building_id, leader_member_id=leader_member_id,
                         actor_id=by.id, actor_role=by.role_value)

    @event("BuildingAdded")
    def _added(self, building_id: UUID, name: str, grid_id: UUID,
               leader_member_id: UUID | None, actor_id: str, actor_role: str) -> None:
        self.buildings[str(building_id)] = {"id": building_id, "name": name, "grid_id": grid_id,
                                            "leader_member_id": leader_member_id}

    @event("LeaderSet")
    def _leader_set(self, building_id: UUID, leader_member_id: UUID | None, actor_id: str,
                    actor_role: str) -> None:
        self.buildings[str(building_id)]["leader_member_id"] = leader_member_id
