"""The PostgreSQL event store's insert, one function call a group of events.

The library inserts a group in a pipeline of statements inside a transaction (lock the table,
notify, insert an array of a composite type that psycopg encodes in Python, escaping every
byte of every state as text), a dozen waits on the connection in all. This recorder calls
`linli_insert_events` (the migration `0006`) once, on the autocommit connection: one
statement, one round trip, its own transaction. The function does what the library's
statements did, in the same order: it takes the table lock that keeps the log in commit
order, notifies, inserts the rows (sent as four plain arrays in PostgreSQL's binary format)
and returns their notification ids.

The group's snapshots, if any, are inserted by the same call (`linli_insert_events` with four
more arrays, the migration `0007`), so the writer waits on the database once a group.

It also checks, in the same transaction and under the same lock, that the aggregates a group
only read (`read_versions`) are still at the versions read: a newer version fails the call
with a unique violation, as a write to the same stream would, so no other process can change
them between the check and the commit, and it costs no round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing import postgres
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row

# What every connection of Linli's sets for its session. JIT compiles a query whose estimated
# cost passes `jit_above_cost`: the prefetch's load of a few streams, estimated from the log's
# average stream, crossed it once the log held about half a million events, and each call then
# spent 5-8 ms compiling a query that runs in under one (auto_explain under bench.http).
SESSION_OPTIONS = "-c jit=off"

INSERT = ("SELECT * FROM linli_insert_events(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], "
          "%b::uuid[], %b::bigint[], %s, %s)")
# The same with the group's snapshots, inserted in the same call (migration 0007).
INSERT_WITH_SNAPSHOTS = INSERT[:-1] + ", %b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"


def _columns(events: Sequence[StoredEvent]) -> tuple[list[Any], ...]:
    return ([e.originator_id for e in events], [e.originator_version for e in events],
            [e.topic for e in events], [e.state for e in events])


class GroupInsertRecorder(PostgresApplicationRecorder):
    checks_reads_on_insert = True  # see the module's docstring
    inserts_snapshots = True  # a group's snapshots go in the same call (`snapshots`)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent],
        read_versions: Mapping[UUID, int] | None = None,
        snapshots: Sequence[StoredEvent] = (), **_: Any,
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        reads = read_versions or {}
        params = (*_columns(stored_events), list(reads), list(reads.values()),
                  f"{self.datastore.lock_timeout}s", self.channel_name)
        with (self.datastore.get_connection() as conn,
              conn.cursor(row_factory=tuple_row) as cursor):
            if snapshots:
                cursor.execute(INSERT_WITH_SNAPSHOTS, (*params, *_columns(snapshots)),
                               binary=True)
            else:
                cursor.execute(INSERT, params, binary=True)
            ids = [int(row[0]) for row in cursor.fetchall()]
        if len(ids) != len(stored_events):
            raise RuntimeError(f"inserted {len(stored_events)} events, got {len(ids)} ids")
        return ids


class PostgresFactory(postgres.PostgresFactory):
    """The library's factory; its pool's connections open with `SESSION_OPTIONS`."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool  # not opened yet: every connection gets the options
        pool.kwargs = {**(pool.kwargs or {}), "options": SESSION_OPTIONS}  # type: ignore[dict-item]
