"""Dependencies for routes, as `Annotated` types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.auth import KeyCache, actor_for_token
from api.bootstrap import Linli
from api.errors import ApiProblem
from api.ratelimit import RateLimiter
from ledger.actor import Actor
from ledger.commands.access import hash_token
from ledger.limits import PAGE_MAX


async def get_linli(request: Request) -> Linli:
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
    wait = failures.waiting(address) if token else None
    if wait is not None:  # checked before the token, so guessing goes no faster
        raise ApiProblem(429, "rate-limited", "Too many failed tokens",
                         f"too many unknown tokens from this address; retry after {wait} s",
                         headers={"Retry-After": str(wait)})
    # A token seen lately is known from memory; loading a key waits on a thread, not the loop.
    actor = cached_actor(state, token) if token else None
    if actor is None:
        generation = state.key_cache.generation
        try:
            actor = await run_in_threadpool(
                actor_for_token, linli.app, token, linli.settings.admin_token)
        except ApiProblem as error:
            if token and error.status == 401:
                failures.retry_after(address)  # spends one of the address's failures
            raise
        if token:
            state.key_cache.put(hash_token(token), actor, generation)
    admit(state, actor)
    return actor


def cached_actor(state: Any, token: str) -> Actor | None:
    """The actor of a token seen lately, from memory (`KeyCache`); None if not there."""
    cache: KeyCache = state.key_cache
    linli: Linli = state.linli
    return cache.get(hash_token(token),
                     lambda: actor_for_token(linli.app, token, linli.settings.admin_token))


def admit(state: Any, actor: Actor) -> None:
    """Spend one of the actor's requests; 429 when it has none left."""
    limiter: RateLimiter = state.rate_limiter
    wait = limiter.retry_after(actor.id)
    if wait is not None:
        raise ApiProblem(429, "rate-limited", "Too many requests",
                         f"this token may send {limiter.per_second:g} requests a second; "
                         f"retry after {wait} s", headers={"Retry-After": str(wait)})


ActorDep = Annotated[Actor, Depends(get_actor)]

PageLimit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="At most this many items.")]
PageCursor = Annotated[
    int | None, Query(ge=0, le=2**62, description="The `next_cursor` of the previous page."),
]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Required: a retry with the same key and body "
           "returns the first response and changes nothing."),
]
