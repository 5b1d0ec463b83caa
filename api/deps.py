"""Dependencies for routes, as `Annotated` types: the caller and what it may reach.

A route declares what it needs in its signature (`actor: StaffActor`, `member: VisibleMember`,
`linli: CaughtUp`). FastAPI solves the dependencies in the order they are declared, all before
it validates the route's own parameters and body: a caller refused by a dependency — 401 or
429 for its token, 403 for its role, 404 for what lies outside its scope, 503 while the views
are behind — hears so before any 422 about its input.

The tills' fast path (`api/fastpath.py`) runs no dependencies: the keyed calls it answers check
their caller with `merchant_of_key`, in the function the route and the fast path share.
"""

# Annotations are evaluated when a function is defined: the dependencies made in factories
# (`role_of`, `community_of_path`) name their closures' dependencies in them.
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.auth import KeyCache, actor_for_token, require_role, unauthorized
from api.bootstrap import Linli
from api.errors import ApiProblem
from api.ratelimit import RateLimiter
from ledger.actor import Actor, Role
from ledger.commands.access import hash_token
from ledger.domain.buildings import BuildingRegister
from ledger.domain.districts import District
from ledger.domain.registry import Community, Member, Merchant
from ledger.errors import NotFound
from ledger.limits import PAGE_MAX
from projections import registry_view

PUBLIC_ONLY = (Role.MEMBER, Role.MERCHANT)


async def get_linli(request: Request) -> Linli:
    """Return the running Linli the app was started with."""
    linli: Linli = request.app.state.linli
    return linli


LinliDep = Annotated[Linli, Depends(get_linli)]

_bearer = HTTPBearer(auto_error=False, description="An API key, or LINLI_ADMIN_TOKEN")


async def get_actor(
    request: Request,
    linli: LinliDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller, from its bearer token; 429 when that token sends too many requests,
    or when its client address has sent too many unknown tokens (brute force)."""
    token = credentials.credentials if credentials else None
    state = request.app.state
    failures: RateLimiter = state.auth_failures
    address = request.client.host if request.client else "unknown"
    # A token seen lately is known valid from memory, and is never refused for the address's
    # failures: a till keeps working beside someone guessing. Loading a key waits on a
    # thread, not the loop.
    actor = cached_actor(state, token) if token else None
    wait = failures.waiting(address) if token and actor is None else None
    if wait is not None:  # checked before loading the token, so guessing goes no faster
        raise ApiProblem(429, "rate-limited", "too-many-tokens",
                         headers={"Retry-After": str(wait)}, wait=wait)
    if actor is None:
        if not token:
            raise unauthorized("token-missing")
        try:
            actor = await loaded_actor(state, token)
        except ApiProblem as error:
            if error.status == 401:
                failures.retry_after(address)  # spends one of the address's failures
            raise
    admit(state, actor)
    return actor


def cached_actor(state: Any, token: str) -> Actor | None:
    """The actor of a token seen lately, from memory (`KeyCache`); None if not there."""
    cache: KeyCache = state.key_cache
    linli: Linli = state.linli
    return cache.get(hash_token(token),
                     lambda: actor_for_token(linli.app, token, linli.settings.admin_token))


async def loaded_actor(state: Any, token: str) -> Actor:
    """The actor of a token the key cache does not hold, loaded on a thread (not the loop) and
    then cached; 401 when the token is not known."""
    linli: Linli = state.linli
    generation = state.key_cache.generation
    actor = await run_in_threadpool(actor_for_token, linli.app, token, linli.settings.admin_token)
    state.key_cache.put(hash_token(token), actor, generation)
    return actor


def admit(state: Any, actor: Actor) -> None:
    """Spend one of the actor's requests; 429 when it has none left."""
    limiter: RateLimiter = state.rate_limiter
    wait = limiter.retry_after(actor.id)
    if wait is not None:
        raise ApiProblem(429, "rate-limited", "too-many-requests",
                         headers={"Retry-After": str(wait)}, rate=f"{limiter.per_second:g}",
                         wait=wait)


ActorDep = Annotated[Actor, Depends(get_actor)]

PageLimit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="At most this many items.")]
PageCursor = Annotated[
    int | None, Query(ge=0, le=2**62, description="The `next_cursor` of the previous page."),
]

REQUIRED_KEY = ("Required (◆): a retry with the same key and body returns the first response "
                "and changes nothing; a request without one is 400 `idempotency-key-required`.")
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description=REQUIRED_KEY)]
"""A ◆ route's Idempotency-Key: optional to FastAPI (so that a missing one is our 400, not a
422), required in the OpenAPI document (`api.idempotency.require_keys`)."""


# --- loading ----------------------------------------------------------------------------------
A = TypeVar("A", bound=Aggregate)


def load(linli: Linli, cls: type[A], aggregate_id: UUID) -> A:
    """Load an aggregate as stored now; 404 when there is none of that class."""
    try:
        aggregate: object = linli.app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        aggregate = None
    if not isinstance(aggregate, cls):
        raise NotFound("not-found", thing=cls.__name__.lower())
    return aggregate


