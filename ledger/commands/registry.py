"""Registering communities, grids, households, members, merchants; the rulebook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ledger import ids
from ledger.actor import Actor
from ledger.commands.buildings import building_of_community
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.care import CareRoster
from ledger.domain.registry import (
    DEFAULT_TIME_ZONE,
    Community,
    Directory,
    Household,
    Member,
    Merchant,
)
from ledger.domain.rulebook import Rule
from ledger.errors import InvalidRequest, NotFound
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Registered:
    id: UUID
    passbook_no: str | None = None
    grid_id: UUID | None = None  # a household's grid (its building's, when only that is named)


def register_community(
    name: str, by: Actor, time_zone: str = DEFAULT_TIME_ZONE
) -> Callable[[UnitOfWork], Registered]:
    def command(uow: UnitOfWork) -> Registered:
        directory = uow.find(Directory, ids.DIRECTORY_ID)
        if directory is None:
            directory = Directory()
            uow.add(directory)
        community = Community.register(name, directory.next_number, by, time_zone)
        directory.number(community.id, by)
        uow.add(community)
        return Registered(community.id)

    return command


def add_grid(community_id: UUID, name: str, by: Actor) -> Callable[[UnitOfWork], Registered]:
    def command(uow: UnitOfWork) -> Registered:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        return Registered(community.add_grid(name, by))

    return command


def register_household(
    community_id: UUID, grid_id: UUID | None, address: str, by: Actor,
    building_id: UUID | None = None,
) -> Callable[[UnitOfWork], Registered]:
    """Register a household, in a grid and (optionally) a building of it; a building alone
    brings its grid."""

    def command(uow: UnitOfWork) -> Registered:
        by.check_community(community_id, "community", community_id)
        uow.get(Community, community_id).check_grid(grid_id)
        grid = _grid_of_building(uow, community_id, building_id, grid_id)
        household = Household(community_id=community_id, grid_id=grid, address=address,
                              actor_id=by.id, actor_role=by.role_value)
        uow.add(household)
        if building_id is not None:
            household.move_to_building(building_id, "", by)
        return Registered(household.id, grid_id=grid)

    return command


def register_member(
    community_id: UUID, name: str, household_id: UUID | None, grid_id: UUID | None, by: Actor
) -> Callable[[UnitOfWork], Registered]:
    def command(uow: UnitOfWork) -> Registered:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        community.check_grid(grid_id)
        resolved_grid = grid_id
        if household_id is not None:
            household = uow.get(Household, household_id)
            by.check_community(household.community_id, "household", household_id)
            if household.community_id != community_id:
                raise NotFound("household-not-in-community")
            resolved_grid = grid_id or household.grid_id
        member = Member(community_id=community_id, name=name, household_id=household_id,
                        grid_id=resolved_grid, passbook_no=community.next_passbook_number(),
                        actor_id=by.id, actor_role=by.role_value)
        passbook_no = community.issue_passbook_number(member.id, by)
        assert passbook_no == member.passbook_no
        uow.add(member, *(
            Account.open(member.id, OwnerKind.MEMBER, community_id, asset, by) for asset in Asset
        ))
        return Registered(member.id, passbook_no)

    return command


@dataclass(frozen=True)
class DisplayChoice:
    member_id: UUID
    opted_out: bool


def set_public_display(
    member_id: UUID, opted_out: bool, by: Actor
) -> Callable[[UnitOfWork], DisplayChoice]:
    """Opt a member out of (or back into) public display (公示). Staff of the member's
    community, an admin, or the member through its own token may do it."""

    def command(uow: UnitOfWork) -> DisplayChoice:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        by.check_member(member_id, "member", member_id)
        if opted_out:
            member.opt_out(by)
        else:
            member.opt_in(by)
        return DisplayChoice(member.id, member.opted_out)

    return command


def register_merchant(
    community_id: UUID, name: str, by: Actor
) -> Callable[[UnitOfWork], Registered]:
    def command(uow: UnitOfWork) -> Registered:
        by.check_community(community_id, "community", community_id)
        uow.get(Community, community_id)
        merchant = Merchant(community_id=community_id, name=name, actor_id=by.id,
                            actor_role=by.role_value)
        account = Account.open(merchant.id, OwnerKind.MERCHANT, community_id, Asset.POINTS, by)
        uow.add(merchant, account)
        return Registered(merchant.id)

    return command


def put_rule(
    community_id: UUID,
    code: str,
    *,
    name: str,
    points: int,
    unit: str,
    daily_cap: int | None,
    monthly_cap: int | None,
    requires_approval: bool,
    by: Actor,
    now: datetime | None = None,
) -> Callable[[UnitOfWork], dict[str, Any]]:
    """A new version of a rule, in force from `now` (deeds done before keep the version in
    force then; without `now`, from the start); it brings back a retired rule."""
    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        rule = uow.find(Rule, ids.rule_id(community_id, code))
        if rule is None:
            rule = Rule.create(community_id, code, by)
            uow.add(rule)
            community.add_rule_code(code, by)
        rule.revise(name=name, points=points, unit=unit, daily_cap=daily_cap,
                    monthly_cap=monthly_cap, requires_approval=requires_approval, by=by,
                    effective_at=now)
        return {"code": code, **rule.current, "retired": rule.retired}

    return command


def retire_rule(community_id: UUID, code: str, reason: str, by: Actor,
                now: datetime) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Retire a rule: no award under it until a new version brings it back."""
    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        rule = uow.find(Rule, ids.rule_id(community_id, code))
        if rule is None or not rule.versions:
            raise NotFound("rule-not-in-rulebook", code=code)
        rule.retire(reason, by, now)
        return {"code": code, **rule.current, "retired": rule.retired}

    return command


