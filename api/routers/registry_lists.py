"""The registry's lists, a page at a time: communities, grids, households, merchants (the
members' list and search is in `lookups`). Each role sees only its scope."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.access_log import PersonalReadsDep, RevealQuery
from api.deps import AnyRoleActor, LinliDep, PageLimit, VisibleCommunity, caught_up
from api.listing import ListCursor, StaffAuditorOrMerchantListing, StaffOrAuditorListing
from api.schemas import (
    CommunityItemOut,
    CommunityListOut,
    GridListOut,
    GridOut,
    HouseholdListOut,
    HouseholdOut,
    MerchantListOut,
    MerchantOut,
)
from ledger.limits import PAGE_DEFAULT
from projections import registry_lists

router = APIRouter(prefix="/v1", tags=["registry"])


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


@router.get("/communities", response_model=CommunityListOut)
def list_communities(actor: AnyRoleActor, linli: LinliDep, limit: PageLimit = PAGE_DEFAULT,
                     cursor: ListCursor = None) -> CommunityListOut:
    """Communities in the order they were registered: all for an admin (and an auditor of
    every community), a district's for its staff and auditors, the caller's own for everyone
    else."""
    caught_up(linli)
    page = registry_lists.communities(linli.engine, actor.scope_ids(), cursor, limit)
    return CommunityListOut(items=[CommunityItemOut(
        id=UUID(r["community_id"]), name=r["name"], time_zone=r["time_zone"])
        for r in page.items], next_cursor=page.next_cursor)


@router.get("/communities/{community_id}/grids", response_model=GridListOut)
def list_grids(community: VisibleCommunity, linli: LinliDep, limit: PageLimit = PAGE_DEFAULT,
               cursor: ListCursor = None) -> GridListOut:
    """A community's grids (网格) in their `sort_order`, then by name."""
    caught_up(linli)
    page = registry_lists.grids(linli.engine, str(community.id), cursor, limit)
    return GridListOut(items=[GridOut(id=UUID(r["grid_id"]), name=r["name"],
                                      sort_order=r["sort_order"]) for r in page.items],
                       next_cursor=page.next_cursor)


@router.get("/households", response_model=HouseholdListOut)
def list_households(listing: StaffOrAuditorListing, linli: LinliDep,
                    reads: PersonalReadsDep,
                    grid_id: UUID | None = None, limit: PageLimit = PAGE_DEFAULT,
                    cursor: ListCursor = None, building_id: UUID | None = None,
                    reveal: RevealQuery = False) -> HouseholdListOut:
    """A community's households (of one grid or building, if named), in the order they were
    registered."""
    page = registry_lists.households(linli.engine, listing.community["community_id"],
                                     str(grid_id) if grid_id else None, cursor, limit,
                                     str(building_id) if building_id else None)
    reads.record_export(reads.what("住址", reveal), [], listing.community["community_id"],
                        len(page.items))
    return HouseholdListOut(items=[HouseholdOut(
        id=UUID(r["household_id"]), community_id=UUID(r["community_id"]),
        grid_id=_uuid(r["grid_id"]), address=reads.address(r["address"], reveal),
        building_id=_uuid(r["building_id"])) for r in page.items],
        next_cursor=page.next_cursor)


@router.get("/merchants", response_model=MerchantListOut)
def list_merchants(listing: StaffAuditorOrMerchantListing, linli: LinliDep,
                   limit: PageLimit = PAGE_DEFAULT,
                   cursor: ListCursor = None) -> MerchantListOut:
    """A community's merchants in the order they were registered, closed ones too (with
    their status); a merchant's key sees only its merchant."""
    merchant_id = listing.actor.merchant_id
    page = registry_lists.merchants(linli.engine, listing.community["community_id"],
                                    str(merchant_id) if merchant_id else None, cursor, limit)
    return MerchantListOut(items=[MerchantOut(
        id=UUID(r["merchant_id"]), community_id=UUID(r["community_id"]), name=r["name"],
        status=r["status"]) for r in page.items], next_cursor=page.next_cursor)
