"""`create_app`: the FastAPI application, wired to a Linli it opens (or is given)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp

from api import errors
from api.auth import KeyCache
from api.bootstrap import Linli, open_linli
from api.fastpath import TillFastPath
from api.idempotency import require_keys
from api.jsonguard import JsonGuard
from api.language import ChosenLanguage
from api.limits import BodySizeLimit
from api.problems import PROBLEM_RESPONSES
from api.ratelimit import RateLimiter
from api.routers import (
    activities,
    audit,
    awards,
    buildings,
    care,
    certificates,
    consent,
    districts,
    health,
    holds,
    households,
    imports,
    keys,
    leaderboards,
    merchants,
    metrics,
    payments,
    printables,
    privacy,
    proposals,
    reads,
    registry,
    registry_lists,
    reports,
    rules,
    service_requests,
    teams,
    till_lookup,
    timebank,
    webhooks,
    wishes,
)
from api.routers.lookups import router as lookups_router
from ledger.limits import BODY_MAX_BYTES
from ledger.settings import Settings
from web import install as install_web

DESCRIPTION = """
Linli (邻里) — the points bank (积分银行) and volunteer time bank (时间银行) of a community.

Every `/v1` call takes `Authorization: Bearer <token>`. Errors are `application/problem+json`.
Amounts are integers. Calls marked ◆ take an `Idempotency-Key` header.
"""


TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class _TillsFirst(FastAPI):
    """FastAPI with the tills' fast path in front of its whole middleware stack, a defect in
    either answered by `DefectsAnswered` (in place of the stack's outermost layer), and the
    reader's language chosen in front of all."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if isinstance(stack, ServerErrorMiddleware):
            stack = stack.app
        return ChosenLanguage(errors.DefectsAnswered(TillFastPath(stack,
                                                                  max_bytes=BODY_MAX_BYTES)))

    def openapi(self) -> dict[str, Any]:
        """The document, saying where an Idempotency-Key is required (◆)."""
        if self.openapi_schema is None:
            self.openapi_schema = require_keys(super().openapi())
        return self.openapi_schema


def create_app(settings: Settings | None = None, *, linli: Linli | None = None) -> FastAPI:
    """The API. Given a `linli`, it starts and stops it; otherwise it opens its own."""
    chosen = settings or (linli.settings if linli else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = linli or open_linli(chosen)
        app.state.linli = running
        app.state.rate_limiter = RateLimiter(running.settings.rate_limit_per_second,
                                             running.settings.rate_limit_burst)
        app.state.auth_failures = RateLimiter(running.settings.auth_failures_per_second,
                                              running.settings.auth_failure_burst)
        # A merchant's wrong PINs, across its tills and members: guessing goes no faster.
        app.state.wrong_pins = RateLimiter(running.settings.wrong_pins_per_hour / 3600,
                                           running.settings.wrong_pins_per_hour)
        app.state.key_cache = KeyCache(running.settings.api_key_cache_seconds)
        running.start()
        try:
            yield
        finally:
            app.state.key_cache.close()
            if linli is None:
                running.close()
            else:
                running.stop()

    app = _TillsFirst(title="Linli 邻里", version="1.0.0", description=DESCRIPTION,
                      lifespan=lifespan, telemetry=None if chosen.telemetry else TELEMETRY_OFF)
    errors.install(app)
    app.include_router(health.router)
    # Routes are matched in order, one by one: the tills' routes come first.
    for module in (payments, holds, till_lookup, consent, keys, registry, registry_lists, rules,
                   awards, merchants, reads, leaderboards, households, reports, timebank,
                   service_requests, activities, teams, buildings, care, wishes, proposals,
                   districts, audit, certificates, printables, metrics, webhooks, privacy):
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    app.add_middleware(JsonGuard)  # inside BodySizeLimit: it sees at most 64 KiB
    app.include_router(lookups_router, responses=PROBLEM_RESPONSES)
    app.include_router(imports.router, responses=PROBLEM_RESPONSES)
    install_web(app)  # the pages (web/)
    app.add_middleware(BodySizeLimit, max_bytes=BODY_MAX_BYTES)
    return app
