"""Liveness and readiness; `leader` says whether this server runs the periodic jobs (one of
several on a database at a time)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import LinliDep
from api.errors import ApiProblem

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(linli: LinliDep) -> dict[str, object]:
    try:
        with linli.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        linli.app.recorder.max_notification_id()
    except Exception as error:
        log.error("readyz: the database did not answer: %s", error)
        raise ApiProblem(503, "not-ready", "database-down") from error
    if not linli.projections.running:
        raise ApiProblem(503, "not-ready", "projections-stopped")
    return {"status": "ready", "projection_position": linli.projections.position,
            "last_write_position": linli.writer.last_position, "leader": linli.leading}
