"""What the registry's lists share as dependencies: the cursor parameter, and the caller with
the community it asks about, checked before the route's own parameters."""

# Annotations are evaluated when a function is defined: `listing_for` names its closure's
# dependencies in them.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query

from api.deps import LinliDep, readable_community, role_of
from ledger.actor import Actor, Role

ListCursor = Annotated[str | None, Query(max_length=1200, description=(
    "The `next_cursor` of the previous page."))]


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
