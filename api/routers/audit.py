"""Auditors' reads: the events feed and verify."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from api.deps import AuditorActor, CaughtUp, LinliDep, PageLimit, WholeLedgerAuditor
from api.exports import Format, Sheet, export, word
from api.instants import Day, Instant
from api.schemas_audit import EventOut, EventsOut, ProblemOut, VerifyOut
from ledger.limits import PAGE_DEFAULT
from projections.feed import read_events
from projections.journal import (
    LEDGER_COLUMNS,
    ledger_rows,
    read_books,
    write_beancount,
    write_hledger,
)
from projections.verify import verify

router = APIRouter(tags=["audit"])


@router.get("/v1/events", response_model=EventsOut)
def get_events(
    actor: AuditorActor,
    linli: LinliDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="A log position")] = 0,
    limit: PageLimit = PAGE_DEFAULT,
) -> EventsOut:
    """Stored events in log order with their hashes. An auditor scoped to a community gets
    only that community's streams (docs/audit.md); poll with `next_after`."""
    items, next_after = read_events(linli.app, after, limit,
                                    actor.community_id or actor.communities)
    return EventsOut(items=[EventOut.model_validate(asdict(i)) for i in items],
                     next_after=next_after)


@router.get("/v1/audit/public-key", response_class=PlainTextResponse,
            responses={200: {"content": {"application/x-pem-file": {}}}})
def get_public_key(linli: LinliDep) -> PlainTextResponse:
    """The public key (Ed25519, PEM) that checks every seal's signature: what `linli verify
    --public-key FILE` reads. No token needed."""
    keys = linli.app.keys  # type: ignore[attr-defined]
    return PlainTextResponse(keys.public_pem(), media_type="application/x-pem-file",
                             headers={"Content-Disposition":
                                      'inline; filename="linli-public-key.pem"'})


@router.get("/v1/audit/verify", response_model=VerifyOut)
def get_verify(actor: AuditorActor, linli: CaughtUp) -> VerifyOut:
    """Verify the log (docs/audit.md). An auditor scoped to a community hears about its
    community's streams and accounts, and the log as a whole (`scope` says which)."""
    report = verify(linli.app, linli.engine, community_id=actor.community_id,
                    communities=actor.communities)
    return VerifyOut(
        ok=report.ok, scope=report.scope, events_checked=report.events_checked,
        accounts_checked=report.accounts_checked, checkpoints=report.checkpoints,
        sealed_through=report.sealed_through, sealed_hash=report.sealed_hash,
        unsealed_events=report.unsealed_events,
        problems=[ProblemOut(**asdict(p), message=str(p)) for p in report.problems],
    )


@router.get("/v1/exports/journal", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}})
def get_journal(
    actor: WholeLedgerAuditor,
    linli: LinliDep,
    format: Literal["beancount", "hledger"] = "beancount",
    start: Annotated[Day | None, Query(alias="from", description="First day (UTC)")] = None,
    end: Annotated[Day | None, Query(alias="to", description="Day no longer included")] = None,
) -> PlainTextResponse:
    """The ledger as a plain-text journal, from the event store (see `linli export`)."""
    books, transactions = read_books(linli.app)
    out = io.StringIO()
    write = write_beancount if format == "beancount" else write_hledger
    write(out, books, transactions, start, end)
    return PlainTextResponse(out.getvalue(), headers={
        "Content-Disposition": f'attachment; filename="linli.{format}"'})


@router.get("/v1/exports/ledger", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def get_ledger_csv(
    actor: WholeLedgerAuditor,
    linli: LinliDep,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
) -> Response:
    """Every posting recorded in [from, to) as CSV (UTF-8 with a BOM, instants in UTC), from
    the event store; headers and kinds in the reader's language."""
    sheet = Sheet(word("ledger"), LEDGER_COLUMNS, time_zone="UTC")
    translated = {LEDGER_COLUMNS.index(c) for c in ("owner_kind", "asset", "kind")}
    for row in ledger_rows(linli.app, start, end):
        sheet.rows.append([word(v) if i in translated else v for i, v in enumerate(row)])
    return export(sheet, Format.CSV, "ledger")
