"""The projection runner: follows the notification log and applies each view exactly once.

A batch of events goes to every view that lacks it in one transaction, together with each
view's tracking position; each view keeps its own position, so one view can be rebuilt alone.

Both backends are followed the same way: by polling the log (SQLite cannot subscribe), woken
at once by the writer after each commit so reads wait milliseconds, not a poll
interval. Each view's rows and its tracking position change in one transaction, and the
position only moves forward from the value this runner last read, so an event is never applied
twice, even with several runners (or a rebuild) on the same database. A runner that finds a
view moved by another takes up the stored positions: its `position` (what reads of this
process wait for) passes the events the other applied.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, delete, select, update

from ledger.application import LedgerApp
from ledger.settings import Settings
from ledger.store import events_between
from projections.bulk import upsert
from projections.catalogue import all_views
from projections.tables import tracking
from projections.view import Positioned, Remembering, Replay, View, replay_of

log = logging.getLogger(__name__)

GATHER_STEP_SECONDS = 0.002  # how soon a waiting read ends a gathering
# After a failed batch (the database out of reach: a restart, a failover), the next try waits
# this long, then reads the views' positions again.
FAILED_PAUSE_SECONDS = 0.5


def _pause(stop: Signal, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile (a process's flag does not wait)."""
    until = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < until:
        time.sleep(0.05)


class Signal(Protocol):
    """A `threading.Event` or a `multiprocessing.Event`."""

    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...
    def clear(self) -> None: ...


class ReadsWaiting:
    """How many reads wait for the views, counted by their threads in `count` (a ctypes
    integer; a shared one for a follower in a child process to see)."""

    def __init__(self, count: Any) -> None:
        self.count = count
        self._lock = threading.Lock()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        with self._lock:
            self.count.value += 1
        try:
            yield
        finally:
            with self._lock:
                self.count.value -= 1

    def any(self) -> bool:
        return bool(self.count.value)


# Made once: SQLAlchemy then reuses its compiled form for every batch.
_ADVANCE = (update(tracking)
            .where(tracking.c.name.in_(bindparam("names", expanding=True)),
                   tracking.c.position == bindparam("before"))
            .values(position=bindparam("end")))


