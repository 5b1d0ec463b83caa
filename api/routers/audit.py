"""Auditors' reads: the events feed and verify."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import require_role
from api.deps import ActorDep, LinliDep, PageLimit
from api.errors import ApiProblem
from api.routers.common import caught_up
from api.schemas_audit import EventOut, EventsOut, ProblemOut, VerifyOut
from ledger.actor import Actor, Role
from ledger.limits import PAGE_DEFAULT
from projections.feed import read_events
from projections.verify import verify

router = APIRouter(tags=["audit"])


def require_whole_ledger(actor: Actor) -> None:
    """The feed and verify show every community: an auditor scoped to one may not use them."""
    require_role(actor, Role.AUDITOR)
    if actor.community_id is not None:
        raise ApiProblem(403, "forbidden", "Forbidden",
                         "the events feed and verify cover every community: they need an "
                         "auditor token not scoped to one community")


@router.get("/v1/events", response_model=EventsOut)
def get_events(
    actor: ActorDep,
    linli: LinliDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="A log position")] = 0,
    limit: PageLimit = PAGE_DEFAULT,
) -> EventsOut:
    require_whole_ledger(actor)
    items = read_events(linli.app, after, limit)
    return EventsOut(items=[EventOut.model_validate(asdict(i)) for i in items],
                     next_after=items[-1].position if items else after)


@router.get("/v1/audit/verify", response_model=VerifyOut)
def get_verify(actor: ActorDep, linli: LinliDep) -> VerifyOut:
    require_whole_ledger(actor)
    caught_up(linli)
    report = verify(linli.app, linli.engine)
    return VerifyOut(
        ok=report.ok, events_checked=report.events_checked,
        accounts_checked=report.accounts_checked, checkpoints=report.checkpoints,
        sealed_through=report.sealed_through, sealed_hash=report.sealed_hash,
        unsealed_events=report.unsealed_events,
        problems=[ProblemOut(**asdict(p), message=str(p)) for p in report.problems],
    )
