"""The tills' keyed POSTs, answered in front of the whole middleware stack.

FastAPI's handling of a route (its middleware layers, each reading or wrapping the request and
the response; solving dependencies, exit stacks, a response object per request) costs more
of the event loop's CPU than a redemption's own work. A till's request whose every check
passes in memory (a declared length within the limit, a bearer token the key cache knows, an
Idempotency-Key, and a body the JSON guard and the route's model accept) is answered here, in
front of them all, by the same code the route runs: its `Keyed` and `run_keyed`. Any
other request goes on to the stack unchanged, having spent nothing, so every refusal is the
stack's own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bootstrap import Linli
from api.deps import admit, cached_actor, loaded_actor
from api.errors import ApiProblem, problem_response, unexpected_response
from api.idempotency import KEY_MAX_CHARS, Keyed, run_keyed
from api.jsonguard import BodyRefused, check_json
from api.limits import read_body, replaying
from api.schemas import HoldIn, PaymentCodeIn, RedemptionIn
from api.till import hold, payment_code_response, recalled, redemption
from ledger.actor import Actor
from ledger.errors import DomainError


@dataclass(frozen=True)
class _Admissible:
    actor: Actor
    key: str
    body: BaseModel
    token: str


@dataclass(frozen=True)
class _KeyNotSeen:
    """A request admissible but for its key, which the key cache does not hold."""

    actor: None
    key: str
    body: BaseModel
    token: str


async def _with_loaded_actor(state: Any, request: _KeyNotSeen) -> _Admissible | None:
    """The request with its key's actor loaded (a phone's key, seen a minute ago, is no longer
    in the cache); None for an unknown key, which the stack answers (and counts)."""
    try:
        actor = await loaded_actor(state, request.token)
    except ApiProblem:
        return None
    return _Admissible(actor, request.key, request.body, request.token)


Answer = Callable[[], Awaitable[Response]]


@dataclass(frozen=True)
class TillRoute:
    """A keyed POST route's body model, and how it is answered: `answer` gives the answer to
    await, or None to pass the request on to the stack."""

    model: type[BaseModel]
    answer: Callable[[Linli, _Admissible, str, str], Answer | None]  # path, its parameter


def _keyed(build: Callable[[Linli, Actor, Any], Keyed]
           ) -> Callable[[Linli, _Admissible, str, str], Answer | None]:
    """A route whose command runs in the writer, once per key (`run_keyed`)."""

    def answer(linli: Linli, request: _Admissible, path: str, _: str) -> Answer:
        async def answered() -> Response:
            await recalled(linli, request.body)
            return await run_keyed(linli, request.actor, request.key, method="POST",
                                   path=path, body=request.body,
                                   keyed=build(linli, request.actor, request.body))

        return answered

    return answer


def _own_payment_code(linli: Linli, request: _Admissible, path: str,
                      member_id: str) -> Answer | None:
    """A member's own phone asking for a code: answered here. Staff at the counter (whose
    member the stack loads) are passed on."""
    actor = request.actor
    if actor.member_id is None or str(actor.member_id) != member_id or actor.community_id is None:
        return None
    community_id = actor.community_id

    async def answer() -> Response:
        return await payment_code_response(linli, actor, actor.member_id or UUID(member_id),
                                     community_id, request.key, path, request.body)

    return answer


ROUTES = {
    "/v1/redemptions": TillRoute(RedemptionIn, _keyed(redemption)),
    "/v1/holds": TillRoute(HoldIn, _keyed(hold)),
}
# A member's phone asks for a fresh payment code as often as a till redeems with one.
PAYMENT_CODES = re.compile(r"/v1/members/([0-9a-fA-F-]{36})/payment-codes")
PAYMENT_CODE_ROUTE = TillRoute(PaymentCodeIn, _own_payment_code)


def _route(path: str) -> tuple[TillRoute, str] | None:
    """The fast path's route for `path`, and the path's parameter ("" for none)."""
    route = ROUTES.get(path)
    if route is not None:
        return route, ""
    matched = PAYMENT_CODES.fullmatch(path)
    if matched is None:
        return None
    try:
        return PAYMENT_CODE_ROUTE, str(UUID(matched[1]))
    except ValueError:
        return None


class TillFastPath:
    """ASGI app in front of the middleware stack `app`: answers the `ROUTES` it can and passes
    everything else on."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed = (_route(scope["path"])
                  if scope["type"] == "http" and scope["method"] == "POST"
                  and not scope.get("root_path") else None)
        if routed is None:
            await self.app(scope, receive, send)
            return
        route, parameter = routed
        headers = Headers(scope=scope)  # read as the route reads them
        declared = headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > self.max_bytes:  # the limit's to answer
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)  # the server reads no more than the declared length
        if body is None:
            return
        state = scope["app"].state
        admissible = _admissible(scope, headers, state, route, body)
        if admissible is not None and admissible.actor is None:  # a key not seen lately
            admissible = await _with_loaded_actor(state, admissible)
        if admissible is None:
            await self.app(scope, replaying(body, receive), send)
            return
        linli: Linli = state.linli
        answer = route.answer(linli, admissible, scope["path"], parameter)
        if answer is None:
            await self.app(scope, replaying(body, receive), send)
            return
        try:
            admit(state, admissible.actor)
            response = await answer()
        except (ApiProblem, DomainError) as error:
            response = problem_response(error)
        except Exception as error:
            response = unexpected_response(error, scope)
        # Sent as it stands: a Response's own sending wraps it for background tasks.
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def _admissible(scope: Scope, headers: Headers, state: Any, route: TillRoute,
                body: bytes) -> _Admissible | _KeyNotSeen | None:
    """The request's actor, key and body if every check passes in memory, spending nothing
    (`_KeyNotSeen` when all but the key's actor do); otherwise None (the stack will answer
    it)."""
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    key = headers.get("idempotency-key", "")
    scheme, token = get_authorization_scheme_param(headers.get("authorization"))
    if (media != "application/json" or not key
            or len(key) > KEY_MAX_CHARS or scheme.lower() != "bearer" or not token):
        return None
    actor = cached_actor(state, token)  # known valid: never refused for its address's failures
    if actor is None:  # loaded next, on a thread, unless the address is guessing
        client = scope.get("client")
        if state.auth_failures.waiting(client[0] if client else "unknown") is not None:
            return None
    try:
        model = route.model.model_validate(check_json(body))
    except (BodyRefused, ValueError):  # pydantic's ValidationError is a ValueError
        return None
    if getattr(model, "pin", None) is not None:  # a PIN is checked slowly, on a thread
        return None
    if actor is None:
        return _KeyNotSeen(None, key, model, token)
    return _Admissible(actor, key, model, token)
