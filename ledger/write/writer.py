"""The write path: one writer thread per process that commits commands in groups.

A command is a function of a `UnitOfWork`: it loads aggregates, calls their methods (which
check before they trigger events) and returns a result. The writer drains its queue, runs each
command in turn against aggregates kept in memory, and saves every event of the group in one
transaction (group commit): the database's cost per transaction is paid once per group, not
once per command, and a hot account is never contended inside the process.

A command may name the aggregates it will load (`Reading`): `submit` then loads those the
writer has not cached, in the submitting thread, so that many requests wait on the database at
once and the writer thread, which runs one command after another, seldom waits at all.

Where the recorder can send an insert without waiting for it (PostgreSQL), the writer does:
it runs the next group's commands while the database stores the group before, then reads that
group's outcome, answers it, and only then sends the next (so the log keeps the order in which
commands ran). When the group before could not be stored, the next, which ran on its changes,
is evicted and runs again from what was stored.

When a group cannot be committed as one (another process wrote the same aggregate or changed
one it only read, a key was used before, or a command failed after it had triggered events),
its aggregates are evicted and each command is run again alone, in its own transaction, so one
failing command fails alone. (When keys were used before, the group first looks them up in one
query and runs again as a group.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, NoReturn, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from ledger.application import LedgerApp
from ledger.chain import ChainedEventStore
from ledger.domain.idempotency import IdempotencyRecord
from ledger.errors import Conflict, DomainError, NotFound, Unavailable
from ledger.store import latest_versions, load_aggregates

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

ATTEMPTS_ALONE = 5
SUBMIT_TIMEOUT_SECONDS = 60.0
WARM_CHUNK = 2_000  # aggregates `warm` loads a step (`load_aggregates` queries 400 at a time)


class IdempotencyKeyReused(DomainError):
    slug = "idempotency-key-reused"
    title = "The idempotency key was used with a different request"


@dataclass(frozen=True)
class StoredResponse:
    """The response first given to a keyed request; replays give it again, byte for byte."""

    status_code: int
    body: str


@dataclass(frozen=True)
class Idempotency:
    """A keyed request: its record is saved with the command's events, in one transaction."""

    principal_id: str
    key: str
    fingerprint: str
    render: Callable[[Any], StoredResponse]  # result or DomainError -> response

    @cached_property
    def record_id(self) -> UUID:
        return IdempotencyRecord.create_id(self.principal_id, self.key)


