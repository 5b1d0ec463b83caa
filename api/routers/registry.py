"""The registry: communities and grids, households, members, merchants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Response

from api.access_log import PersonalReadsDep, RevealQuery
from api.deps import (
    AdminActor,
    LinliDep,
    StaffActor,
    StaffOfPathCommunity,
    StaffOrAuditor,
    VisibleCommunity,
    VisibleMember,
    VisibleMerchant,
    load,
)
from api.idempotency import WriteDep
from api.schemas import (
    CommunityIn,
    CommunityOut,
    GridIn,
    GridOut,
    GridPatch,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    MemberDetailOut,
    MemberIn,
    MemberOut,
    MemberPatch,
    MerchantIn,
    MerchantOut,
    MerchantPatch,
)
from ledger.actor import Actor
from ledger.commands import registry
from ledger.commands.registry import Registered
from ledger.domain.registry import Community, Household, Member, Merchant
from ledger.errors import InvalidRequest
from ledger.write.unit_of_work import UnitOfWork
from projections.natural import natural_key
from projections.registry_view import household_members

router = APIRouter(prefix="/v1", tags=["registry"])
A = TypeVar("A", Community, Member)


def _community_out(community: Community) -> CommunityOut:
    orders = community.grid_orders
    ordered = sorted(community.grids.items(),
                     key=lambda grid: (orders.get(grid[0], 0), natural_key(grid[1]), grid[0]))
    return CommunityOut(id=community.id, name=community.name, time_zone=community.time_zone,
                        grids=[GridOut(id=UUID(i), name=n, sort_order=orders.get(i, 0))
                               for i, n in ordered])


@router.post("/communities", status_code=201, response_model=CommunityOut)
def create_community(body: CommunityIn, actor: AdminActor, linli: LinliDep, write: WriteDep
                     ) -> Response:
    try:
        ZoneInfo(body.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest("unknown-time-zone", zone=body.time_zone) from None
    return write.execute(_loaded(Community, registry.register_community(
        body.name, actor, body.time_zone)), _community_out, body)


def _loaded(cls: type[A], command: Callable[[UnitOfWork], Registered]
            ) -> Callable[[UnitOfWork], A]:
    """The command, answering with the aggregate it registered (rendered in the writer for a
    keyed request, before it is stored)."""
    return lambda uow: uow.get(cls, command(uow).id)


@router.get("/communities/{community_id}", response_model=CommunityOut)
def get_community(community: VisibleCommunity) -> CommunityOut:
    return _community_out(community)


@router.post("/communities/{community_id}/grids", status_code=201, response_model=GridOut)
def add_grid(community_id: UUID, body: GridIn, actor: StaffOfPathCommunity,
             linli: LinliDep, write: WriteDep) -> Response:
    return write.execute(registry.add_grid(community_id, body.name, actor),
                         lambda created: GridOut(id=created.id, name=body.name), body)


@router.post("/households", status_code=201, response_model=HouseholdOut)
def create_household(body: HouseholdIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                     ) -> Response:
    return write.execute(
        registry.register_household(body.community_id, body.grid_id, body.address, actor,
                                    body.building_id),
        lambda created: HouseholdOut(id=created.id, community_id=body.community_id,
                                     grid_id=created.grid_id, address=body.address,
                                     building_id=body.building_id), body)


@router.get("/households/{household_id}", response_model=HouseholdOut)
def get_household(household_id: UUID, actor: StaffOrAuditor, linli: LinliDep,
                  reads: PersonalReadsDep, reveal: RevealQuery = False) -> HouseholdOut:
    """A household; auditors see its address masked unless they ask (`reveal`, logged)."""
    household = load(linli, Household, household_id)
    actor.check_community(household.community_id, "household", household_id)
    reads.record(reads.what("住址", reveal),
                 [m["member_id"] for m in household_members(linli.engine, str(household_id))],
                 household.community_id)
    return HouseholdOut(id=household.id, community_id=household.community_id,
                        grid_id=household.grid_id,
                        address=reads.address(household.address, reveal),
                        building_id=household.building_id)


@router.post("/members", status_code=201, response_model=MemberOut)
def create_member(body: MemberIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                  ) -> Response:
    return write.execute(_loaded(Member, registry.register_member(
        body.community_id, body.name, body.household_id, body.grid_id, actor
    )), _member_out, body)


def _member_out(member: Member) -> MemberOut:
    return MemberOut(id=member.id, community_id=member.community_id, name=member.name,
                     household_id=member.household_id, grid_id=member.grid_id,
                     passbook_no=member.passbook_no, status=member.status)


@router.get("/members/{member_id}", response_model=MemberOut)
def get_member(member: VisibleMember, reads: PersonalReadsDep,
               reveal: RevealQuery = False) -> MemberOut:
    """A member; auditors see the name masked unless they ask (`reveal`, logged)."""
    reads.record(reads.what("姓名", reveal), [member.id], member.community_id)
    shown = _member_out(member)
    shown.name = reads.name(member.name, reveal)
    return shown


@router.post("/merchants", status_code=201, response_model=MerchantOut)
def create_merchant(body: MerchantIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                    ) -> Response:
    return write.execute(
        registry.register_merchant(body.community_id, body.name, actor),
        lambda created: MerchantOut(id=created.id, community_id=body.community_id,
                                    name=body.name), body)


@router.get("/merchants/{merchant_id}", response_model=MerchantOut)
def get_merchant(merchant: VisibleMerchant) -> MerchantOut:
    return MerchantOut(id=merchant.id, community_id=merchant.community_id, name=merchant.name,
                       status=merchant.status)


# --- changes: staff of the community (or an admin); scope is checked before the body --------
def _staff_member(member_id: UUID, actor: StaffActor, linli: LinliDep) -> Actor:
    actor.check_community(load(linli, Member, member_id).community_id, "member", member_id)
    return actor


def _staff_household(household_id: UUID, actor: StaffActor, linli: LinliDep) -> Actor:
    household = load(linli, Household, household_id)
    actor.check_community(household.community_id, "household", household_id)
    return actor


def _staff_merchant(merchant_id: UUID, actor: StaffActor, linli: LinliDep) -> Actor:
    merchant = load(linli, Merchant, merchant_id)
    actor.check_community(merchant.community_id, "merchant", merchant_id)
    return actor


def _changes(body: MemberPatch | HouseholdPatch | MerchantPatch | GridPatch) -> dict[str, Any]:
    """The fields the body sent (only they change), and its reason."""
    return {name: getattr(body, name) for name in body.model_fields_set | {"reason"}}


@router.patch("/members/{member_id}", response_model=MemberDetailOut)
def change_member(member_id: UUID, body: MemberPatch,
                  actor: Annotated[Actor, Depends(_staff_member)], write: WriteDep
                  ) -> Response:
    """Rename a member, move it to another household or grid, record its birth date, or mark
    it moved out (迁出), deceased (去世) or active (在册) again. A household brings its grid
    unless `grid_id` is sent too. An inactive member earns, redeems, deposits and withdraws
    nothing; its balance and history stay readable."""
    return write.execute(registry.change_member(member_id, actor, **_changes(body)),
                         lambda changed: MemberDetailOut(**changed), body)


@router.patch("/households/{household_id}", response_model=HouseholdOut)
def change_household(household_id: UUID, body: HouseholdPatch,
                     actor: Annotated[Actor, Depends(_staff_household)], write: WriteDep
                     ) -> Response:
    """Correct a household's address or put it in another grid (its members keep theirs)."""
    return write.execute(registry.change_household(household_id, actor, **_changes(body)),
                         lambda changed: HouseholdOut(**changed), body)


@router.patch("/merchants/{merchant_id}", response_model=MerchantOut)
def change_merchant(merchant_id: UUID, body: MerchantPatch,
                    actor: Annotated[Actor, Depends(_staff_merchant)], write: WriteDep
                    ) -> Response:
    """Rename a merchant, or mark it closed (it takes and holds no points) or open again."""
    return write.execute(registry.change_merchant(merchant_id, actor, **_changes(body)),
                         lambda changed: MerchantOut(**changed), body)


@router.patch("/communities/{community_id}/grids/{grid_id}", response_model=GridOut)
def change_grid(community_id: UUID, grid_id: UUID, body: GridPatch,
                actor: StaffOfPathCommunity, write: WriteDep) -> Response:
    """Rename a grid or set its place in lists (`sort_order`, then name)."""
    return write.execute(registry.change_grid(community_id, grid_id, actor, **_changes(body)),
                         lambda changed: GridOut(**changed), body)