class ProjectionRunner:
    """Keeps the views up to date with the event store."""

    def __init__(
        self,
        app: LedgerApp,
        engine: Engine,
        views: Sequence[View] | None = None,
        *,
        poll_seconds: float = 0.1,
        batch_events: int = 1_000,
        rebuild_batch_events: int = 10_000,
        gather_seconds: float = 0.0,
    ) -> None:
        self.app = app
        self.engine = engine
        self.views = list(views if views is not None else all_views())
        self.poll_seconds = poll_seconds
        self.batch_events = batch_events
        self.rebuild_batch_events = rebuild_batch_events
        self.gather_seconds = gather_seconds
        self.caught_up = False  # the last batch reached the head of the log
        self._reads = ReadsWaiting(ctypes.c_int(0))  # in `wait_for`
        self.positions: dict[str, int] = {}
        self.errors = 0
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ensure_tracking_rows()

    @classmethod
    def configured(cls, app: LedgerApp, engine: Engine, settings: Settings) -> ProjectionRunner:
        """A runner of every view, as `settings` say."""
        return cls(app, engine, poll_seconds=settings.projection_poll_seconds,
                   batch_events=settings.projection_batch_events,
                   rebuild_batch_events=settings.rebuild_batch_events,
                   gather_seconds=settings.projection_gather_seconds)

    @property
    def position(self) -> int:
        """Every event up to here is in every view."""
        return min(self.positions.values(), default=0)

    # --- running --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="linli-projections",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self, _position: int = 0) -> None:
        """Called by the writer after a commit."""
        self._wake.set()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every view holds the event at `position` (read your writes)."""
        if self.position >= position:
            return True
        if self._thread is None:
            self.catch_up()
            return self.position >= position
        with self._reads.waiting():
            self._wake.set()
            deadline = time.monotonic() + timeout
            with self._changed:
                while self.position < position:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(remaining)
            return True

    def catch_up(self) -> int:
        """Apply everything recorded so far; returns how many events were read."""
        total = 0
        while (count := self.run_once()) > 0:
            total += count
        return total

    def _loop(self) -> None:
        self.follow(self._stop, self._wake, hurry=self._reads.any)

    def follow(self, stop: Signal, wake: Signal,
               published: Callable[[int], None] | None = None,
               hurry: Callable[[], bool] = lambda: False) -> None:
        """Apply batches until `stop` is set, waiting for `wake` (or a poll) when caught up;
        `published` is told the position after each batch. After a batch that caught up,
        the log gathers events for `gather_seconds` before the next, unless `hurry` says a
        read is waiting: fewer, larger batches cost the views and the database less."""
        failing = False  # since the last batch that went through
        while not stop.is_set():
            try:
                began = time.monotonic()
                if failing:  # what the views hold, read again once the database answers
                    self._reload_positions()
                if self.run_once() > 0:
                    if published is not None:
                        published(self.position)
                    self._gather(stop, hurry, until=began + self.gather_seconds)
                    failing = False
                    continue
                failing = False
            except Exception as error:
                self.errors += 1
                if failing:  # the database still out of reach: one line, not a traceback
                    log.warning("projection batch failed again; retrying: %s",
                                str(error).split("\n", 1)[0])
                else:
                    log.exception("projection batch failed; retrying")
                failing = True
                _pause(stop, FAILED_PAUSE_SECONDS)
            wake.wait(self.poll_seconds)
            wake.clear()

    def _gather(self, stop: Signal, hurry: Callable[[], bool], until: float) -> None:
        while (self.caught_up and time.monotonic() < until and not stop.is_set()
               and not hurry()):
            time.sleep(GATHER_STEP_SECONDS)

    # --- one batch ------------------------------------------------------------------------
    def run_once(self) -> int:
        """Read one batch of the log and apply it to every view that lacks it."""
        head = self.app.recorder.max_notification_id() or 0
        start = self.position
        if start >= head:
            return 0
        end = min(head, start + self.batch_events)
        self.caught_up = end >= head
        # Where each view was when this batch began: another thread of this runner may move
        # `positions` meanwhile, and a batch must only ever move a view on from where it read.
        before = {v.name: self.positions[v.name] for v in self.views
                  if self.positions[v.name] < end}
        behind = [v for v in self.views if v.name in before]
        # Only the topics of the views behind: a view added later catches up alone.
        decoded = self._read(start, end, sorted({t for v in behind for t in v.topics}))
        try:
            with self.engine.begin() as conn:  # one transaction for every view of the batch
                if not self._advance(conn, before, end):
                    conn.rollback()
                    self._reload_positions()
                    with self._changed:  # a read waiting may find its write applied there
                        self._changed.notify_all()
                    return 1  # someone else moved one: read again from where they now are
                for view, events in zip(behind, _by_view(decoded, behind), strict=True):
                    was = before[view.name]
                    _apply(conn, view, [e for e in events if e.position > was]
                           if was > start else events)
        except BaseException:
            self._forget()  # what the views kept of this batch was never stored
            raise
        for view in behind:
            self.positions[view.name] = end
        with self._changed:
            self._changed.notify_all()
        return max(1, len(decoded))

    def _read(self, start: int, end: int, topics: list[str]) -> list[Positioned]:
        """The events of `topics` after `start` up to `end`, decoded."""
        decode = self.app.mapper.to_domain_event
        return [Positioned(position, stored.topic, decode(stored), originator)
                for position, originator, stored
                in events_between(self.app, start, end, topics)]

    @staticmethod
    def _advance(conn: Connection, before: dict[str, int], end: int) -> bool:
        """Move the tracking positions first, each from where this runner last saw it (one
        statement for the views at the same position): the write locks come before any
        other work. False when one had moved."""
        groups: dict[int, list[str]] = {}
        for name, position in before.items():
            groups.setdefault(position, []).append(name)
        for position, names in groups.items():
            result = conn.execute(_ADVANCE, {"names": names, "before": position, "end": end})
            if result.rowcount != len(names):
                return False
        return True

    # --- tracking -------------------------------------------------------------------------
    def _ensure_tracking_rows(self) -> None:
        with self.engine.begin() as conn:
            for view in self.views:
                statement = upsert(conn, tracking).values(name=view.name, position=0)
                conn.execute(statement.on_conflict_do_nothing(index_elements=[tracking.c.name]))
        self._reload_positions()

    def _forget(self) -> None:
        for view in self.views:
            if isinstance(view, Remembering):
                view.forget()

    def _reload_positions(self) -> None:
        """The positions as stored; and the views forget what they kept, which only holds
        while this runner alone moves them on."""
        self._forget()
        with self.engine.connect() as conn:
            rows = conn.execute(select(tracking.c.name, tracking.c.position)).all()
        known = {row.name: row.position for row in rows}
        self.positions = {v.name: known.get(v.name, 0) for v in self.views}

    def rebuild(self, names: Sequence[str] | None = None) -> int:
        """Empty the named views (all by default) and replay the whole log into them; returns
        how many events were read.

        The log is read once, in batches of `rebuild_batch_events`, each event decoded once
        and given to every view that follows its topic, in the views' order, as `run_once`
        does. It all runs in one transaction, so readers see the old rows until the new ones
        are complete.
        """
        chosen = [v for v in self.views if names is None or v.name in names]
        unknown = set(names or []) - {v.name for v in self.views}
        if unknown:
            raise ValueError(f"no such projection: {', '.join(sorted(unknown))}")
        topics = sorted({t for v in chosen for t in v.topics})
        replayed = 0
        keyring = getattr(self.app, "keyring", None)
        if keyring is not None:
            keyring.warm()  # the persons' keys unwrapped in one query, not one a person
        with _gc_paused(), self.engine.begin() as conn:
            head = self.app.recorder.max_notification_id() or 0
            for view in chosen:
                conn.execute(update(tracking).where(tracking.c.name == view.name)
                             .values(position=head))
                for table in view.tables:
                    conn.execute(delete(table))
            replays = [replay_of(view) for view in chosen]
            for decoded in self._read_ahead(head, topics):
                for replay, events in zip(replays, _by_view(decoded, chosen), strict=True):
                    _apply(conn, replay, events)
                replayed += len(decoded)
            for replay in replays:
                replay.finish(conn)
        self._reload_positions()
        return replayed

    def _read_ahead(self, head: int, topics: list[str]) -> Iterator[list[Positioned]]:
        """The log up to `head` in batches, each read and decoded in a thread while the one
        before is applied (the database works on one while Python works on the other)."""
        if head <= 0:
            return
        step = self.rebuild_batch_events

        def read(start: int) -> list[Positioned]:
            return self._read(start, min(head, start + step), topics)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linli-read") as reader:
            ahead = reader.submit(read, 0)
            for start in range(step, head, step):
                current, ahead = ahead, reader.submit(read, start)
                yield current.result()
            yield ahead.result()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a rebuild allocates its batches: each collection
    would scan them again (a tenth of a rebuild's time). What is left is collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _by_view(decoded: list[Positioned], views: Sequence[View]) -> list[list[Positioned]]:
    """Each view's events of a batch, in log order, sorted out in one pass over the batch."""
    lists: list[list[Positioned]] = [[] for _ in views]
    following: dict[str, list[list[Positioned]]] = {}
    for view, events in zip(views, lists, strict=True):
        for topic in view.topics:
            following.setdefault(topic, []).append(events)
    for event in decoded:
        for events in following.get(event.topic, ()):
            events.append(event)
    return lists


def _apply(conn: Connection, view: View | Replay, events: list[Positioned]) -> None:
    """A batch with nothing for a view changes nothing in it: it is not even asked."""
    if events:
        view.apply(conn, events)
