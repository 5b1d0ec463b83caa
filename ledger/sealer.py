"""The sealer: writes a checkpoint of the log every few seconds when there is something new.

It reads the events after the last checkpoint outside the writer's thread, computes the
checkpoint, and sends the writer a command that appends it only if no other process sealed
that range first (then it tries again on its next pass).

What a checkpoint covers is what this process committed (`ledger.chain.Committed`): a row
deleted, edited or moved in the database before the pass is sealed as it was written, and
verify names it. Only positions this process did not write (another process's, or from before
a restart) are read from the log. Each checkpoint is signed with the signing key.

With several servers on one database, one seals at a time (`ledger.leadership`): its passes
read the others' events from the log. Another server's sealer only forgets what has been
sealed; when it stops, it seals the log itself if its own last write is not sealed yet (a
race with the leader's pass is lost harmlessly and tried again), so every clean stop leaves
what that server wrote sealed.
"""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from ledger.actor import Actor
from ledger.application import LedgerApp
from ledger.chain import GENESIS, HASH_BYTES, MAC_MAGIC, Committed, head_hash
from ledger.domain.audit import AUDIT_LOG_ID, AlreadySealed, AuditLog, fingerprints_of, log_hash
from ledger.keys import Keys
from ledger.periodic import Periodic
from ledger.store import notification_headers
from ledger.write.unit_of_work import UnitOfWork
from ledger.write.writer import Writer

log = logging.getLogger(__name__)

SEAL_MAX_EVENTS = 100_000
READ_BATCH = 5_000
SEAL_WAIT_SECONDS = 600.0
RUN_TRIES = 3  # looks at what this process committed before reading the log instead
RUN_WAIT_SECONDS = 0.005
STOP_TRIES = 5  # seals tried at a stop, each after another process's sealed first
SEALED = get_topic(AuditLog.Sealed)  # type: ignore[attr-defined]
OPENED = get_topic(AuditLog.Opened)  # type: ignore[attr-defined]
OWN = frozenset({SEALED, OPENED})


class Span(NamedTuple):
    """What a checkpoint covers: through which position, how many events, the positions
    that hold none, its `log_hash`, the events' fingerprints, and the last position of an
    event stored before the keys (0: none)."""

    through: int
    events: int
    missing: list[int]
    digest: str
    fingerprints: str
    legacy_through: int


class LogCut(RuntimeError):
    """The audit log is behind a checkpoint this process wrote: its tail was cut."""


