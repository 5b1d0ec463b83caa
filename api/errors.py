"""Every error as application/problem+json (RFC 9457), mapped in one place."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import language
from api.unreachable import DATABASE_ERRORS, RETRY_AFTER_SECONDS, database_unreachable
from api.validation import issue_detail
from ledger import errors, messages
from ledger.errors import IdempotencyKeyReused
from ledger.limits import BODY_MAX_BYTES
from ledger.messages import Language

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://linli.example/problems/"
PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.InsufficientBalance: 409,
    errors.RefundExceedsRedemption: 409,
    errors.CapReached: 409,
    errors.InvalidTransition: 409,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.InvalidRequest: 422,
    errors.WebhookDisabled: 409,
    errors.GiftNotAllowed: 409,
    errors.Unavailable: 503,
    errors.PaymentCodeRequired: 403,
    errors.KeyNotRevocable: 403,
    errors.KeyExpiryInPast: 422,
    errors.FourEyesRequired: 403,
    errors.NotAllowed: 403,
    errors.TamperedEvent: 500,
    IdempotencyKeyReused: 422,
    errors.ImportTooLarge: 413,
}


class ApiProblem(Exception):
    """An error the HTTP layer itself raises (auth, headers, limits): its status, slug, and
    the message key of its detail with the key's parameters (`ledger/messages.py`)."""

    def __init__(self, status: int, slug: str, key: str,
                 headers: dict[str, str] | None = None, **params: object) -> None:
        super().__init__(key)
        self.status, self.slug, self.key, self.params = status, slug, key, params
        self.headers = headers

    def body(self, lang: Language | None = None) -> dict[str, Any]:
        """The problem+json body in `lang` (the request's, by default)."""
        return keyed_problem(self.status, self.slug, self.key, self.params, lang)


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            **extra}


def keyed_problem(status: int, slug: str, key: str, params: Mapping[str, object] | None = None,
                  lang: Language | None = None) -> dict[str, Any]:
    """A problem body whose title and detail are the catalogue's, in `lang` (the request's
    language when None)."""
    chosen = lang or language.current()
    return problem(status, slug, messages.title(slug, chosen),
                   messages.detail(key, params or {}, chosen))


def domain_problem(error: errors.DomainError,
                   lang: Language | None = None) -> tuple[int, dict[str, Any]]:
    """The status and body of a domain error, in `lang` (the request's when None)."""
    chosen = lang or language.current()
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(error, cls)), 409)
    return status, problem(status, error.slug, error.title_in(chosen), error.detail_in(chosen))


def render_problem(body: dict[str, Any], status: int,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def dumps(body: Any) -> str:
    """Compact JSON, text as is: problem bodies and idempotency fingerprints (a fingerprint
    must not change, or a till's retry would look like a new request)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def allowed_methods(request: Request) -> str:
    """Every method of every route on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def problem_response(error: ApiProblem | errors.DomainError) -> JSONResponse:
    """The response to an error the API raises, or the domain does."""
    if isinstance(error, ApiProblem):
        return render_problem(error.body(), error.status, error.headers)
    status, body = domain_problem(error)
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return render_problem(body, status, retry)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(_: Request, error: errors.DomainError) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(ApiProblem)
    async def _api(_: Request, error: ApiProblem) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        lang = language.current()
        issues = [
            {"loc": list(e.get("loc", ())), "msg": issue_detail(e, lang),
             "type": e.get("type", "")}
            for e in error.errors()
        ]
        separator = "; " if lang == messages.EN else "；"
        detail = separator.join(dict.fromkeys(i["msg"] for i in issues))  # each once
        return render_problem(
            problem(422, "validation-error", messages.title("validation-error", lang),
                    detail[:2000], errors=issues[:50]),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug, key = {404: ("not-found", "http-not-found"),
                     405: ("method-not-allowed", "method-not-allowed"),
                     401: ("unauthorized", "token-missing"),
                     403: ("forbidden", "forbidden"),
                     413: ("payload-too-large", "body-too-large")
                     }.get(error.status_code, ("http-error", "http-error"))
        headers = dict(error.headers) if error.headers else {}
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return render_problem(keyed_problem(error.status_code, slug, key,
                                            {"max": BODY_MAX_BYTES}),
                              error.status_code, headers or None)

    async def _database(request: Request, error: Exception) -> JSONResponse:
        return unexpected_response(error, request.scope)

    # Answered where the domain's errors are; any other error by `DefectsAnswered`.
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _database)


class DefectsAnswered:
    """ASGI layer in place of Starlette's outermost one (`ServerErrorMiddleware`): answers an
    error no handler took (a defect) with `unexpected_response`, and ends there. Starlette's
    raises the error again once it has answered, and the server then logs it a second time
    and closes the connection, its answer maybe unread (a till's next request on it reset).
    An error once the answer has begun is logged, and the server closes the connection on
    the answer cut short."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            response = unexpected_response(error, scope)
            if not started:
                await response(scope, receive, send)


def unexpected_response(error: Exception, scope: Scope) -> JSONResponse:
    """The response to a failure nothing foresaw in the request `scope`: 503 with Retry-After
    when the database could not be reached (a failover, a restart: the request may be
    retried, with its Idempotency-Key if it writes), else a 500 problem, its traceback
    logged; logged with the request's method and path either way."""
    method, path = scope.get("method", ""), scope.get("path", "")
    if database_unreachable(error):
        log.warning("%s %s: the database could not be reached: %s", method, path, error)
        return render_problem(keyed_problem(503, "unavailable", "database-unavailable"), 503,
                              {"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.error("%s %s: unexpected error", method, path, exc_info=error)
    return render_problem(keyed_problem(500, "internal-error", "internal-error"), 500)
