"""Every error as application/problem+json (RFC 9457), mapped in one place."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ledger import errors
from ledger.errors import IdempotencyKeyReused

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
    errors.GiftNotAllowed: 409,
    errors.Unavailable: 503,
    errors.PaymentCodeRequired: 403,
    errors.KeyNotRevocable: 403,
    errors.KeyExpiryInPast: 422,
    errors.FourEyesRequired: 403,
    errors.TamperedEvent: 500,
    IdempotencyKeyReused: 422,
}


class ApiProblem(Exception):
    """An error the HTTP layer itself raises (auth, headers, limits)."""

    def __init__(self, status: int, slug: str, title: str, detail: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            **extra}


def domain_problem(error: errors.DomainError) -> tuple[int, dict[str, Any]]:
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(error, cls)), 409)
    return status, problem(status, error.slug, error.title, error.detail)


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
        return render_problem(problem(error.status, error.slug, error.title, error.detail),
                              error.status, error.headers)
    status, body = domain_problem(error)
    return render_problem(body, status)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(_: Request, error: errors.DomainError) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(ApiProblem)
    async def _api(_: Request, error: ApiProblem) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        issues = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        detail = "; ".join(f"{'.'.join(str(p) for p in i['loc'])}: {i['msg']}" for i in issues)
        return render_problem(
            problem(422, "validation-error", "The request is not valid", detail[:2000],
                    errors=issues[:50]),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized",
                403: "forbidden", 413: "payload-too-large"}.get(error.status_code, "http-error")
        headers = dict(error.headers) if error.headers else {}
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return render_problem(problem(error.status_code, slug, str(error.detail),
                                      str(error.detail)), error.status_code, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        return unexpected_response(error)


def unexpected_response(error: Exception) -> JSONResponse:
    """The response to a failure nothing foresaw: logged, and a 500 problem."""
    log.exception("unexpected error", exc_info=error)
    return render_problem(problem(500, "internal-error", "Internal error",
                                  "the server failed; nothing is reported as done"), 500)
