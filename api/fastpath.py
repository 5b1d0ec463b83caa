"""The tills' keyed POSTs without FastAPI's per-request machinery.

FastAPI's handling of a route (solving dependencies, exit stacks, telemetry, a response
object per request) costs about half of the event loop's CPU for a redemption. A till's
request whose every check passes in memory (a bearer token the key cache knows, an
Idempotency-Key, a content type and body the route's model accepts) is answered here by the
same code the route runs: its `Keyed` and `run_keyed`. Any other request goes on to the route
unchanged, having spent nothing, so every refusal is the route's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bootstrap import Linli
from api.deps import admit, cached_actor
from api.errors import ApiProblem, problem_response
from api.idempotency import KEY_MAX_CHARS, Keyed, run_keyed
from api.limits import read_body, replaying
from api.routers.holds import hold
from api.routers.payments import redemption
from api.schemas import HoldIn, RedemptionIn
from ledger.actor import Actor
from ledger.errors import DomainError


@dataclass(frozen=True)
class TillRoute:
    """A keyed POST route's body model and what it runs."""

    model: type[BaseModel]
    keyed: Callable[[Linli, Actor, Any], Keyed]


ROUTES = {
    "/v1/redemptions": TillRoute(RedemptionIn, redemption),
    "/v1/holds": TillRoute(HoldIn, hold),
}


@dataclass(frozen=True)
class _Admissible:
    actor: Actor
    key: str
    body: BaseModel


class TillFastPath:
    """ASGI middleware, innermost: answers the `ROUTES` it can, passes on everything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (ROUTES.get(scope["path"])
                 if scope["type"] == "http" and scope["method"] == "POST"
                 and not scope.get("root_path") else None)
        if route is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)  # bounded already (BodySizeLimit, JsonGuard)
        if body is None:
            return
        state = scope["app"].state
        admissible = _admissible(scope, state, route, body)
        if admissible is None:
            await self.app(scope, replaying(body, receive), send)
            return
        linli: Linli = state.linli
        try:
            admit(state, admissible.actor)
            response = await run_keyed(
                linli, admissible.actor, admissible.key, method="POST", path=scope["path"],
                body=admissible.body,
                keyed=route.keyed(linli, admissible.actor, admissible.body))
        except (ApiProblem, DomainError) as error:
            response = problem_response(error)
        await response(scope, receive, send)


def _admissible(scope: Scope, state: Any, route: TillRoute, body: bytes) -> _Admissible | None:
    """The request's actor, key and body if every check passes in memory, spending nothing;
    otherwise None (the route will answer it)."""
    headers = Headers(scope=scope)  # read as the route reads them
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    key = headers.get("idempotency-key", "")
    scheme, token = get_authorization_scheme_param(headers.get("authorization"))
    if (media_type != "application/json" or not key
            or len(key) > KEY_MAX_CHARS or scheme.lower() != "bearer" or not token):
        return None
    client = scope.get("client")
    if state.auth_failures.waiting(client[0] if client else "unknown") is not None:
        return None
    actor = cached_actor(state, token)
    if actor is None:
        return None
    try:
        model = route.model.model_validate(json.loads(body))
    except (ValueError, RecursionError):  # pydantic's ValidationError is a ValueError
        return None
    return _Admissible(actor, key, model)