# --- reading your writes ----------------------------------------------------------------------
def caught_up(linli: LinliDep) -> Linli:
    """Wait until the views hold every write this process has answered (read your writes);
    503 when they do not catch up in time."""
    if not linli.read_your_writes():
        raise ApiProblem(503, "projections-behind", "projections-behind",
                         headers={"Retry-After": "1"})
    return linli


CaughtUp = Annotated[Linli, Depends(caught_up)]
"""The Linli, once its views hold every write this process has answered."""


def views_engine(linli: CaughtUp) -> Engine:
    """The engine a read of the views goes to: the replica when one is configured and holds
    every write this process has answered, else the primary."""
    return linli.read_engine()


ViewsEngine = Annotated[Engine, Depends(views_engine)]
"""Where to read the views from, once they hold every write this process has answered."""


# --- roles ------------------------------------------------------------------------------------
def role_of(*roles: Role) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    """Make a dependency that returns the caller if it has one of `roles` (an admin may do
    everything) and answers 403 otherwise."""

    async def actor_with_role(actor: ActorDep) -> Actor:
        require_role(actor, *roles)
        return actor

    return actor_with_role


AdminActor = Annotated[Actor, Depends(role_of())]
StaffActor = Annotated[Actor, Depends(role_of(Role.STAFF))]
AuditorActor = Annotated[Actor, Depends(role_of(Role.AUDITOR))]
MerchantActor = Annotated[Actor, Depends(role_of(Role.MERCHANT))]
StaffOrMember = Annotated[Actor, Depends(role_of(Role.STAFF, Role.MEMBER))]
StaffOrMerchant = Annotated[Actor, Depends(role_of(Role.STAFF, Role.MERCHANT))]
StaffOrAuditor = Annotated[Actor, Depends(role_of(Role.STAFF, Role.AUDITOR))]
StaffAuditorOrMember = Annotated[
    Actor, Depends(role_of(Role.STAFF, Role.AUDITOR, Role.MEMBER))]
StaffAuditorOrMerchant = Annotated[
    Actor, Depends(role_of(Role.STAFF, Role.AUDITOR, Role.MERCHANT))]
AnyRoleActor = Annotated[
    Actor, Depends(role_of(Role.STAFF, Role.AUDITOR, Role.MERCHANT, Role.MEMBER))]


def merchant_of_key(actor: Actor, action: str) -> UUID:
    """Return the merchant whose key the caller holds; 403 for any other caller (an admin
    too). The tills' fast path runs it as well: it stays a plain check."""
    require_role(actor, Role.MERCHANT)
    if actor.merchant_id is None:
        raise ApiProblem(403, "forbidden", "merchant-only", action=action)
    return actor.merchant_id


async def holding_merchant(actor: ActorDep) -> Actor:
    """Return the caller if it holds a merchant's key (a hold is its merchant's); 403
    otherwise."""
    merchant_of_key(actor, "hold points")
    return actor


HoldingMerchant = Annotated[Actor, Depends(holding_merchant)]


async def whole_ledger_auditor(actor: AuditorActor) -> Actor:
    """Return the caller if it is an auditor not scoped to one community, or an admin: the
    events feed, verify, the exports and the metrics cover every community. 403 otherwise."""
    if actor.scoped:
        raise ApiProblem(403, "forbidden", "unscoped-auditor")
    return actor


WholeLedgerAuditor = Annotated[Actor, Depends(whole_ledger_auditor)]


# --- the path's community ---------------------------------------------------------------------
async def staff_of_path_community(community_id: UUID, actor: StaffActor) -> Actor:
    """Return the caller if it is staff (or an admin) whose scope holds the path's community;
    404 for another community's staff (never its data)."""
    actor.check_community(community_id, "community", community_id)
    return actor


StaffOfPathCommunity = Annotated[Actor, Depends(staff_of_path_community)]


def community_of_path(*roles: Role) -> Callable[..., Community]:
    """Make a dependency that loads the path's community if the caller has one of `roles` and
    its scope holds the community; 403 for another role, 404 for another community."""

    def path_community(community_id: UUID,
                       actor: Annotated[Actor, Depends(role_of(*roles))],
                       linli: LinliDep) -> Community:
        actor.check_community(community_id, "community", community_id)
        return load(linli, Community, community_id)

    return path_community


VisibleCommunity = Annotated[Community, Depends(
    community_of_path(Role.STAFF, Role.AUDITOR, Role.MERCHANT, Role.MEMBER))]
"""The path's community, for any role whose scope holds it."""
StaffAuditorOrMemberCommunity = Annotated[Community, Depends(
    community_of_path(Role.STAFF, Role.AUDITOR, Role.MEMBER))]
StaffOrAuditorCommunity = Annotated[Community, Depends(
    community_of_path(Role.STAFF, Role.AUDITOR))]


