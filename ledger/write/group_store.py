"""Where a group's events go: one insert, one transaction, for every command of the group.

One interface, `GroupStore`, and one implementation a database, chosen once when the writer is
built (`group_store_for`):

- `PostgresGroupStore` (the recorder `ledger.pg_recorder.GroupInsertRecorder`): the insert is
  sent and the writer runs the next group while the database stores this one
  (`sends_ahead`); the same call checks that the aggregates the group only read are still at
  the versions read, and inserts the group's snapshots.
- `SqliteGroupStore`: the insert is made and waited for; the aggregates only read are checked
  by a query before it, and the snapshots are written apart, once the group's requests have
  their answers.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NoReturn
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, StoredEvent

from ledger.application import LedgerApp
from ledger.chain import ChainedEventStore
from ledger.pg_recorder import GroupInsertRecorder
from ledger.store import latest_versions

log = logging.getLogger(__name__)

# Waits for (or makes) a group's insert, and returns its events' notification ids.
PendingInsert = Callable[[], Sequence[int]]
# How long `reachable` waits for a connection to the primary.
PROBE_SECONDS = 1.0


class GroupStore(ABC):
    """Stores a group's events in one transaction, and tells whether a failed insert stored
    them all the same."""

    sends_ahead: ClassVar[bool]  # whether `send` returns while the database stores the group

    def __init__(self, app: LedgerApp, keep_head: Callable[[UUID], bool]) -> None:
        self.app = app
        self._events: ChainedEventStore = app.events  # type: ignore[assignment]
        self._keep_head = keep_head  # the streams whose heads the event store keeps

    @abstractmethod
    def stale_reads(self, read_only: dict[UUID, int], has_events: bool) -> list[UUID]:
        """Lists the aggregates the group only read (each at the version read) that changed
        in another process since, where the group's insert does not check them itself."""

    @abstractmethod
    def insert(self, events: list[Any], read_only: dict[UUID, int],
               snapshots: list[StoredEvent]) -> PendingInsert:
        """Returns the group's insert, made in one transaction when it is called."""

    def send(self, events: list[Any], read_only: dict[UUID, int],
             snapshots: list[StoredEvent]) -> PendingInsert:
        """Sends the group's insert now where the store can (`sends_ahead`): the returned
        function waits for it. Elsewhere the insert is made when that function is called."""
        return self.insert(events, read_only, snapshots)

    @abstractmethod
    def hold_snapshots(self, snapshots: list[StoredEvent]) -> None:
        """Keeps a stored group's snapshots that its insert did not store, for
        `write_held_snapshots`."""

    @abstractmethod
    def write_held_snapshots(self) -> None:
        """Writes the snapshots held, once their groups' requests have their answers."""

    def were_stored(self, events: list[Any]) -> bool | None:
        """Tells whether `events` (saved in one transaction) are in the store: None if unknown.

        A commit whose acknowledgement was lost may have been stored; the first event's type
        and timestamp tell ours from another process's event at the same version.
        """
        if not events:
            return False
        first: Any = events[0]
        recorder: Any = self.app.recorder
        # One try, not the library's ten: a database still out of reach makes it unknown now,
        # and the request's idempotency key settles it later.
        select = getattr(type(recorder).select_events, "__wrapped__",
                         type(recorder).select_events)
        try:
            rows = select(recorder, first.originator_id, gt=first.originator_version - 1,
                          lte=first.originator_version)
            self._events.check_loaded(rows)  # as a load checks them
            found = [self.app.mapper.to_domain_event(row) for row in rows]
        except PersistenceError:
            log.warning("could not re-read a write whose commit outcome is unknown",
                        exc_info=True)
            return None
        stored: Any = found[0] if found else None
        return type(stored) is type(first) and stored.timestamp == first.timestamp

    def reachable(self) -> bool:
        """Tells whether the database answers now (one try, a short wait)."""
        return True

    def _changed_since(self, read_only: dict[UUID, int]) -> list[UUID]:
        """Lists those of `read_only` stored at a newer version than read, in one query."""
        stored = latest_versions(self.app, list(read_only))
        return [i for i, v in read_only.items() if stored.get(i, v) > v]


