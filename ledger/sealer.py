"""The sealer: writes a checkpoint of the log every few seconds when there is something new.

It reads the events after the last checkpoint outside the writer's thread, computes the
checkpoint, and sends the writer a command that appends it only if no other process sealed
that range first (then it tries again on its next pass).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from ledger.actor import Actor
from ledger.application import LedgerApp
from ledger.chain import GENESIS, Committed, split
from ledger.domain.audit import AUDIT_LOG_ID, AuditLog, log_hash
from ledger.periodic import Periodic
from ledger.store import notification_headers
from ledger.write.unit_of_work import UnitOfWork
from ledger.write.writer import Writer

log = logging.getLogger(__name__)

SEAL_MAX_EVENTS = 100_000
READ_BATCH = 5_000
SEAL_WAIT_SECONDS = 600.0
SEALED = get_topic(AuditLog.Sealed)  # type: ignore[attr-defined]
OPENED = get_topic(AuditLog.Opened)  # type: ignore[attr-defined]
OWN = frozenset({SEALED, OPENED})


class Span(NamedTuple):
    """What a checkpoint covers: through which position, how many events, the positions
    that hold none, and its `log_hash`."""

    through: int
    events: int
    missing: list[int]
    digest: str


class Sealer(Periodic):
    thread_name = "linli-sealer"

    def __init__(self, app: LedgerApp, writer: Writer, interval_seconds: float = 5.0) -> None:
        super().__init__(interval_seconds)
        self.app = app
        self.writer = writer
        self.committed = Committed(filling=self.wake)  # sealed before it overflows
        app.events.committed = self.committed  # type: ignore[attr-defined]

    def tick(self) -> None:
        self.seal()

    def stop(self) -> None:
        """Stop sealing; a sealer that was running first seals what is still unsealed (the
        writer must still be running), so a clean stop leaves the whole log sealed."""
        was_running = self._thread is not None
        super().stop()
        if not was_running:
            return
        try:
            sealed = self.seal()
        except Exception:
            log.warning("could not seal the log's tail while stopping", exc_info=True)
            return
        if sealed is not None:
            log.info("sealed the log through position %d while stopping", sealed)

    def seal(self) -> int | None:
        """Seal what the log holds now; the position sealed through, or None if nothing new."""
        try:
            audit_log: Any = self.app.repository.get(AUDIT_LOG_ID)
            after, previous = audit_log.through_position, audit_log.log_hash
        except AggregateNotFoundError:
            after, previous = 0, "00" * 32
        span = self._span_after(after, previous)
        if span is None:
            return None
        through, count, missing, digest = span

        def command(uow: UnitOfWork) -> int:
            by = Actor.system()
            target = uow.find(AuditLog, AUDIT_LOG_ID)
            if target is None:
                target = AuditLog.open(by)
                uow.add(target)
            target.seal(after, through, count, missing, digest, by)
            return through

        # Wait for it however busy the writer is (a bulk import can queue minutes of work):
        # a pass must not start while the last one's seal is still queued.
        sealed: int = self.writer.submit(command).result(timeout=SEAL_WAIT_SECONDS)
        self.committed.forget_through(sealed)
        return sealed

    def _span_after(self, after: int, previous: str) -> Span | None:
        """What a checkpoint after `after` covers; None if there is nothing new but the audit
        log's own events. From what this process committed while it follows on without a gap
        (no read at all), else from the log's headers."""
        run = self.committed.run_after(after, SEAL_MAX_EVENTS, OWN)
        if run is not None:
            if run.own_only:
                return None
            return Span(run.first + run.count - 1, run.count, [],
                        log_hash(previous, run.entries()))
        entries, own_only = self._entries_read(after)
        if not entries or own_only:
            return None
        through = entries[-1][0]
        present = {p for p, _ in entries}
        missing = [p for p in range(after + 1, through) if p not in present]
        return Span(through, len(entries), missing, log_hash(previous, entries))

    def _entries_read(self, after: int) -> tuple[list[tuple[int, bytes]], bool]:
        """(position, hash) of the events after `after`, read from the log's headers, and
        whether they are all the audit log's own."""
        entries: list[tuple[int, bytes]] = []
        own_only = True
        position = after
        while len(entries) < SEAL_MAX_EVENTS:
            batch = notification_headers(self.app, position, READ_BATCH)
            if not batch:
                break
            for notification_id, topic, head in batch:
                header, _ = split(head)
                entries.append((notification_id, header.hash if header else GENESIS))
                if topic not in OWN:
                    own_only = False
            position = batch[-1][0]
        return entries, own_only