class UnitOfWork:
    """What one command reads and changes, in front of the writer's cache."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self.loaded: dict[UUID, Aggregate] = {}
        self.pending_before: list[int] = []  # of each aggregate loaded, in `loaded`'s order
        self.created: dict[UUID, Aggregate] = {}
        self.uncached: set[UUID] = set()

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        aggregate = ((self.created.get(aggregate_id) if self.created else None)
                     or self.loaded.get(aggregate_id))
        if aggregate is None:
            aggregate = self._writer.load(aggregate_id, cls)
            if aggregate is None:
                return None
            self.loaded[aggregate_id] = aggregate
            self.pending_before.append(len(aggregate._pending_events))  # not the property
        return aggregate if isinstance(aggregate, cls) else None

    def get(self, cls: type[A], aggregate_id: UUID) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{cls.__name__.lower()} {aggregate_id} was not found")
        return aggregate

    def add(self, *aggregates: Aggregate, cache: bool = True) -> None:
        """New aggregates to save with the command; `cache=False` for those seldom read
        again (a redemption's record), which the writer then does not keep in memory."""
        for aggregate in aggregates:
            self.created[aggregate.id] = aggregate
            if not cache:
                self.uncached.add(aggregate.id)

    def triggered_on_loaded(self) -> bool:
        """Whether the command changed an aggregate it loaded (so it cannot just be dropped)."""
        return any(len(a.pending_events) > before
                   for a, before in zip(self.loaded.values(), self.pending_before, strict=True))

    def changed(self) -> list[Aggregate]:
        loaded = [a for a, before in zip(self.loaded.values(), self.pending_before, strict=True)
                  if len(a.pending_events) > before]
        return loaded + list(self.created.values())


@dataclass(frozen=True)
class Reading(Generic[T]):
    """A command with the aggregates it will load named up front (see `Writer.prefetch`)."""

    run: Callable[[UnitOfWork], T]
    reads: tuple[UUID, ...]

    def __call__(self, uow: UnitOfWork) -> T:
        return self.run(uow)


_ABSENT = object()  # prefetched: not in the store


@dataclass
class _Submission:
    command: Callable[[UnitOfWork], Any]
    idempotency: Idempotency | None
    future: Future[Any]
    waiter: asyncio.Future[Any] | None = None  # an event loop's, for `run`


W = TypeVar("W")


def _on_their_loops(waiting: list[tuple[asyncio.AbstractEventLoop, W]],
                    settle: Callable[[list[W]], None]) -> None:
    """Call `settle` on each event loop with what waits there, once a loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[W]] = {}
    for loop, item in waiting:
        by_loop.setdefault(loop, []).append(item)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(settle, items)


def _wake_waiters(group: list[_Submission]) -> None:
    """Hand each event loop the outcomes of its requests in this group (those resolved), in
    one call."""
    _on_their_loops([(s.waiter.get_loop(), s) for s in group
                     if s.waiter is not None and s.future.done()], _settle_waiters)


def _settle_waiters(submissions: list[_Submission]) -> None:
    """On the event loop: each waiter gets its future's outcome (every future of a group is
    resolved before the group's waiters are woken)."""
    for submission in submissions:
        waiter, future = submission.waiter, submission.future
        assert waiter is not None
        if waiter.done():  # timed out or cancelled meanwhile
            continue
        if (error := future.exception(timeout=0)) is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(future.result(timeout=0))


Q = TypeVar("Q")


def _queued(waiting: queue.SimpleQueue[Q | None]) -> list[Q]:
    """What `waiting` holds now, without waiting (the ends, None, left out)."""
    items: list[Q] = []
    while True:
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            return items
        if item is not None:
            items.append(item)


def _take(waiting: queue.SimpleQueue[Q | None], most: int) -> tuple[list[Q], bool]:
    """The next item of `waiting` (waited for) and those queued behind it, at most `most`; and
    whether the end (None) came among them."""
    first = waiting.get()
    if first is None:
        return [], True
    taken = [first]
    while len(taken) < most:
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            break
        if item is None:
            return taken, True
        taken.append(item)
    return taken, False


def _wake_fetched(asked: list[tuple[list[UUID], asyncio.Future[None]]]) -> None:
    """Tell each event loop that its requests' prefetches are done, in one call."""
    _on_their_loops([(fetched.get_loop(), fetched) for _, fetched in asked], _settle_fetched)


def _settle_fetched(futures: list[asyncio.Future[None]]) -> None:
    for fetched in futures:
        if not fetched.done():  # timed out or cancelled meanwhile
            fetched.set_result(None)


def _raise(error: Exception) -> NoReturn:
    raise error


def _fail_unanswered(group: list[_Submission], error: Exception) -> None:
    for submission in group:
        if not submission.future.done():
            submission.future.set_exception(error)


class _GroupFailed(Exception):
    """The group must be retried one command at a time."""


@dataclass
class _Prepared:
    """A group whose commands have run: the events to save, then the answers to give."""

    group: list[_Submission]
    outcomes: list[tuple[bool, Any]]  # (ok, result or DomainError) a command
    staged: dict[UUID, Aggregate]  # changed or created
    read_only: dict[UUID, int]  # the version each aggregate only read was at
    events: list[Any]
    snapshots: list[StoredEvent]

    @property
    def touched(self) -> list[UUID]:
        return [*self.staged, *self.read_only]


@dataclass
class _InFlight:
    """A group's insert, sent and its outcome not read yet (from `_store`: made when read)."""

    prepared: _Prepared
    result: Callable[[], Sequence[int]]  # waits for the insert: its notification ids
    started: float  # perf_counter


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
        self.cache_max_aggregates = cache_max_aggregates
        self.cache_max_records = cache_max_records
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
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._unsaved_snapshots: list[StoredEvent] = []  # see `_snapshots`
        # Idempotency records (one per keyed request) apart: a busy till's responses must not
        # push members' accounts out of memory. Only a retry reads one again.
        self._records: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._prefetched: dict[UUID, object] = {}  # filled by any thread, taken by the writer
        # SimpleQueues: a `put` and a `get` in C, where `Queue`'s are Python under a
        # condition (1 µs a command, on the writer's thread and the submitter's).
        self._queue: queue.SimpleQueue[_Submission | None] = queue.SimpleQueue()
        self._to_prefetch: queue.SimpleQueue[
            tuple[list[UUID], asyncio.Future[None]] | None] = queue.SimpleQueue()
        self._prefetcher: threading.Thread | None = None
        self._events: ChainedEventStore = app.events  # type: ignore[assignment]
        self._reads_checked_on_insert = getattr(app.recorder, "checks_reads_on_insert", False)
        self._snapshots_inserted_with_events = getattr(app.recorder, "inserts_snapshots", False)
        # Where the recorder can (`send_events`, PostgreSQL), a group's insert is sent and the
        # next group runs while the database stores it (`_sent`).
        self._sends_ahead = hasattr(app.recorder, "send_events")
        self._in_flight: _InFlight | None = None
        self._answered: list[list[_Submission]] = []  # resolved; their loops to be woken
        self._thread: threading.Thread | None = None
        self._drain_lock = threading.Lock()

    # --- public ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def cached_aggregates(self) -> int:
        """Aggregates (and answers to keyed requests) kept in memory."""
        return len(self._cache) + len(self._records)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="linli-writer", daemon=True)
            self._thread.start()
            self._prefetcher = threading.Thread(target=self._prefetch_loop,
                                                name="linli-prefetch", daemon=True)
            self._prefetcher.start()

    def stop(self) -> None:
        if self._prefetcher is not None:
            prefetcher, self._prefetcher = self._prefetcher, None  # `run` asks no more
            self._to_prefetch.put(None)
            prefetcher.join(timeout=30)
            # Asked as it stopped: the writer loads what they need itself.
            _wake_fetched(_queued(self._to_prefetch))
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
        """Queue a command (having fetched what it names it will read) for the writer."""
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
                    and (uncached := self._uncached(command.reads))):
                fetched: asyncio.Future[None] = loop.create_future()
                self._to_prefetch.put((uncached, fetched))
                await fetched
            waiter: asyncio.Future[T] = loop.create_future()
            self._enqueue(command, idempotency, waiter)
            return await waiter

    def _enqueue(
        self, command: Callable[[UnitOfWork], T], idempotency: Idempotency | None,
        waiter: asyncio.Future[T] | None = None,
    ) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put(_Submission(command, idempotency, future, waiter))
        if self._thread is None:  # no thread: run here (scripts, tests of the domain)
            self._drain()
        return future

    def execute(self, command: Callable[[UnitOfWork], T]) -> T:
        """Run a command and wait for its commit."""
        return self.submit(command).result(timeout=SUBMIT_TIMEOUT_SECONDS)

    def execute_keyed(
        self, command: Callable[[UnitOfWork], Any], idempotency: Idempotency
    ) -> StoredResponse:
        """Run a keyed command (or replay its first response) and wait for its commit."""
        result: StoredResponse = self.submit(command, idempotency).result(
            timeout=SUBMIT_TIMEOUT_SECONDS
        )
        return result

    def prefetch(self, aggregate_ids: Any) -> None:
        """Load the aggregates the writer has not cached, here and in one go, for the writer
        to take.

        Safe whatever happens meanwhile: an aggregate that changes after it was fetched is
        caught by the version checks of `_commit`, and its command runs again alone. Only an
        idempotency record's absence is believed (its key is claimed while its request runs,
        see `_presume_new_keys`); any other absence is looked up again by the writer.
        """
        if len(self._prefetched) > self.cache_max_aggregates:  # fetched but never taken
            self._prefetched.clear()
        wanted = self._uncached(aggregate_ids)
        if not wanted:
            return
        try:
            found = load_aggregates(self.app, wanted)
        except PersistenceError:
            return  # the writer will try again, and report it
        for aggregate_id in wanted:
            self._prefetched[aggregate_id] = found.get(aggregate_id, _ABSENT)

    def warm(self, aggregate_ids: Sequence[UUID], until: float) -> int:
        """Before `start`: load `aggregate_ids` (the most wanted first) into the cache, in
        chunks of one query each, until the cache is full or `time.monotonic()` passes
        `until`; returns how many were cached. The first commands after a restart then find
        their aggregates in memory, as they would have before it."""
        if self.running:
            raise RuntimeError("the writer is running: warm it before it starts")
        room = self.cache_max_aggregates - len(self._cache)
        wanted = list(dict.fromkeys(aggregate_ids))[:max(0, room)]
        cached = 0
        for start in range(0, len(wanted), WARM_CHUNK):
            if time.monotonic() >= until:
                break
            chunk = [i for i in wanted[start:start + WARM_CHUNK] if i not in self._cache]
            found = load_aggregates(self.app, chunk)
            for aggregate_id in chunk:
                aggregate = found.get(aggregate_id)
                if aggregate is not None:  # at the cold end: the more wanted stay warmer
                    self._cache[aggregate_id] = aggregate
                    self._cache.move_to_end(aggregate_id, last=False)
                    cached += 1
        return cached

    def _prefetch_loop(self) -> None:
        """The event loops' prefetches: all those queued meanwhile, in one `prefetch`."""
        while True:
            asked, stop = _take(self._to_prefetch, self.batch_max_commands)
            if asked:
                try:
                    self.prefetch([i for ids, _ in asked for i in ids])
                except Exception:  # the writer loads what is missing itself, and reports it
                    log.exception("prefetching failed")
                _wake_fetched(asked)
            if stop:
                return

    def _uncached(self, aggregate_ids: Any) -> list[UUID]:
        return [i for i in aggregate_ids
                if i not in self._cache and i not in self._records and i not in self._prefetched]

    def load(self, aggregate_id: UUID, cls: type[Aggregate] = Aggregate) -> Aggregate | None:
        """An aggregate from the cache, prefetched, or from the event store (then cached)."""
        aggregate = self._cache.get(aggregate_id)
        if aggregate is not None:
            self._cache.move_to_end(aggregate_id)
            return aggregate
        aggregate = self._records.get(aggregate_id)
        if aggregate is not None:
            self._records.move_to_end(aggregate_id)
            return aggregate
        fetched = self._prefetched.pop(aggregate_id, None)
        if isinstance(fetched, Aggregate):
            aggregate = fetched
        elif fetched is _ABSENT and cls is IdempotencyRecord:
            return None
        else:
            try:
                aggregate = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        self._remember(aggregate)
        return aggregate

    # --- the loop -------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            if self._in_flight is not None and self._queue.empty():
                self._safely(self._settle_in_flight)  # nothing to run meanwhile: answer now
            group, stop = _take(self._queue, self.batch_max_commands)
            if group:
                self._safely(self._run_group, group)
            if stop:
                self._safely(self._settle_in_flight)
                return

    def _drain(self) -> None:
        with self._drain_lock:
            if group := _queued(self._queue):
                self._safely(self._run_group, group)
                self._safely(self._settle_in_flight)

    def _safely(self, step: Callable[..., Any], *args: Any) -> None:
        """A defect must fail its requests, never stop the writer thread."""
        started = time.thread_time()
        try:
            step(*args)
        except Exception as error:
            log.exception("the writer failed")
            self._cache.clear()
            self._records.clear()
            with contextlib.suppress(Exception):  # a group sent before: its own outcome
                self._settle_in_flight()
            for group in self._answered:  # this step's requests still unanswered: the defect's
                _fail_unanswered(group, error)
        finally:
            answered, self._answered = self._answered, []
            for group in answered:
                _wake_waiters(group)
            self._put_snapshots()
            self.cpu_seconds += time.thread_time() - started

    def _run_group(self, group: list[_Submission]) -> None:
        self._presume_new_keys(group)
        self._answered.append(group)  # those of its requests answered when it ends
        if len(group) == 1:
            self._run_alone(group[0])
        elif not self._done_as_one(group):
            self._run_again(group)

    def _run_again(self, group: list[_Submission]) -> None:
        """After the group failed as one: as one again if keys it took as new had been used
        (now looked up), else one command at a time."""
        if not (self._look_up_keys(group) and self._committed(group)):
            for submission in group:
                self._run_alone(submission)

    def _run_alone(self, submission: _Submission) -> None:
        for _attempt in range(ATTEMPTS_ALONE):
            if self._committed([submission]):
                return
        submission.future.set_exception(
            Conflict("the records changed under this request too often; retry it")
        )

    def _done_as_one(self, group: list[_Submission]) -> bool:
        """The group run and stored (or sent) as one: whether it was (if not, nothing of it
        was)."""
        if not self._sends_ahead:
            return self._committed(group)
        sent = self._sent(group)
        if sent is None:  # it ran on changes that were then not stored: run it again
            self._presume_new_keys(group)
            return self._committed(group)
        return sent

    def _committed(self, group: list[_Submission]) -> bool:
        """The group run and stored as one, once any group sent before is: whether it was
        (if not, nothing of it was)."""
        self._settle_in_flight()
        try:
            if (prepared := self._prepare(group)) is not None:
                self._store(prepared)
            return True
        except _GroupFailed:
            self.attempts_failed += 1
            return False

    def _sent(self, group: list[_Submission]) -> bool | None:
        """The group run while the group sent before is stored, then that one settled and
        this one sent: True. False if this one failed as a group; None if that one's events
        could not be stored (nothing of this one is left, and that one is answered)."""
        try:
            prepared = self._prepare(group)
        except _GroupFailed:
            self.attempts_failed += 1
            self._settle_in_flight()
            return False
        assert prepared is not None  # only a group of one is answered by `_prepare`
        if not self._settle_in_flight(prepared.touched):
            return None
        if not prepared.events:
            self._store(prepared)
            return True
        started = time.perf_counter()
        try:
            result = self._events.send(prepared.events, self._cache.__contains__,
                                       **self._with_events(prepared))
        except PersistenceError as error:  # settled as an insert that failed
            result = functools.partial(_raise, error)
        self._in_flight = _InFlight(prepared, result, started)
        return True

    def _settle_in_flight(self, evict_if_failed: list[UUID] | None = None) -> bool:
        """Wait for the group sent before, and answer it. Whether its events were stored (if
        not, the aggregates `evict_if_failed` names, changed on top of its, are evicted
        before it runs again)."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return True
        group = in_flight.prepared.group
        self._answered.append(group)  # failed by `_safely` if a defect interrupts this
        try:
            if self._settled(in_flight):
                return True
            self._evict(evict_if_failed or [])
        except _GroupFailed:
            self.attempts_failed += 1
            self._evict(evict_if_failed or [])
            self._run_again(group)
        return False

    def _prepare(self, group: list[_Submission]) -> _Prepared | None:
        """Run every command of the group against the aggregates in memory, and collect the
        events to save (which `_store` or `_sent` saves in one transaction).

        Raises `_GroupFailed`, having resolved no future and evicted every aggregate the group
        changed; or, for a group of one whose command failed, resolves it and returns None.
        """
        outcomes: list[tuple[bool, Any]] = []
        staged: dict[UUID, Aggregate] = {}
        read_versions: dict[UUID, int] = {}
        alone = len(group) == 1
        for submission in group:
            uow = UnitOfWork(self)
            try:
                outcome = (True, self._execute(submission, uow))
            except DomainError as error:
                if uow.triggered_on_loaded():
                    self._evict([*staged, *uow.loaded])
                    if alone:
                        submission.future.set_exception(error)
                        return None
                    raise _GroupFailed from error
                outcome = (False, error)
            except Exception as error:  # a defect: fail this command, never the others
                self._evict([*staged, *uow.loaded])
                if alone:
                    log.exception("command failed")
                    submission.future.set_exception(error)
                    return None
                raise _GroupFailed from error
            loaded = zip(uow.loaded.items(), uow.pending_before, strict=True)
            for (aggregate_id, aggregate), before in loaded:
                if len(aggregate._pending_events) > before:  # as in `find`
                    if staged.setdefault(aggregate_id, aggregate) is not aggregate:
                        self._second_copy(aggregate_id, [*staged, *uow.loaded])
                    if aggregate_id not in self._cache:  # `load` cached it; pushed out since
                        self._remember(aggregate)
                else:  # the version a command of the group first read
                    read_versions.setdefault(aggregate_id, aggregate._version)
            for aggregate_id, aggregate in uow.created.items():
                if staged.setdefault(aggregate_id, aggregate) is not aggregate:
                    self._second_copy(aggregate_id, [*staged, *uow.loaded])
                if aggregate_id not in uow.uncached:
                    self._remember(aggregate)
            outcomes.append(outcome)

        read_only = {i: v for i, v in read_versions.items() if i not in staged}
        snapshots = self._snapshots(staged.values())
        # Straight to the event store: `Application.save` adds only runtime protocol checks
        # per event here (no library snapshots, no repository cache), a sixth of the CPU.
        events = [e for aggregate in staged.values() for e in aggregate.collect_events()]
        if not (events and self._reads_checked_on_insert):
            self._check_reads_are_current(read_only, staged)
        return _Prepared(group, outcomes, staged, read_only, events, snapshots)

    def _second_copy(self, aggregate_id: UUID, touched: list[UUID]) -> NoReturn:
        """A command changed a copy of an aggregate another command of the group changed
        too (a defect: the first copy's events would be lost): the group runs again."""
        log.error("two copies of %s changed in one group", aggregate_id)
        self._evict(touched)
        raise _GroupFailed(f"two copies of {aggregate_id} changed in one group")

    def _with_events(self, prepared: _Prepared) -> dict[str, Any]:
        """What the recorder checks and inserts with the group's events, where it can."""
        with_events: dict[str, Any] = {}
        if self._reads_checked_on_insert:
            with_events["read_versions"] = prepared.read_only
        if prepared.snapshots and self._snapshots_inserted_with_events:
            with_events["snapshots"] = prepared.snapshots
        return with_events

    def _store(self, prepared: _Prepared) -> None:
        """Save the group's events in one transaction and resolve every future; or raise
        `_GroupFailed` having resolved none."""
        if not prepared.events:
            self._stored(prepared, [], 0.0)
            return
        # Heads kept for the aggregates kept in memory (not records, nor redemptions).
        store = functools.partial(self._events.store, prepared.events, self._cache.__contains__,
                                  **self._with_events(prepared))
        self._settled(_InFlight(prepared, store, time.perf_counter()))

    def _settled(self, in_flight: _InFlight) -> bool:
        """The group's insert waited for (or, from `_store`, made), and every future
        resolved: whether its events were stored. `_GroupFailed` if it must run again."""
        prepared = in_flight.prepared
        try:
            notification_ids = in_flight.result()
        except PersistenceError as error:
            stored_anyway = self._after_failed_insert(prepared, error)
            if stored_anyway is None:
                return False
            notification_ids = stored_anyway
        self._stored(prepared, notification_ids, time.perf_counter() - in_flight.started)
        return True

    def _after_failed_insert(self, prepared: _Prepared,
                             error: PersistenceError) -> Sequence[int] | None:
        """An insert that raised: [] if its events were stored all the same; None if they were
        not (every future resolved); `_GroupFailed` if the group must run again."""
        events, staged = prepared.events, prepared.staged
        if isinstance(error, IntegrityError):
            # A stream written, or only read, by another process since we loaded it. Or: the
            # library retried an insert whose connection dropped, and the first attempt had
            # committed, so the retry conflicts with our own events. Re-read before failing.
            if not self._were_stored(events):
                self._evict(prepared.touched)
                raise _GroupFailed from error
            return []
        stored = self._were_stored(events)
        if stored:
            return []
        self._evict(staged)
        log.error("could not save a group of %d commands", len(prepared.group),
                  exc_info=error)
        verdict = "did not take" if stored is False else "may not have taken"
        for submission in prepared.group:
            submission.future.set_exception(
                Unavailable(f"the database {verdict} the write: {error}")
            )
        return None

    def _stored(self, prepared: _Prepared, notification_ids: Sequence[int],
                stored_in: float) -> None:
        """After the group's events were stored: the counters, and every future resolved."""
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
        if not self._snapshots_inserted_with_events:
            self._unsaved_snapshots += prepared.snapshots  # written once answered
        self.store_seconds += stored_in
        self.batches_committed += 1
        self.commands_committed += len(prepared.group)
        self.events_committed += len(events)
        for submission, (ok, value) in zip(prepared.group, prepared.outcomes, strict=True):
            if ok:
                submission.future.set_result(value)
            else:
                submission.future.set_exception(value)

    def _presume_new_keys(self, group: list[_Submission]) -> None:
        """Take the group's idempotency records not in the cache as absent, without a query.

        A key is new but for retries, whose record this writer has cached since it saved it.
        A record that exists all the same (saved by another process, or forgotten since) makes
        the group's insert fail on its version: the group's keys are then looked up in one
        query (`_look_up_keys`) and the group runs again.
        """
        for submission in group:
            if submission.idempotency is not None:
                record_id = submission.idempotency.record_id
                if record_id not in self._records:
                    self._prefetched[record_id] = _ABSENT

    def _look_up_keys(self, group: list[_Submission]) -> bool:
        """After a group failed: which of the keys it took as new were used before, in one
        query. If any were (retries after an outage, say), the group can run again as a
        group, those records read from the store and the others known to be absent."""
        record_ids = [s.idempotency.record_id for s in group
                      if s.idempotency is not None and s.idempotency.record_id not in self._records]
        if not record_ids:
            return False
        try:
            used = latest_versions(self.app, record_ids)
        except PersistenceError:
            return False
        for record_id in record_ids:
            if record_id in used:
                self._prefetched.pop(record_id, None)  # read from the store when needed
            else:
                self._prefetched[record_id] = _ABSENT
        return bool(used)

    def _execute(self, submission: _Submission, uow: UnitOfWork) -> Any:
        spec = submission.idempotency
        if spec is None:
            return submission.command(uow)
        record = uow.find(IdempotencyRecord, spec.record_id)
        if record is not None:
            if record.fingerprint != spec.fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was first used with a different request"
                )
            return StoredResponse(record.status_code, record.body)
        try:
            response = spec.render(submission.command(uow))
        except DomainError as error:
            if uow.triggered_on_loaded():
                raise
            uow.created.clear()
            response = spec.render(error)
        uow.add(IdempotencyRecord(
            principal_id=spec.principal_id, key=spec.key, fingerprint=spec.fingerprint,
            status_code=response.status_code, body=response.body,
        ))
        return response

    def _were_stored(self, events: list[Any]) -> bool | None:
        """Whether `events` (saved in one transaction) are in the store: None if unknown.

        A commit whose acknowledgement was lost may have been stored; the first event's
        type and timestamp tell ours from another process's event at the same version.
        """
        if not events:
            return False
        first: Any = events[0]
        try:
            found = list(self.app.events.get(first.originator_id,
                                             gt=first.originator_version - 1,
                                             lte=first.originator_version))
        except PersistenceError:
            log.warning("could not re-read a write whose commit outcome is unknown",
                        exc_info=True)
            return None
        stored: Any = found[0] if found else None
        return type(stored) is type(first) and stored.timestamp == first.timestamp

    def _check_reads_are_current(
        self, read_only: dict[UUID, int], staged: dict[UUID, Aggregate]
    ) -> None:
        """Aggregates only read (a rule, a member) may have changed in another process.

        Changed ones are caught when they are saved; read ones are checked by the insert
        where the recorder can (`checks_reads_on_insert`, PostgreSQL), else here, in one
        query; a stale one sends the group round again with fresh loads.
        """
        stored = latest_versions(self.app, list(read_only))
        stale = [i for i, v in read_only.items() if stored.get(i, v) > v]
        if stale:
            self._evict([*stale, *staged])
            raise _GroupFailed(f"{len(stale)} aggregates changed in another process")

    # --- cache and snapshots --------------------------------------------------------------
    def _remember(self, aggregate: Aggregate) -> None:
        self._prefetched.pop(aggregate.id, None)
        cache, limit = ((self._records, self.cache_max_records)
                        if isinstance(aggregate, IdempotencyRecord)
                        else (self._cache, self.cache_max_aggregates))
        cache[aggregate.id] = aggregate
        cache.move_to_end(aggregate.id)
        while len(cache) > limit:
            _, oldest = cache.popitem(last=False)
            if oldest.pending_events:  # never drop unsaved work; put it back
                cache[oldest.id] = oldest
                break
            if cache is self._cache:  # nor keep the head of a stream let go (memory)
                self._events.forget_head(oldest.id)

    def _evict(self, aggregate_ids: Any) -> None:
        for aggregate_id in list(aggregate_ids):
            aggregate = (self._cache.pop(aggregate_id, None)
                         or self._records.pop(aggregate_id, None))
            if aggregate is not None:
                aggregate.collect_events()

    def _snapshots(self, staged: Iterable[Aggregate]) -> list[StoredEvent]:
        """Snapshots of the aggregates whose pending events cross a multiple of the interval,
        encoded now (a snapshot shares its aggregate's lists and dicts, which the next command
        may change): inserted with the group's events where the recorder can
        (`inserts_snapshots`, PostgreSQL), else written by `_put_snapshots` once the group's
        requests have their answers."""
        if self.app.snapshots is None:
            return []
        interval = self.snapshot_interval_events
        mapper = self.app.snapshots.mapper
        # The library's attributes, not its properties: a Python call each, 3 an aggregate.
        return [mapper.to_stored_event(type(a).Snapshot.take(a)) for a in staged
                if (v := a._version) // interval > (v - len(a._pending_events)) // interval]

    def _put_snapshots(self) -> None:
        snapshots, self._unsaved_snapshots = self._unsaved_snapshots, []
        if snapshots and self.app.snapshots is not None:
            try:
                self.app.snapshots.recorder.insert_events(snapshots)
            except PersistenceError:  # a snapshot is an optimisation: never fail a commit
                log.warning("could not store %d snapshots", len(snapshots), exc_info=True)
