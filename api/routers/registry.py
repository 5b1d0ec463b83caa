"""The registry: communities and grids, households, members, merchants."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Response

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
    HouseholdIn,
    HouseholdOut,
    MemberIn,
    MemberOut,
    MerchantIn,
    MerchantOut,
)
from ledger.commands import registry
from ledger.commands.registry import Registered
from ledger.domain.registry import Community, Household, Member
from ledger.errors import InvalidRequest
from ledger.write.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["registry"])
A = TypeVar("A", Community, Member)


def _community_out(community: Community) -> CommunityOut:
    return CommunityOut(id=community.id, name=community.name, time_zone=community.time_zone,
                        grids=[GridOut(id=UUID(i), name=n) for i, n in community.grids.items()])


@router.post("/communities", status_code=201, response_model=CommunityOut)
def create_community(body: CommunityIn, actor: AdminActor, linli: LinliDep, write: WriteDep
                     ) -> Response:
    try:
        ZoneInfo(body.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"unknown time zone {body.time_zone!r}") from None
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
        registry.register_household(body.community_id, body.grid_id, body.address, actor),
        lambda created: HouseholdOut(id=created.id, community_id=body.community_id,
                                     grid_id=body.grid_id, address=body.address), body)


@router.get("/households/{household_id}", response_model=HouseholdOut)
def get_household(household_id: UUID, actor: StaffOrAuditor, linli: LinliDep) -> HouseholdOut:
    household = load(linli, Household, household_id)
    actor.check_community(household.community_id, "household", household_id)
    return HouseholdOut(id=household.id, community_id=household.community_id,
                        grid_id=household.grid_id, address=household.address)


@router.post("/members", status_code=201, response_model=MemberOut)
def create_member(body: MemberIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                  ) -> Response:
    return write.execute(_loaded(Member, registry.register_member(
        body.community_id, body.name, body.household_id, body.grid_id, actor
    )), _member_out, body)


def _member_out(member: Member) -> MemberOut:
    return MemberOut(id=member.id, community_id=member.community_id, name=member.name,
                     household_id=member.household_id, grid_id=member.grid_id,
                     passbook_no=member.passbook_no)


@router.get("/members/{member_id}", response_model=MemberOut)
def get_member(member: VisibleMember) -> MemberOut:
    return _member_out(member)


@router.post("/merchants", status_code=201, response_model=MerchantOut)
def create_merchant(body: MerchantIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                    ) -> Response:
    return write.execute(
        registry.register_merchant(body.community_id, body.name, actor),
        lambda created: MerchantOut(id=created.id, community_id=body.community_id,
                                    name=body.name), body)


@router.get("/merchants/{merchant_id}", response_model=MerchantOut)
def get_merchant(merchant: VisibleMerchant) -> MerchantOut:
    return MerchantOut(id=merchant.id, community_id=merchant.community_id, name=merchant.name)