def sees_public_only(actor: Actor) -> bool:
    """Tell whether the actor sees only what the community publishes (members and merchants):
    names masked, members who opted out left off."""
    return actor.role in PUBLIC_ONLY


def readable_community(linli: Linli, actor: Actor, community_id: UUID | None
                       ) -> dict[str, Any]:
    """Wait for the views to catch up, then return the community the actor asks about (its
    own by default) from the registry view. 422 when none is named and the actor has no
    community of its own; 404 when it is unknown or outside the actor's scope."""
    caught_up(linli)
    chosen = community_id or actor.community_id
    if chosen is None:
        raise ApiProblem(422, "community-required", "community-required")
    actor.check_community(chosen, "community", chosen)
    found = registry_view.community(linli.engine, str(chosen))
    if found is None:
        raise NotFound("not-found", thing="community")
    return found


# --- districts ------------------------------------------------------------------------------
def visible_district(linli: Linli, actor: Actor, district_id: UUID, *,
                     community_roles: bool = True) -> District:
    """Load a district if the caller may see it: admins, auditors of every community, the
    district's own staff and auditors, and (with `community_roles`: its public board) any
    key of one of its communities. 404 otherwise."""
    district = load(linli, District, district_id)
    if actor.district_id is not None and actor.district_id != district_id:
        raise NotFound("not-found", thing="district")
    if actor.community_id is not None and (
            not community_roles or actor.community_id not in district.communities):
        raise NotFound("not-found", thing="district")
    return district


def district_of_path(*roles: Role) -> Callable[..., District]:
    """Make a dependency that loads the path's district if the caller has one of `roles`
    (an admin may do everything) and its scope is that district (or every community); 403
    for another role, 404 for another district or a community's key."""

    def path_district(district_id: UUID, actor: Annotated[Actor, Depends(role_of(*roles))],
                      linli: LinliDep) -> District:
        return visible_district(linli, actor, district_id, community_roles=False)

    return path_district


StaffOrAuditorDistrict = Annotated[District, Depends(district_of_path(Role.STAFF, Role.AUDITOR))]
StaffDistrict = Annotated[District, Depends(district_of_path(Role.STAFF))]


# --- members, merchants and households --------------------------------------------------------
def visible_member(member_id: UUID, actor: StaffAuditorOrMember, linli: LinliDep) -> Member:
    """Load the path's member if the caller may see it: staff and auditors of its community,
    admins, and the member itself. 404 otherwise (never another's data)."""
    member = load(linli, Member, member_id)
    actor.check_community(member.community_id, "member", member_id)
    actor.check_member(member_id, "member", member_id)
    return member


VisibleMember = Annotated[Member, Depends(visible_member)]


def served_member(member_id: UUID, actor: StaffOrMember, linli: LinliDep) -> Member:
    """Load the path's member if the caller may act for it: staff of its community, admins,
    and the member itself (its payment codes, its PIN). 404 otherwise."""
    member = load(linli, Member, member_id)
    actor.check_community(member.community_id, "member", member_id)
    actor.check_member(member_id, "member", member_id)
    return member


ServedMember = Annotated[Member, Depends(served_member)]


def visible_merchant(merchant_id: UUID, actor: StaffAuditorOrMerchant,
                     linli: LinliDep) -> Merchant:
    """Load the path's merchant if the caller may see it: staff and auditors of its
    community, admins, and the merchant's own keys. 404 otherwise."""
    merchant = load(linli, Merchant, merchant_id)
    actor.check_community(merchant.community_id, "merchant", merchant_id)
    actor.check_merchant(merchant_id, "merchant", merchant_id)
    return merchant


VisibleMerchant = Annotated[Merchant, Depends(visible_merchant)]


def visible_household(linli: Linli, actor: Actor, household_id: UUID) -> dict[str, Any]:
    """Wait for the views to catch up, then return the household from the registry view if
    the actor may see it: staff and auditors of its community, admins, and its own members.
    404 otherwise (never another's data).

    Called in the route, after its parameters are validated: a bad page size is a 422 even
    for a household that is not there."""
    caught_up(linli)
    found = registry_view.household(linli.engine, str(household_id))
    if found is None:
        raise NotFound("not-found", thing="household")
    actor.check_community(UUID(found["community_id"]), "household", household_id)
    if actor.member_id is not None:
        members = registry_view.household_members(linli.engine, str(household_id))
        if str(actor.member_id) not in {m["member_id"] for m in members}:
            raise NotFound("not-found", thing="household")
    return found


# --- buildings --------------------------------------------------------------------------------
def check_building(linli: Linli, community_id: UUID, building_id: UUID) -> dict[str, Any]:
    """The community's building `building_id`; 404 when the community has no such building."""
    try:
        register = load(linli, BuildingRegister, BuildingRegister.create_id(community_id))
    except NotFound:
        raise NotFound("not-found", thing="building") from None
    return register.building(building_id)