# --- changes to the registry (each an event naming who, when and why) ------------------------
class Unchanged:
    """The value of a field a change leaves as it is."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = Unchanged()


def change_member(
    member_id: UUID, by: Actor, *, name: str = UNCHANGED, household_id: UUID | None = UNCHANGED,
    grid_id: UUID | None = UNCHANGED, birth_date: date = UNCHANGED, status: str = UNCHANGED,
    reason: str = "",
) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Rename a member, move it to another household or grid of its community (a household
    brings its grid unless a grid is named), record its birth date, or mark it moved out,
    deceased or active again. A household or grid of another community is not found, and then
    nothing changes."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        community = uow.get(Community, member.community_id)
        new_household, new_grid = member.household_id, member.grid_id
        if household_id is not UNCHANGED and household_id != member.household_id:
            new_household = household_id
            if household_id is not None:
                household = uow.get(Household, household_id)
                if household.community_id != member.community_id:
                    raise NotFound("not-found", thing="household")
                if grid_id is UNCHANGED and household.grid_id is not None:
                    new_grid = household.grid_id
        if grid_id is not UNCHANGED:
            community.check_grid(grid_id)
            new_grid = grid_id
        if name is not UNCHANGED:
            member.rename(name, reason, by)
        member.move(new_household, new_grid, reason, by)
        if birth_date is not UNCHANGED:
            member.record_birth_date(birth_date, by)
        if status is not UNCHANGED:
            member.set_status(status, reason, by)
        return {"id": member.id, "community_id": member.community_id, "name": member.name,
                "household_id": member.household_id, "grid_id": member.grid_id,
                "passbook_no": member.passbook_no, "status": member.status,
                "birth_date": member.birth_date}

    return command


def _grid_of_building(uow: UnitOfWork, community_id: UUID, building_id: UUID | None,
                      grid_id: UUID | None) -> UUID | None:
    """The grid a household in `building_id` is in: the building's (a grid named beside it
    must be that one)."""
    if building_id is None:
        return grid_id
    building = building_of_community(uow, community_id, building_id)
    if grid_id is not None and grid_id != building["grid_id"]:
        raise InvalidRequest("building-in-another-grid", building=building["name"])
    return UUID(str(building["grid_id"]))


def change_household(
    household_id: UUID, by: Actor, *, address: str = UNCHANGED,
    grid_id: UUID | None = UNCHANGED, reason: str = "",
    building_id: UUID | None = UNCHANGED,
) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Correct a household's address, or put it in another grid or building of its
    community (a building brings its grid)."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        household = uow.get(Household, household_id)
        by.check_community(household.community_id, "household", household_id)
        if building_id is not UNCHANGED:
            grid = _grid_of_building(uow, household.community_id, building_id,
                                     grid_id if grid_id is not UNCHANGED else None)
            if building_id is not None:
                household.move_to_grid(grid, reason, by)
            household.move_to_building(building_id, reason, by)
        if grid_id is not UNCHANGED:
            uow.get(Community, household.community_id).check_grid(grid_id)
            if household.building_id is not None and building_id is UNCHANGED:
                raise InvalidRequest("household-in-building")
            household.move_to_grid(grid_id, reason, by)
        if address is not UNCHANGED:
            household.change_address(address, reason, by)
        return {"id": household.id, "community_id": household.community_id,
                "grid_id": household.grid_id, "address": household.address,
                "building_id": household.building_id}

    return command


def change_merchant(
    merchant_id: UUID, by: Actor, *, name: str = UNCHANGED, status: str = UNCHANGED,
    reason: str = "",
) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Rename a merchant, or mark it closed (it takes no more points) or open again."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        merchant = uow.get(Merchant, merchant_id)
        by.check_community(merchant.community_id, "merchant", merchant_id)
        if name is not UNCHANGED:
            merchant.rename(name, reason, by)
        if status is not UNCHANGED:
            merchant.set_status(status, reason, by)
        return {"id": merchant.id, "community_id": merchant.community_id,
                "name": merchant.name, "status": merchant.status}

    return command


def change_grid(
    community_id: UUID, grid_id: UUID, by: Actor, *, name: str = UNCHANGED,
    sort_order: int = UNCHANGED, reason: str = "",
) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Rename a grid or set where it comes in lists."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        community.check_grid(grid_id)
        if name is not UNCHANGED:
            community.rename_grid(grid_id, name, reason, by)
        if sort_order is not UNCHANGED:
            community.order_grid(grid_id, sort_order, reason, by)
        return {"id": grid_id, "name": community.grids[str(grid_id)],
                "sort_order": community.grid_orders.get(str(grid_id), 0)}

    return command


@dataclass(frozen=True)
class Erasure:
    """A member's erasure, and their household's when it went with them."""

    member_id: UUID
    community_id: UUID
    household_id: UUID | None


def erase_member(member_id: UUID, reason: str, by: Actor, *,
                 with_household: bool) -> Callable[[UnitOfWork], Erasure]:
    """Erase a member's personal data (their key is destroyed once this is stored), and their
    household's address with it when `with_household` (no one else lives there). Their points,
    minutes and history stay; a member erased already is refused."""

    def command(uow: UnitOfWork) -> Erasure:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        member.erase(reason, by)
        roster = uow.find(CareRoster, CareRoster.create_id(member.community_id))
        if roster is not None:
            roster.forget(member.id, reason, by)
        household_id = None
        if with_household and member.household_id is not None:
            household = uow.get(Household, member.household_id)
            if not household.erased:
                household.erase(reason, by)
                household_id = household.id
        return Erasure(member.id, member.community_id, household_id)

    return command
