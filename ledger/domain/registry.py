"""The registry: communities (with their grids), households, members and merchants."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from ledger.actor import Actor
from ledger.errors import NotFound

DEFAULT_TIME_ZONE = "Asia/Shanghai"


class Community(Aggregate):
    """A residential community (社区): grids, time zone, and the passbook number sequence."""

    @event("Registered")
    def __init__(self, name: str, time_zone: str, actor_id: str, actor_role: str) -> None:
        self.name = name
        self.time_zone = time_zone
        self.grids: dict[str, str] = {}
        self.rule_codes: list[str] = []
        self.passbooks_issued = 0

    @classmethod
    def register(cls, name: str, by: Actor, time_zone: str = DEFAULT_TIME_ZONE) -> Community:
        return cls(name=name, time_zone=time_zone, actor_id=by.id, actor_role=by.role.value)

    @property
    def code(self) -> str:
        """A short prefix for passbook numbers."""
        return self.id.hex[:4].upper()

    def add_grid(self, name: str, by: Actor) -> UUID:
        grid_id = uuid4()
        self._grid_added(grid_id=grid_id, name=name, actor_id=by.id, actor_role=by.role.value)
        return grid_id

    def check_grid(self, grid_id: UUID | None) -> None:
        if grid_id is not None and str(grid_id) not in self.grids:
            raise NotFound(f"grid {grid_id} is not in community {self.id}")

    def next_passbook_number(self) -> str:
        return f"{self.code}-{self.passbooks_issued + 1:06d}"

    def issue_passbook_number(self, member_id: UUID, by: Actor) -> str:
        number = self.next_passbook_number()
        self._passbook_issued(member_id=member_id, passbook_no=number,
                              actor_id=by.id, actor_role=by.role.value)
        return number

    def add_rule_code(self, code: str, by: Actor) -> None:
        if code not in self.rule_codes:
            self._rule_added(code=code, actor_id=by.id, actor_role=by.role.value)

    @event("RuleAdded")
    def _rule_added(self, code: str, actor_id: str, actor_role: str) -> None:
        self.rule_codes.append(code)

    @event("GridAdded")
    def _grid_added(self, grid_id: UUID, name: str, actor_id: str, actor_role: str) -> None:
        self.grids[str(grid_id)] = name

    @event("PassbookIssued")
    def _passbook_issued(
        self, member_id: UUID, passbook_no: str, actor_id: str, actor_role: str
    ) -> None:
        self.passbooks_issued += 1


class Household(Aggregate):
    """A household (户): its members' points add up on the family ledger."""

    @event("Registered")
    def __init__(
        self, community_id: UUID, grid_id: UUID | None, address: str, actor_id: str,
        actor_role: str,
    ) -> None:
        self.community_id = community_id
        self.grid_id = grid_id
        self.address = address


class Member(Aggregate):
    """A resident (居民) with a passbook (积分存折)."""

    @event("Registered")
    def __init__(
        self,
        community_id: UUID,
        name: str,
        household_id: UUID | None,
        grid_id: UUID | None,
        passbook_no: str,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.community_id = community_id
        self.name = name
        self.household_id = household_id
        self.grid_id = grid_id
        self.passbook_no = passbook_no


class Merchant(Aggregate):
    """A merchant (商户) that takes points at its till."""

    @event("Registered")
    def __init__(self, community_id: UUID, name: str, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.name = name
