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

`send_events` sends that call and returns at once (libpq's asynchronous interface): the writer
runs the next group's commands while the database inserts and commits this one, and takes the
outcome (`InFlightInsert.result`) before it sends the next.

It also checks, in the same transaction and under the same lock, that the aggregates a group
only read (`read_versions`) are still at the versions read: a newer version fails the call
with a unique violation, as a write to the same stream would, so no other process can change
them between the check and the commit, and it costs no round trip.
"""

from __future__ import annotations

import contextlib
import json
import select
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing import postgres
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
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


def _numbered(statement: str) -> bytes:
    """`statement` with libpq's numbered placeholders in place of psycopg's."""
    parts = statement.replace("%b", "%s").split("%s")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)).encode() + (
        parts[-1].encode())


SEND = {False: _numbered(INSERT), True: _numbered(INSERT_WITH_SNAPSHOTS)}
RETRY_PAUSE_SECONDS = 0.2


def _wait(socket: int, event: int) -> None:
    """Until `socket` is ready for `event` (poll, not select: a busy server's descriptors pass
    select's 1024)."""
    poller = select.poll()
    poller.register(socket, event)
    poller.poll()


class InFlightInsert:
    """A `linli_insert_events` call sent on a connection of the pool, its outcome not yet
    read. The connection stays out of the pool until `result`."""

    def __init__(self, recorder: GroupInsertRecorder, stored_events: Sequence[StoredEvent],
                 kwargs: dict[str, Any]) -> None:
        self._recorder = recorder
        self._stored_events = stored_events
        self._kwargs = kwargs
        self._lease: AbstractContextManager[Connection[Any]] | None = None
        self._conn: Connection[Any] | None = None

    def send(self, params: list[Any], with_snapshots: bool) -> None:
        self._lease = self._recorder.datastore.get_connection()
        self._conn = conn = self._lease.__enter__()
        self._released_on_error(self._send, conn, params, with_snapshots)

    @staticmethod
    def _send(conn: Connection[Any], params: list[Any], with_snapshots: bool) -> None:
        transformer = Transformer(conn)
        dumped = transformer.dump_sequence(
            params, [PyFormat.AUTO if isinstance(p, str) else PyFormat.BINARY for p in params])
        conn.pgconn.send_query_params(SEND[with_snapshots], dumped,
                                      param_types=transformer.types,
                                      param_formats=transformer.formats,
                                      result_format=pq.Format.BINARY)
        while conn.pgconn.flush():  # the rest of the call, once the socket takes it
            _wait(conn.pgconn.socket, select.POLLOUT)

    def result(self) -> Sequence[int]:
        """The events' notification ids, once committed; the library's errors if not. A lost
        connection is retried as `insert_events` retries (a retry of a call that had
        committed meets its own events: an `IntegrityError`, as there)."""
        try:
            if self._conn is None:  # the call could not be sent
                raise OperationalError("not sent")
            ids = self._released_on_error(self._receive, self._conn)
        except (InterfaceError, OperationalError):
            return self._recorder.insert_events(self._stored_events, **self._kwargs) or []
        self._release()
        if len(ids) != len(self._stored_events):
            raise RuntimeError(f"inserted {len(self._stored_events)} events, got {len(ids)} ids")
        return ids

    @staticmethod
    def _receive(conn: Connection[Any]) -> list[int]:
        pgconn = conn.pgconn
        pgconn.consume_input()
        while pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        results = []
        while (result := pgconn.get_result()) is not None:
            results.append(result)
        ids: list[int] = []
        for result in results:
            if result.status == pq.ExecStatus.FATAL_ERROR:
                raise error_from_result(result, encoding=conn.info.encoding)
            ids.extend(int.from_bytes(result.get_value(row, 0) or b"", "big", signed=True)
                       for row in range(result.ntuples))
        return ids

    def _released_on_error(self, step: Any, *args: Any) -> Any:
        """`step`; if it raises, the connection goes back to the pool and psycopg's errors
        are raised as the library's (both by the lease's exit)."""
        try:
            return step(*args)
        except BaseException:
            lease, self._lease, self._conn = self._lease, None, None
            if lease is None or not lease.__exit__(*sys.exc_info()):
                raise
            raise  # pragma: no cover - the lease never swallows an error

    def _release(self) -> None:
        lease, self._lease, self._conn = self._lease, None, None
        if lease is not None:
            lease.__exit__(None, None, None)


class GroupInsertRecorder(PostgresApplicationRecorder):
    """Inserts a group of events in one call, checking the versions of what the group only
    read (`read_versions`) and inserting its snapshots (`snapshots`) in the same call; sends
    it ahead with `send_events`. The writer uses it through
    `ledger.write.group_store.PostgresGroupStore`."""

    wait_seconds = 5.0  # how long `insert_events` tries a database out of reach

    def insert_events(
        self, stored_events: Sequence[StoredEvent],
        read_versions: Mapping[UUID, int] | None = None,
        snapshots: Sequence[StoredEvent] = (), **_: Any,
    ) -> Sequence[int] | None:
        """Inserts the group, trying again while the database is out of reach (a connection
        lost, a failover) for `wait_seconds`; then raises the last error."""
        until = time.monotonic() + self.wait_seconds
        while True:
            try:
                return self._insert_once(stored_events, read_versions, snapshots)
            except (InterfaceError, OperationalError):
                if time.monotonic() + RETRY_PAUSE_SECONDS > until:
                    raise
                time.sleep(RETRY_PAUSE_SECONDS)

    def _insert_once(
        self, stored_events: Sequence[StoredEvent],
        read_versions: Mapping[UUID, int] | None,
        snapshots: Sequence[StoredEvent],
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        reads = read_versions or {}
        params = self._params(stored_events, reads)
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

    def send_events(
        self, stored_events: Sequence[StoredEvent],
        read_versions: Mapping[UUID, int] | None = None,
        snapshots: Sequence[StoredEvent] = (),
    ) -> InFlightInsert:
        """`insert_events`, sent: its outcome is read by the returned call's `result`."""
        kwargs = {"read_versions": read_versions, "snapshots": snapshots}
        in_flight = InFlightInsert(self, stored_events, kwargs)
        params = [*self._params(stored_events, read_versions or {}),
                  *(_columns(snapshots) if snapshots else ())]
        # Not sent: `result` inserts them the way `insert_events` does, retrying.
        with contextlib.suppress(InterfaceError, OperationalError):
            in_flight.send(params, bool(snapshots))
        return in_flight

    def _params(self, stored_events: Sequence[StoredEvent],
                reads: Mapping[UUID, int]) -> tuple[Any, ...]:
        return (*_columns(stored_events), list(reads), list(reads.values()),
                f"{self.datastore.lock_timeout}s", self.channel_name)


class PostgresFactory(postgres.PostgresFactory):
    """The library's factory; its pool's connections open with `SESSION_OPTIONS` and libpq's
    parameters of the URL the library has no setting for (`LINLI_POSTGRES_CONNINFO`, e.g.
    `target_session_attrs=read-write` for several hosts)."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        extra = json.loads(env.get("LINLI_POSTGRES_CONNINFO") or "{}")
        self.wait_seconds = float(env.get("LINLI_DATABASE_WAIT_SECONDS") or 5.0)
        pool = self.datastore.pool  # not opened yet: every connection gets the options
        pool.kwargs = {**(pool.kwargs or {}), **extra,  # type: ignore[dict-item]
                       "options": SESSION_OPTIONS}

    def application_recorder(self) -> ApplicationRecorder:
        """The library's, or `GroupInsertRecorder` waiting `LINLI_DATABASE_WAIT_SECONDS`."""
        recorder = super().application_recorder()
        if isinstance(recorder, GroupInsertRecorder):
            recorder.wait_seconds = self.wait_seconds
        return recorder
