"""The registry's lists, a page at a time: communities, grids, households, merchants (the
members' list and search is in `lookups`). Each role sees only its scope."""

# Annotations are evaluated when a function is defined: `listing_for` names its closure's
# dependencies in them.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.deps import (
    AnyRoleActor,
    LinliDep,
    PageLimit,
    VisibleCommunity,
    caught_up,
    readable_community,
    role_of,
)
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
from ledger.actor import Actor, Role
from ledger.limits import PAGE_DEFAULT
from projections import registry_lists

router = APIRouter(prefix="/v1", tags=["registry"])

ListCursor = Annotated[str | None, Query(max_length=1200, description=(
    "The `next_cursor` of the previous page."))]


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


@dataclass(frozen=True)
class Listing:
    """Who asks for a list, and of which community (from the registry view)."""

    actor: Actor
    community: dict[str, Any]


def listing_for(*roles: Role) -> Callable[..., Listing]:
    """Make a dependency: the caller (one of `roles`, or an admin) and the community it
    names (its own by default), checked before the route's own parameters: 403 for another
    role, 404 for a community outside its scope, 422 when it names none and has none."""

    def listing(actor: Annotated[Actor, Depends(role_of(*roles))], linli: LinliDep,
                community_id: UUID | None = None) -> Listing:
        return Listing(actor, readable_community(linli, actor, community_id))

    return listing


StaffOrAuditorListing = Annotated[Listing, Depends(listing_for(Role.STAFF, Role.AUDITOR))]
StaffAuditorOrMerchantListing = Annotated[
    Listing, Depends(listing_for(Role.STAFF, Role.AUDITOR, Role.MERCHANT))]


@router.get("/communities", response_model=CommunityListOut)
def list_communities(actor: AnyRoleActor, linli: LinliDep, limit: PageLimit = PAGE_DEFAULT,
                     cursor: ListCursor = None) -> CommunityListOut:
    """Communities in the order they were registered: all for an admin (and an auditor of
    every community), the caller's own for everyone else."""
    caught_up(linli)
    scope = str(actor.community_id) if actor.community_id else None
    page = registry_lists.communities(linli.engine, scope, cursor, limit)
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
                    grid_id: UUID | None = None, limit: PageLimit = PAGE_DEFAULT,
                    cursor: ListCursor = None) -> HouseholdListOut:
    """A community's households (of one grid, if named), in the order they were registered."""
    page = registry_lists.households(linli.engine, listing.community["community_id"],
                                     str(grid_id) if grid_id else None, cursor, limit)
    return HouseholdListOut(items=[HouseholdOut(
        id=UUID(r["household_id"]), community_id=UUID(r["community_id"]),
        grid_id=_uuid(r["grid_id"]), address=r["address"]) for r in page.items],
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