class Sealer(Periodic):
    thread_name = "linli-sealer"

    def __init__(self, app: LedgerApp, writer: Writer, interval_seconds: float = 5.0) -> None:
        super().__init__(interval_seconds)
        self.app = app
        self.writer = writer
        self.committed = Committed(filling=self.wake)  # sealed before it overflows
        app.events.committed = self.committed  # type: ignore[attr-defined]
        self.keys: Keys | None = getattr(app, "keys", None)
        self.last_sealed: tuple[int, str] | None = None  # (through, log hash) written here

    def start(self) -> None:
        """Start sealing, the first pass at once: a store from before the keys gets the
        signed checkpoint that lets loads accept its older events."""
        super().start()
        self.wake()

    def tick(self) -> None:
        self.seal()

    def idle(self) -> None:
        """Another process seals: forget what this one committed that it has sealed."""
        self.committed.forget_through(self.sealed_through())

    def sealed_through(self) -> int:
        """The position the audit log is sealed through (0: never sealed)."""
        try:
            audit_log: Any = self.app.repository.get(AUDIT_LOG_ID)
        except AggregateNotFoundError:
            return 0
        return int(audit_log.through_position)

    def stop(self) -> None:
        """Stop sealing; a sealer that was running first seals what is still unsealed (the
        writer must still be running), so a clean stop leaves the whole log sealed. One
        that another process's sealer stood in for seals only if this process's last write
        is not sealed yet."""
        was_running = self._thread is not None
        super().stop()
        if not was_running:
            return
        leading = self.gate()
        for _ in range(STOP_TRIES):
            try:
                if not leading and self.sealed_through() >= self.writer.last_position:
                    return
                sealed = self.seal()
            except AlreadySealed:
                continue  # the leader's pass came first: look again
            except Exception:
                log.warning("could not seal the log's tail while stopping", exc_info=True)
                return
            if sealed is not None:
                log.info("sealed the log through position %d while stopping", sealed)
            return

    def seal(self) -> int | None:
        """Seal what the log holds now; the position sealed through, or None if nothing new."""
        if self.keys is None:
            raise RuntimeError("no signing key: the log is not sealed (linli keys init)")
        try:
            audit_log: Any = self.app.repository.get(AUDIT_LOG_ID)
            after, previous = audit_log.through_position, audit_log.log_hash
            signed = audit_log.legacy_through is not None
        except AggregateNotFoundError:
            after, previous, signed = 0, "00" * 32, False
        if self.last_sealed is not None and self.last_sealed[0] > after:
            log.error("the audit log is sealed through %d, but this process sealed it through "
                      "%d: its tail was cut; not sealing over it", after, self.last_sealed[0])
            raise LogCut(f"the log was sealed through {self.last_sealed[0]}, "
                         f"the audit log says {after}")
        span = self._span_after(after, previous)
        if span is None:
            return None
        signature = self.keys.sign_seal(span.through, span.digest)
        legacy = None if signed else max(span.legacy_through, after)

        def command(uow: UnitOfWork) -> int:
            by = Actor.system()
            target = uow.find(AuditLog, AUDIT_LOG_ID)
            if target is None:
                target = AuditLog.open(by)
                uow.add(target)
            target.seal(after, span.through, span.events, span.missing, span.digest, by,
                        signature, span.fingerprints, legacy)
            return span.through

        # Wait for it however busy the writer is (a bulk import can queue minutes of work):
        # a pass must not start while the last one's seal is still queued.
        sealed: int = self.writer.submit(command).result(timeout=SEAL_WAIT_SECONDS)
        self.committed.forget_through(sealed)
        self.last_sealed = (sealed, span.digest)
        return sealed

    def _span_after(self, after: int, previous: str) -> Span | None:
        """What a checkpoint after `after` covers; None if there is nothing new but the audit
        log's own events. From what this process committed while it follows on without a gap
        to the log's head (no read but the head's), else from the log's headers, each position
        this process committed taken from what it committed, not from the row."""
        head = self.app.recorder.max_notification_id() or 0  # before the run: ours after it
        run = self.committed.run_after(after, SEAL_MAX_EVENTS, OWN)
        tries = RUN_TRIES
        while (run is not None and run.count < SEAL_MAX_EVENTS
               and run.first + run.count <= head):
            if not tries:  # another process wrote after this one's run: the log says what
                run = None
                break
            tries -= 1  # or a commit of ours the writer has not noted yet
            time.sleep(RUN_WAIT_SECONDS)
            run = self.committed.run_after(after, SEAL_MAX_EVENTS, OWN)
        if run is not None:
            if run.own_only:
                return None
            hashes = run.hashes
            prints = b"".join(hashes[i:i + 2] for i in range(0, len(hashes), HASH_BYTES))
            return Span(run.first + run.count - 1, run.count, [],
                        log_hash(previous, run.entries()), prints.hex(), 0)
        entries, own_only, legacy = self._entries_read(after)
        if not entries or own_only:
            return None
        through = entries[-1][0]
        ours = self.committed.hashes_between(after, through)
        if ours:
            read = dict(entries)
            read.update(ours)  # a row deleted or rewritten since is sealed as it was
            entries = sorted(read.items())
        present = {p for p, _ in entries}
        missing = [p for p in range(after + 1, through) if p not in present]
        return Span(through, len(entries), missing, log_hash(previous, entries),
                    fingerprints_of(h for _, h in entries), legacy)

    def _entries_read(self, after: int) -> tuple[list[tuple[int, bytes]], bool, int]:
        """(position, hash) of the events after `after`, read from the log's headers;
        whether they are all the audit log's own; and the last position of one stored
        before the keys (0: none)."""
        entries: list[tuple[int, bytes]] = []
        own_only = True
        legacy = 0
        position = after
        while len(entries) < SEAL_MAX_EVENTS:
            batch = notification_headers(self.app, position, READ_BATCH)
            if not batch:
                break
            for notification_id, topic, head in batch:
                own = head_hash(head)
                entries.append((notification_id, GENESIS if own is None else own))
                if head[:4] != MAC_MAGIC:
                    legacy = notification_id
                if topic not in OWN:
                    own_only = False
            position = batch[-1][0]
        return entries, own_only, legacy
