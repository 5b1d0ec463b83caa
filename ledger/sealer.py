"""The sealer: writes a checkpoint of the log every few seconds when there is something new.

It reads the events after the last checkpoint outside the writer's thread, computes the
checkpoint, and sends the writer a command that appends it only if no other process sealed
that range first (then it tries again on its next pass).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from ledger.actor import Actor
from ledger.application import LedgerApp
from ledger.chain import GENESIS, split
from ledger.domain.audit import AUDIT_LOG_ID, AuditLog, log_hash
from ledger.writer import UnitOfWork, Writer

log = logging.getLogger(__name__)

SEAL_MAX_EVENTS = 100_000
READ_BATCH = 5_000
SEALED = get_topic(AuditLog.Sealed)  # type: ignore[attr-defined]
OPENED = get_topic(AuditLog.Opened)  # type: ignore[attr-defined]


class Sealer:
    def __init__(self, app: LedgerApp, writer: Writer, interval_seconds: float = 5.0) -> None:
        self.app = app
        self.writer = writer
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seal(self) -> int | None:
        """Seal what the log holds now; the position sealed through, or None if nothing new."""
        try:
            audit_log: Any = self.app.repository.get(AUDIT_LOG_ID)
            after, previous = audit_log.through_position, audit_log.log_hash
        except AggregateNotFoundError:
            after, previous = 0, "00" * 32
        entries: list[tuple[int, bytes]] = []
        own_only = True
        position = after
        while len(entries) < SEAL_MAX_EVENTS:
            batch = self.app.recorder.select_notifications(
                position, READ_BATCH, inclusive_of_start=False)
            if not batch:
                break
            for notification in batch:
                header, _ = split(notification.state)
                entries.append((notification.id, header.hash if header else GENESIS))
                if notification.topic not in (SEALED, OPENED):
                    own_only = False
            position = batch[-1].id
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

        return self.writer.execute(command)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="linli-sealer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.seal()
            except Exception:
                log.warning("sealing the log failed; trying again later", exc_info=True)
