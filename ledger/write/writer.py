"""The writer: one thread a process that runs commands and commits them in groups.

The writer drains its queue, runs each command of a group in turn against the aggregates in
memory (`AggregateCache`), and saves every event of the group in one transaction (group
commit): the database's cost per transaction is paid once per group, not once per command, and
a hot account is never contended inside the process.

Where the group store sends ahead (PostgreSQL), the writer runs the next group's commands
while the database stores the group before, then reads that group's outcome, answers it, and
only then sends the next (so the log keeps the order in which commands ran).

A group that cannot be committed as one (another process wrote an aggregate it changed or
changed one it only read, a key was used before, or a command failed after it had triggered
events) stores nothing and answers nothing; it then runs by the retry plan (`_run_by_plan`):
as a group again if it ran on changes that were not stored, then with its keys looked up,
then each command alone in its own transaction, so one failing command fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from ledger.application import LedgerApp
from ledger.errors import Conflict, DomainError, Unavailable
from ledger.settings import Settings
from ledger.write import keyed
from ledger.write.bridge import Submission, fail_unanswered, queued, take, wake_waiters
from ledger.write.cache import AggregateCache
from ledger.write.group_store import GroupStore, PendingInsert, group_store_for
from ledger.write.keyed import Idempotency, StoredResponse
from ledger.write.prefetch import Prefetcher
from ledger.write.unit_of_work import Reading, UnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS_ALONE = 5
SUBMIT_TIMEOUT_SECONDS = 60.0


class Outcome(Enum):
    """How an attempt to commit a group as one ended."""

    STORED = auto()  # its events are stored and every request has its answer
    ANSWERED = auto()  # nothing stored, every request answered (refused alone, or unavailable)
    FAILED = auto()  # nothing stored, nothing answered: the group must run again
    RAN_ON_LOST = auto()  # it ran on the changes of a group that was then not stored


@dataclass
class _Prepared:
    """A group whose commands have run: the events to save, then the answers to give."""

    group: list[Submission]
    outcomes: list[tuple[bool, Any]]  # (ok, result or DomainError) a command
    staged: dict[UUID, Aggregate]  # changed or created
    read_only: dict[UUID, int]  # the version each aggregate only read was at
    events: list[Any]
    snapshots: list[StoredEvent]

    @property
    def touched(self) -> list[UUID]:
        return [*self.staged, *self.read_only]


@dataclass
class _GroupInsert:
    """A group's insert: sent ahead, its outcome not read yet; or made when read."""

    prepared: _Prepared
    result: PendingInsert
    started: float  # perf_counter
    read: bool = False  # its outcome was taken (it is read once)


