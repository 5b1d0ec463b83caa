"""The sealer: writes a checkpoint of the log every few seconds when there is something new.

It reads the events after the last checkpoint outside the writer's thread, computes the
checkpoint, and sends the writer a command that appends it only if no other process sealed
that range first (then it tries again on its next pass).
"""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from ledger.actor import Actor
from ledger.application import LedgerApp
from ledger.chain import GENESIS, Committed, split
from ledger.domain.audit import AUDIT_LOG_ID, AuditLog, log_hash
from ledger.periodic import Periodic
from ledger.store import notification_headers
from ledger.writer import UnitOfWork, Writer

log = logging.getLogger(__name__)

SEAL_MAX_EVENTS = 100_000
READ_BATCH = 5_000
SEAL_WAIT_SECONDS = 600.0
SEALED = get_topic(AuditLog.Sealed)  # type: ignore[attr-defined]
OPENED = get_topic(AuditLog.Opened)  # type: ignore[attr-defined]


class Sealer(Periodic):
    thread_name = "linli-sealer"

    def __init__(self, app: LedgerApp, writer: Writer, interval_seconds: float = 5.0) -> None:
        super().__init__(interval_seconds)
        self.app = app
        self.writer = writer
        self.committed = Committed()
        app.events.committed = self.committed  # type: ignore[attr-defined]

    def tick(self) -> None:
        self.seal()

    def seal(self) -> int | None:
        """Seal what the log holds now; the position sealed through, or None if nothing new."""
        try:
            audit_log: Any = self.app.repository.get(AUDIT_LOG_ID)
            after, previous = audit_log.through_position, audit_log.log_hash
        except AggregateNotFoundError:
            after, previous = 0, "00" * 32
        entries, own_only = self._entries_after(after)
        if not entries or own_only:
            return None
        through = entries[-1][0]
        present = {p for p, _ in entries}
        missing = [p for p in range(after + 1, through) if p not in present]
        digest = log_hash(previous, entries)

        def command(uow: UnitOfWork) -> int:
            by = Actor.system()
            target = uow.find(AuditLog, AUDIT_LOG_ID)
            if target is None:
                target = AuditLog.open(by)
                uow.add(target)
            target.seal(after, through, len(entries), missing, digest, by)
            return through

        # Wait for it however busy the writer is (a bulk import can queue minutes of work):
        # a pass must not start while the last one's seal is still queued.
        sealed: int = self.writer.submit(command).result(timeout=SEAL_WAIT_SECONDS)
        self.committed.forget_through(sealed)
        return sealed

    def _entries_after(self, after: int) -> tuple[list[tuple[int, bytes]], bool]:
        """(position, hash) of the events after `after`, and whether they are all the audit
        log's own: as this process committed them while they follow on without a gap (no read
        at all), else read from the log's headers."""
        entries: list[tuple[int, bytes]] = []
        own_only = True
        run = self.committed.run_after(after, SEAL_MAX_EVENTS)
        if run:
            for position, topic, own in run:
                entries.append((position, own))
                own_only = own_only and topic in (SEALED, OPENED)
            return entries, own_only
        position = after
        while len(entries) < SEAL_MAX_EVENTS:
            batch = notification_headers(self.app, position, READ_BATCH)
            if not batch:
                break
            for notification_id, topic, head in batch:
                header, _ = split(head)
                entries.append((notification_id, header.hash if header else GENESIS))
                if topic not in (SEALED, OPENED):
                    own_only = False
            position = batch[-1][0]
        return entries, own_only