class PostgresGroupStore(GroupStore):
    """Sends a group's insert ahead, with its reads to check and its snapshots, in one call of
    `linli_insert_events` (see `ledger.pg_recorder`)."""

    sends_ahead = True

    def stale_reads(self, read_only: dict[UUID, int], has_events: bool) -> list[UUID]:
        """The insert checks a group's reads in its own transaction, under the table lock that
        keeps the log in order; only a group with nothing to insert is checked here."""
        return [] if has_events else self._changed_since(read_only)

    def insert(self, events: list[Any], read_only: dict[UUID, int],
               snapshots: list[StoredEvent]) -> PendingInsert:
        return functools.partial(self._events.store, events, self._keep_head,
                                 **self._with_events(read_only, snapshots))

    def send(self, events: list[Any], read_only: dict[UUID, int],
             snapshots: list[StoredEvent]) -> PendingInsert:
        try:
            return self._events.send(events, self._keep_head,
                                     **self._with_events(read_only, snapshots))
        except PersistenceError as error:  # read as an insert that failed
            return functools.partial(_raise, error)

    def reachable(self) -> bool:
        """Tells whether the primary answers now: one connection from the pool, waited for
        at most `PROBE_SECONDS` (a broken one it hands out is dropped from the pool)."""
        recorder: Any = self.app.recorder
        try:
            with recorder.datastore.pool.connection(timeout=PROBE_SECONDS) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def hold_snapshots(self, snapshots: list[StoredEvent]) -> None:
        """Nothing to hold: a group's snapshots go in with its events."""

    def write_held_snapshots(self) -> None:
        """Nothing held."""

    @staticmethod
    def _with_events(read_only: dict[UUID, int],
                     snapshots: list[StoredEvent]) -> dict[str, Any]:
        with_events: dict[str, Any] = {"read_versions": read_only}
        if snapshots:
            with_events["snapshots"] = snapshots
        return with_events


class SqliteGroupStore(GroupStore):
    """Inserts a group's events with the library's recorder, having checked its reads by a
    query; writes its snapshots apart."""

    sends_ahead = False

    def __init__(self, app: LedgerApp, keep_head: Callable[[UUID], bool]) -> None:
        super().__init__(app, keep_head)
        self._held_snapshots: list[StoredEvent] = []

    def stale_reads(self, read_only: dict[UUID, int], has_events: bool) -> list[UUID]:
        return self._changed_since(read_only)

    def insert(self, events: list[Any], read_only: dict[UUID, int],
               snapshots: list[StoredEvent]) -> PendingInsert:
        """The insert; it gives the group's snapshots their headers (head hash and MAC) in
        place, for `hold_snapshots`."""
        return functools.partial(self._events.store, events, self._keep_head,
                                 snapshots=snapshots)

    def hold_snapshots(self, snapshots: list[StoredEvent]) -> None:
        self._held_snapshots += snapshots

    def write_held_snapshots(self) -> None:
        snapshots, self._held_snapshots = self._held_snapshots, []
        if snapshots and self.app.snapshots is not None:
            try:
                self.app.snapshots.recorder.insert_events(snapshots)
            except PersistenceError:  # a snapshot is an optimisation: never fail a commit
                log.warning("could not store %d snapshots", len(snapshots), exc_info=True)


def group_store_for(app: LedgerApp, keep_head: Callable[[UUID], bool]) -> GroupStore:
    """Returns the group store for the application's recorder."""
    if isinstance(app.recorder, GroupInsertRecorder):
        return PostgresGroupStore(app, keep_head)
    return SqliteGroupStore(app, keep_head)


def _raise(error: Exception) -> NoReturn:
    raise error