class Writer:
    """Runs commands on one thread and commits them in groups."""

    def __init__(
        self,
        app: LedgerApp,
        *,
        batch_max_commands: int = 256,
        snapshot_interval_events: int = 20,
        cache_max_aggregates: int = 20_000,
        cache_max_records: int = 2_000,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.app = app
        self.batch_max_commands = batch_max_commands
        self.snapshot_interval_events = snapshot_interval_events
        self.on_commit = on_commit
        self.last_position = 0
        # What `/metrics` shows: since start, groups committed, their commands and events,
        # the wall time of their inserts, the CPU time of running groups (near one second a
        # second, the writer's thread is what limits throughput), and attempts that could
        # not commit as a group.
        self.batches_committed = 0
        self.commands_committed = 0
        self.events_committed = 0
        self.store_seconds = 0.0
        self.cpu_seconds = 0.0
        self.attempts_failed = 0
        # A write found the database out of reach: groups are refused until a probe reaches it.
        self.database_down = False
        self.cache = AggregateCache(app, max_aggregates=cache_max_aggregates,
                                    max_records=cache_max_records)
        self.store: GroupStore = group_store_for(app, self.cache.holds)
        self._queue: queue.SimpleQueue[Submission | None] = queue.SimpleQueue()
        self._prefetcher: Prefetcher | None = None
        self._thread: threading.Thread | None = None
        self._drain_lock = threading.Lock()

    @classmethod
    def configured(cls, app: LedgerApp, settings: Settings,
                   on_commit: Callable[[int], None] | None = None) -> Writer:
        """A writer for `app` with the group size, snapshot interval and cache bounds of
        `settings`."""
        return cls(app, batch_max_commands=settings.batch_max_commands,
                   snapshot_interval_events=settings.snapshot_interval_events,
                   cache_max_aggregates=settings.cache_max_aggregates,
                   cache_max_records=settings.cache_max_records, on_commit=on_commit)

    # --- public ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Tells whether the writer's thread runs (else commands run in the submitting
        thread)."""
        return self._thread is not None

    @property
    def cached_aggregates(self) -> int:
        """Aggregates (and answers to keyed requests) kept in memory."""
        return len(self.cache)

    @property
    def cache_max_aggregates(self) -> int:
        """The most aggregates the cache keeps (what a warm-up may fill)."""
        return self.cache.max_aggregates

    def start(self) -> None:
        """Starts the writer's thread and the prefetch thread (a second start does nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="linli-writer", daemon=True)
            self._thread.start()
            self._prefetcher = Prefetcher(self.cache, self.batch_max_commands)
            self._prefetcher.start()

    def stop(self) -> None:
        """Stops both threads, the writer's once it has answered every request queued."""
        if self._prefetcher is not None:
            prefetcher, self._prefetcher = self._prefetcher, None  # `run` asks no more
            prefetcher.stop()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def submit(
        self, command: Callable[[UnitOfWork], T], idempotency: Idempotency | None = None
    ) -> Future[T]:
        """Queues a command (having fetched what it names it will read) for the writer."""
        if self._thread is not None and isinstance(command, Reading):
            self.prefetch(command.reads)
        return self._enqueue(command, idempotency)

    async def run(
        self, command: Callable[[UnitOfWork], T], idempotency: Idempotency | None = None
    ) -> T:
        """`submit` for an event loop: what must be fetched is fetched on the prefetch thread
        (with what other requests name meanwhile, in one query), and the loop is woken once
        per group for all its requests, not once per request."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(SUBMIT_TIMEOUT_SECONDS):
            if (self._prefetcher is not None and isinstance(command, Reading)
                    and (uncached := self.cache.uncached(command.reads))):
                await self._prefetcher.ask(uncached, loop)
            waiter: asyncio.Future[T] = loop.create_future()
            self._enqueue(command, idempotency, waiter)
            return await waiter

    def execute(self, command: Callable[[UnitOfWork], T]) -> T:
        """Runs a command and waits for its commit."""
        return self.submit(command).result(timeout=SUBMIT_TIMEOUT_SECONDS)

    def execute_keyed(
        self, command: Callable[[UnitOfWork], Any], idempotency: Idempotency
    ) -> StoredResponse:
        """Runs a keyed command (or replays its first response) and waits for its commit."""
        result: StoredResponse = self.submit(command, idempotency).result(
            timeout=SUBMIT_TIMEOUT_SECONDS
        )
        return result

    def prefetch(self, aggregate_ids: Iterable[UUID]) -> None:
        """Loads the aggregates the writer does not hold, here and in one go, for the writer
        to take (see `AggregateCache.fetch`)."""
        self.cache.fetch(aggregate_ids)

    def warm(self, aggregate_ids: Sequence[UUID], until: float) -> int:
        """Before `start`: loads `aggregate_ids` (the most wanted first) into the cache until
        it is full or `time.monotonic()` passes `until`; returns how many were cached. The
        first commands after a restart then find their aggregates in memory, as they would
        have before it."""
        if self.running:
            raise RuntimeError("the writer is running: warm it before it starts")
        return self.cache.warm(aggregate_ids, until)

    def _enqueue(
        self, command: Callable[[UnitOfWork], T], idempotency: Idempotency | None,
        waiter: asyncio.Future[T] | None = None,
    ) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put(Submission(command, idempotency, future, waiter))
        if self._thread is None:  # no thread: run here (scripts, tests of the domain)
            self._drain()
        return future

    # --- the loop -------------------------------------------------------------------------
    def _loop(self) -> None:
        sent: _GroupInsert | None = None  # the group sent ahead, its outcome not read yet
        while True:
            if sent is not None and self._queue.empty():
                sent = self._step(None, sent)  # nothing to run meanwhile: answer it now
            group, stop = take(self._queue, self.batch_max_commands)
            if group:
                sent = self._step(group, sent)
            if stop:
                self._step(None, sent)
                return

    def _drain(self) -> None:
        with self._drain_lock:
            if group := queued(self._queue):
                self._step(None, self._step(group, None))

    def _step(self, group: list[Submission] | None,
              sent_before: _GroupInsert | None) -> _GroupInsert | None:
        """Runs `group` (if any) and answers the group sent before; returns the group it
        leaves sent ahead. A defect fails the requests of both, never the writer's thread."""
        started = time.thread_time()
        answering = [group] if group else []  # the groups whose requests this step answers
        if sent_before is not None:
            answering.insert(0, sent_before.prepared.group)
        sent: _GroupInsert | None = None
        try:
            if group is None:
                self._settle(sent_before)
            else:
                sent = self._run_group(group, sent_before)
        except Exception as error:
            log.exception("the writer failed")
            self.cache.clear()
            if sent_before is not None and not sent_before.read:
                with contextlib.suppress(Exception):  # a group sent before: its own outcome
                    self._settle(sent_before)
            for unanswered in answering:
                fail_unanswered(unanswered, error)
        finally:
            for answered in answering:
                wake_waiters(answered)
            self.store.write_held_snapshots()
            self.cpu_seconds += time.thread_time() - started
        return sent

    # --- the retry plan -------------------------------------------------------------------
    def _run_group(self, group: list[Submission],
                   sent_before: _GroupInsert | None) -> _GroupInsert | None:
        """Runs `group` to its answers, answering the group sent before on the way; returns
        the group if it is left sent ahead. While the database is out of reach (a write
        failed so, and a probe still finds no primary) the group is refused at once, nothing
        attempted, rather than each group waiting out its own failed insert."""
        if self.database_down:
            self._settle(sent_before)
            if not self.store.reachable():
                for submission in group:
                    submission.future.set_exception(Unavailable("write-not-taken"))
                return None
            self.database_down = False
            log.warning("the database answers again: writes resume")
        keyed.presume_new(self.cache, group)
        if len(group) == 1:
            self._settle(sent_before)
            self._run_alone(group[0])
            return None
        return self._run_by_plan(group, self._as_a_group(group, sent_before))

    def _run_by_plan(self, group: list[Submission],
                     as_a_group: Outcome | _GroupInsert) -> _GroupInsert | None:
        """Runs a group by the retry plan until every request has its answer, from how its
        attempt as a group ended (`as_a_group`); returns the group if it is left sent ahead.

        The plan: as a group (the attempt made by the caller); as a group again, from what
        was stored, if it ran on changes of the group before that were not; as a group again
        if keys it took as new had been used, looked up in one query; then each command
        alone, in its own transaction, so that a failing command fails alone.
        """
        if isinstance(as_a_group, _GroupInsert):  # answered once its insert is read
            return as_a_group
        outcome = as_a_group
        if outcome is Outcome.RAN_ON_LOST:
            keyed.presume_new(self.cache, group)
            outcome = self._commit(group)
        if outcome is not Outcome.FAILED:
            return None
        if keyed.look_up(self.app, self.cache, group) and (
                self._commit(group) is not Outcome.FAILED):
            return None
        for submission in group:
            self._run_alone(submission)
        return None

    def _run_alone(self, submission: Submission) -> None:
        """Runs one command in its own transaction, again while the attempt fails (other
        processes' writes), at most `ATTEMPTS_ALONE` times; then answers `Conflict`."""
        for _attempt in range(ATTEMPTS_ALONE):
            if self._commit([submission]) is not Outcome.FAILED:
                return
        submission.future.set_exception(
            Conflict("concurrent")
        )

    def _as_a_group(self, group: list[Submission],
                    sent_before: _GroupInsert | None) -> Outcome | _GroupInsert:
        """Runs the group and stores it as one. Where the store sends ahead, runs it while the
        group sent before is stored, answers that one, then sends this one (its outcome read
        by the next step): RAN_ON_LOST if that one's events were not stored."""
        if not self.store.sends_ahead:
            assert sent_before is None
            return self._commit(group)
        prepared = self._prepare(group)
        if isinstance(prepared, Outcome):  # FAILED: a group of many is not answered here
            self._settle(sent_before)
            return prepared
        if not self._settle(sent_before, prepared.touched):
            return Outcome.RAN_ON_LOST
        if not prepared.events:
            return self._store(prepared)
        started = time.perf_counter()
        insert = self.store.send(prepared.events, prepared.read_only, prepared.snapshots)
        return _GroupInsert(prepared, insert, started)

    def _commit(self, group: list[Submission]) -> Outcome:
        """Runs the group and stores it as one, in one transaction, with nothing sent ahead:
        STORED or ANSWERED; or FAILED, having stored and answered nothing."""
        prepared = self._prepare(group)
        if isinstance(prepared, Outcome):
            return prepared
        return self._store(prepared)

    def _settle(self, sent: _GroupInsert | None, changed_on_top: Collection[UUID] = ()) -> bool:
        """Reads the outcome of the group sent before and answers it, by the retry plan if it
        must run again; tells whether its events were stored. If they were not, the
        aggregates `changed_on_top` names (changed on top of its) are evicted first."""
        if sent is None:
            return True
        outcome = self._read(sent)
        if outcome is Outcome.STORED:
            return True
        self.cache.evict(changed_on_top)
        if outcome is Outcome.FAILED:
            self._run_by_plan(sent.prepared.group, outcome)
        return False

    # --- one attempt ----------------------------------------------------------------------
    def _prepare(self, group: list[Submission]) -> _Prepared | Outcome:
        """Runs every command of the group against the aggregates in memory, and collects
        the events to save in one transaction.

        Returns FAILED having answered nothing and evicted every aggregate the group changed;
        or, for a group of one whose command failed, ANSWERED, having answered it.
        """
        outcomes: list[tuple[bool, Any]] = []
        staged: dict[UUID, Aggregate] = {}
        read_versions: dict[UUID, int] = {}
        alone = len(group) == 1
        cache, kept = self.cache, self.cache.aggregates
        for submission in group:
            uow = UnitOfWork(cache)
            try:
                spec = submission.idempotency
                outcome = (True, submission.command(uow) if spec is None
                           else keyed.run_keyed(submission.command, spec, uow))
            except DomainError as error:
                if uow.triggered_on_loaded():
                    cache.evict([*staged, *uow.loaded])
                    if alone:
                        submission.future.set_exception(error)
                        return Outcome.ANSWERED
                    return self._failed(())
                outcome = (False, error)
            except Exception as error:  # a defect: fail this command, never the others
                cache.evict([*staged, *uow.loaded])
                if alone:  # its caller logs the traceback, having the error
                    log.error("a command failed: %s", type(error).__name__)
                    submission.future.set_exception(error)
                    return Outcome.ANSWERED
                return self._failed(())
            loaded = zip(uow.loaded.items(), uow.pending_before, strict=True)
            for (aggregate_id, aggregate), before in loaded:
                if len(aggregate._pending_events) > before:  # as in `UnitOfWork.find`
                    if staged.setdefault(aggregate_id, aggregate) is not aggregate:
                        return self._second_copy(aggregate_id, [*staged, *uow.loaded])
                    if aggregate_id not in kept:  # loaded and kept; pushed out since
                        cache.remember(aggregate)
                else:  # the version a command of the group first read
                    read_versions.setdefault(aggregate_id, aggregate._version)
            for aggregate_id, aggregate in uow.created.items():
                if staged.setdefault(aggregate_id, aggregate) is not aggregate:
                    return self._second_copy(aggregate_id, [*staged, *uow.loaded])
                if aggregate_id not in uow.uncached:
                    cache.remember(aggregate)
            outcomes.append(outcome)

        read_only = {i: v for i, v in read_versions.items() if i not in staged}
        snapshots = self._snapshots(staged.values())
        # Straight to the event store, not through `Application.save` (see `ledger.write`).
        events = [e for aggregate in staged.values() for e in aggregate.collect_events()]
        # Aggregates only read (a rule, a member) may have changed in another process: those
        # changed are caught when they are saved, those only read checked here or by the
        # insert; a stale one sends the group round again with fresh loads.
        if stale := self.store.stale_reads(read_only, bool(events)):
            return self._failed([*stale, *staged])
        return _Prepared(group, outcomes, staged, read_only, events, snapshots)

    def _second_copy(self, aggregate_id: UUID, touched: list[UUID]) -> Outcome:
        """A command changed a copy of an aggregate another command of the group changed
        too (a defect: the first copy's events would be lost): the group runs again."""
        log.error("two copies of %s changed in one group", aggregate_id)
        return self._failed(touched)

    def _failed(self, touched: Iterable[UUID]) -> Outcome:
        """Evicts what the failed attempt touched, counts the attempt: FAILED."""
        self.cache.evict(touched)
        self.attempts_failed += 1
        return Outcome.FAILED

    def _store(self, prepared: _Prepared) -> Outcome:
        """Saves the group's events in one transaction and answers every request: STORED or
        ANSWERED (unavailable); or FAILED, having answered none."""
        if not prepared.events:
            self._stored(prepared, [], 0.0)
            return Outcome.STORED
        insert = self.store.insert(prepared.events, prepared.read_only, prepared.snapshots)
        return self._read(_GroupInsert(prepared, insert, time.perf_counter()))

    def _read(self, insert: _GroupInsert) -> Outcome:
        """Waits for the group's insert (or makes it) and answers every request: STORED;
        ANSWERED if the database failed it (unavailable); FAILED if the group must run again,
        having answered none."""
        insert.read = True
        prepared = insert.prepared
        events = prepared.events
        try:
            notification_ids = insert.result()
        except IntegrityError:
            # A stream written, or only read, by another process since we loaded it. Or: the
            # library retried an insert whose connection dropped, and the first attempt had
            # committed, so the retry conflicts with our own events. Re-read before failing.
            if not self.store.were_stored(events):
                return self._failed(prepared.touched)
            notification_ids = []
        except PersistenceError as error:
            reachable = self.store.reachable()
            stored = self.store.were_stored(events) if reachable else None
            if not stored:
                self.cache.evict(prepared.staged)
                verdict = "did not take" if stored is False else "may not have taken"
                log.error("could not save a group of %d commands: the database %s the write",
                          len(prepared.group), verdict, exc_info=error)
                detail = "write-not-taken" if stored is False else "write-unknown"
                for submission in prepared.group:
                    submission.future.set_exception(Unavailable(detail))
                self.database_down = not reachable
                return Outcome.ANSWERED
            notification_ids = []
        self._stored(prepared, notification_ids, time.perf_counter() - insert.started)
        return Outcome.STORED

    def _stored(self, prepared: _Prepared, notification_ids: Sequence[int],
                stored_in: float) -> None:
        """After the group's events were stored: the counters, and every request answered."""
        events = prepared.events
        if notification_ids:
            self.last_position = max(notification_ids)
        elif events:  # stored, acknowledgement lost: the head is at or after our events
            try:
                head = self.app.recorder.max_notification_id() or 0
            except PersistenceError:
                head = self.last_position
            self.last_position = max(self.last_position, head)
        if events and self.on_commit is not None:
            self.on_commit(self.last_position)
        self.store.hold_snapshots(prepared.snapshots)
        self.store_seconds += stored_in
        self.batches_committed += 1
        self.commands_committed += len(prepared.group)
        self.events_committed += len(events)
        for submission, (ok, value) in zip(prepared.group, prepared.outcomes, strict=True):
            if ok:
                submission.future.set_result(value)
            else:
                submission.future.set_exception(value)

    def _snapshots(self, staged: Iterable[Aggregate]) -> list[StoredEvent]:
        """Takes snapshots of the aggregates whose pending events cross a multiple of the
        interval, encoded now (a snapshot shares its aggregate's lists and dicts, which the
        next command may change); the group store inserts them with the group's events or
        writes them once the group's requests have their answers."""
        if self.app.snapshots is None:
            return []
        interval = self.snapshot_interval_events
        mapper = self.app.snapshots.mapper
        return [mapper.to_stored_event(type(a).Snapshot.take(a)) for a in staged
                if (v := a._version) // interval > (v - len(a._pending_events)) // interval]
