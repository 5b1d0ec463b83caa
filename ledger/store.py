"""Queries on the event store that the library does not offer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

from ledger.application import LedgerApp, replay
from ledger.chain import (
    HEADER_BYTES,
    ChainedEventStore,
    CheckedSnapshotStore,
    head_hash,
    snapshot_head,
)
from ledger.errors import TamperedEvent

log = logging.getLogger(__name__)

CHUNK = 400  # keys a query names at most


def latest_versions(app: LedgerApp, aggregate_ids: Collection[UUID]) -> dict[UUID, int]:
    """The stored version of each aggregate that has events, in one query: one step down
    the index a stream, however long it is (a `MAX … GROUP BY` reads all of its entries)."""
    if not aggregate_ids:
        return {}
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    if _on_postgres(app):
        rows = _rows(app, f"SELECT k.id, (SELECT MAX(originator_version) FROM {table} "
                          "WHERE originator_id = k.id) FROM unnest(%b::uuid[]) AS k(id)",
                     (list(aggregate_ids),))
        return {row[0]: row[1] for row in rows if row[1] is not None}
    by_hex = {i.hex: i for i in aggregate_ids}
    rows = _rows(app, f"WITH k(id) AS (VALUES {','.join(['(?)'] * len(by_hex))}) "
                      f"SELECT k.id, (SELECT MAX(originator_version) FROM {table} "
                      "WHERE originator_id = k.id) FROM k", list(by_hex))
    return {by_hex[row[0]]: row[1] for row in rows if row[1] is not None}


def notification_headers(app: LedgerApp, after: int, limit: int) -> list[tuple[int, str, bytes]]:
    """(notification id, topic, the first `HEADER_BYTES` of the state) of the next `limit`
    events after `after`: what the sealer needs, without moving every event's state."""
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    statement = (
        f"SELECT notification_id, topic, substring(state from 1 for {HEADER_BYTES}) "
        f"FROM {table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        if _on_postgres(app) else
        f"SELECT rowid, topic, substr(state, 1, {HEADER_BYTES}) FROM {table} "
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    return [(row[0], row[1], bytes(row[2])) for row in _rows(app, statement, (after, limit))]


# (position, stream id as 16 bytes, version, topic, state)
LogRow = tuple[int, bytes, int, str, bytes]
_LOG_ROWS = ("SELECT notification_id, uuid_send(originator_id), originator_version, topic, "
             "state FROM {table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s")


def log_rows(app: LedgerApp, after: int, limit: int) -> list[LogRow]:
    """(position, stream id as 16 bytes, version, topic, state) of the next `limit` stored
    events after `after`, as plain tuples in PostgreSQL's binary format: what verify reads,
    without an object an event."""
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    recorder: Any = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        with (recorder.datastore.get_connection() as conn,
              conn.cursor(row_factory=tuple_row) as cursor):
            cursor.execute(_LOG_ROWS.format(table=table), (after, limit), binary=True)
            return cursor.fetchall()
    rows = _rows(app, f"SELECT rowid, originator_id, originator_version, topic, state "
                      f"FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, limit))
    return [(row[0], bytes.fromhex(row[1]), row[2], row[3], bytes(row[4])) for row in rows]


@contextmanager
def log_reader(app: LedgerApp) -> Iterator[Callable[[int, int], list[LogRow]]]:
    """`log_rows` on a PostgreSQL connection of its own, opened afresh from the pool's
    settings: for a forked process, which must not share its parent's connections."""
    recorder: Any = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    pool = recorder.datastore.pool
    kwargs = pool.kwargs() if callable(pool.kwargs) else pool.kwargs
    settings = {k: v for k, v in (kwargs or {}).items() if k != "row_factory"}
    if pool.get_password_func is not None:
        settings["password"] = pool.get_password_func()
    conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
    statement = _LOG_ROWS.format(table=recorder.events_table_name)
    with psycopg.connect(conninfo, autocommit=True, **settings) as conn:

        def read(after: int, limit: int) -> list[LogRow]:
            with conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(statement, (after, limit), binary=True)
                return cursor.fetchall()

        yield read


def events_between(app: LedgerApp, after: int, through: int,
                   topics: Sequence[str]) -> list[tuple[int, str, StoredEvent]]:
    """The stored events of `topics` after `after` up to `through`, each with its position
    and its originator id as text (what the views key on), read as tuples.

    The range is bounded, not just counted: PostgreSQL would otherwise scan every position up
    to the head for each call, whatever the limit.
    """
    if not topics:
        return []
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    if _on_postgres(app):
        rows = _rows(app, "SELECT notification_id, originator_id::text, originator_version, "
                          f"topic, state FROM {table} WHERE notification_id > %s "
                          "AND notification_id <= %s AND topic = ANY(%b) "
                          "ORDER BY notification_id", (after, through, list(topics)))
    else:
        rows = _rows(app, f"SELECT rowid, {_SQLITE_UUID_TEXT}, originator_version, topic, "
                          f"state FROM {table} WHERE rowid > ? AND rowid <= ? "
                          f"AND topic IN ({','.join('?' * len(topics))}) ORDER BY rowid",
                     (after, through, *topics))
    return [(row[0], row[1], StoredEvent(row[1], row[2], row[3], bytes(row[4])))
            for row in rows]


def load_aggregates(app: LedgerApp, aggregate_ids: Collection[UUID]) -> dict[UUID, Any]:
    """The current state of each of `aggregate_ids` that has events, as the repository would
    build it (its latest snapshot, then the events after it), in two queries for all of them
    where the repository makes two for each.

    The event at the snapshot's version is read too: its hash is the head of the stream's
    chain, which the event store remembers, so the stream's next insert need not query it;
    and the snapshot must name it (and carry its MAC), else it is ignored and the stream
    replayed from its first event. A stream with an event that fails its check
    (`ChainedEventStore.check_loaded`) maps to None: loading it one by one raises."""
    loaded: dict[UUID, Any] = {}
    ids = list(dict.fromkeys(aggregate_ids))
    snapshot_mapper = app.snapshots.mapper if app.snapshots is not None else app.mapper
    events_store = app.events
    assert isinstance(events_store, ChainedEventStore)  # a LedgerApp's (`construct_event_store`)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        snapshots = _trusted(app, latest_snapshots(app, chunk))
        since = {i: snapshots[i].originator_version if i in snapshots else 0 for i in chunk}
        events: dict[UUID, list[StoredEvent]] = {}
        for event in _events_since(app, since):
            events.setdefault(_uuid_of(event.originator_id), []).append(event)
        heads: dict[UUID, tuple[int, bytes]] = {}
        replay_all: dict[UUID, int] = {}
        for aggregate_id, snapshot in snapshots.items():
            stored = events.get(aggregate_id, [])
            if not stored or stored[0].originator_version != snapshot.originator_version or (
                    head_hash(stored[0].state) != snapshot_head(snapshot.state)):
                log.warning("ignored the snapshot of stream %s at version %s: it does not "
                            "name the hash of that version's event; replaying its events",
                            aggregate_id, snapshot.originator_version)
                replay_all[aggregate_id] = 0
        if replay_all:
            for aggregate_id in replay_all:
                del snapshots[aggregate_id]
                since[aggregate_id] = 0
                events.pop(aggregate_id, None)
            for event in _events_since(app, replay_all):
                events.setdefault(_uuid_of(event.originator_id), []).append(event)
        for aggregate_id in chunk:
            stored = events.get(aggregate_id, [])
            try:
                events_store.check_loaded(stored)
            except TamperedEvent:
                loaded[aggregate_id] = None
                continue
            if stored and (hash_ := head_hash(stored[-1].state)) is not None:
                heads[aggregate_id] = (stored[-1].originator_version, hash_)
            history = [app.mapper.to_domain_event(e) for e in stored
                       if e.originator_version > since[aggregate_id]]
            if aggregate_id in snapshots:
                history.insert(0, snapshot_mapper.to_domain_event(snapshots[aggregate_id]))
            if history:
                loaded[aggregate_id] = replay(None, history)
        events_store.remember_heads(heads)
    return loaded


def _trusted(app: LedgerApp, snapshots: dict[UUID, StoredEvent]) -> dict[UUID, StoredEvent]:
    """Those of `snapshots` whose MAC matches (`CheckedSnapshotStore.trusted`)."""
    store = app.snapshots
    if not snapshots or not isinstance(store, CheckedSnapshotStore):
        return {}
    return {_uuid_of(s.originator_id): s for s in store.trusted(list(snapshots.values()))}


def latest_snapshots(app: LedgerApp, ids: list[UUID]) -> dict[UUID, StoredEvent]:
    """The latest stored snapshot of each of `ids` that has one, in one query."""
    snapshots = app.snapshots
    if snapshots is None:
        return {}
    table = snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    # The latest of each stream by one step down the index, however many it has (a stream
    # of 100,000 events has 5,000 snapshots).
    if _on_postgres(app):
        rows = _rows(app, "SELECT k.id, s.originator_version, s.topic, s.state "
                          "FROM unnest(%b::uuid[]) AS k(id) CROSS JOIN LATERAL "
                          f"(SELECT originator_version, topic, state FROM {table} "
                          "WHERE originator_id = k.id ORDER BY originator_version DESC "
                          "LIMIT 1) AS s", (ids,))
    else:
        rows = _rows(app, f"WITH k(id) AS (VALUES {','.join(['(?)'] * len(ids))}) "
                          "SELECT s.originator_id, s.originator_version, s.topic, s.state "
                          f"FROM k JOIN {table} s ON s.originator_id = k.id "
                          f"AND s.originator_version = (SELECT MAX(originator_version) "
                          f"FROM {table} WHERE originator_id = k.id)", [i.hex for i in ids])
    return {(found := _uuid_of(row[0])): StoredEvent(found, row[1], row[2], bytes(row[3]))
            for row in rows}


def all_latest_snapshots(app: LedgerApp) -> list[StoredEvent]:
    """The latest stored snapshot of every stream that has one (verify)."""
    snapshots = app.snapshots
    if snapshots is None:
        return []
    table = snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    if _on_postgres(app):
        rows = _rows(app, "SELECT DISTINCT ON (originator_id) originator_id, "
                          f"originator_version, topic, state FROM {table} "
                          "ORDER BY originator_id, originator_version DESC", ())
    else:
        rows = _rows(app, "SELECT s.originator_id, s.originator_version, s.topic, s.state "
                          f"FROM {table} s WHERE s.originator_version = (SELECT "
                          f"MAX(originator_version) FROM {table} WHERE "
                          "originator_id = s.originator_id)", ())
    return [StoredEvent(_uuid_of(row[0]), row[1], row[2], bytes(row[3])) for row in rows]


def _events_since(app: LedgerApp, since: dict[UUID, int]) -> list[StoredEvent]:
    """The events of each stream from its version in `since` on, in stream and version
    order."""
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    if _on_postgres(app):
        # An index scan for each stream: as a plain join (or a LATERAL subquery the planner
        # can flatten into one), the prepared statement's generic plan scanned the whole
        # table, at six times the CPU.
        rows = _rows(app, "SELECT k.id, e.originator_version, e.topic, e.state "
                          "FROM unnest(%b::uuid[], %b::bigint[]) AS k(id, v) CROSS JOIN LATERAL "
                          f"(SELECT originator_version, topic, state FROM {table} "
                          "WHERE originator_id = k.id AND originator_version >= k.v "
                          "ORDER BY originator_version) AS e ORDER BY k.id, e.originator_version",
                     (list(since), list(since.values())))
    else:
        clause = " OR ".join(["(originator_id = ? AND originator_version >= ?)"] * len(since))
        params: list[Any] = []
        for aggregate_id, version in since.items():
            params += [aggregate_id.hex, version]
        rows = _rows(app, f"SELECT originator_id, originator_version, topic, state FROM {table} "
                          f"WHERE {clause} ORDER BY originator_id, originator_version", params)
    return [StoredEvent(_uuid_of(row[0]), row[1], row[2], bytes(row[3])) for row in rows]


def _uuid_of(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


# SQLite stores an originator id as 32 hex digits: this is its usual text, 8-4-4-4-12.
_SQLITE_UUID_TEXT = "||'-'||".join(f"substr(originator_id, {start}, {length})" for start, length
                                   in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12)))


def _on_postgres(app: LedgerApp) -> bool:
    return isinstance(app.recorder, PostgresApplicationRecorder)


def _rows(app: LedgerApp, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """A query's rows as tuples, on the event store's own connection."""
    recorder: Any = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        with (recorder.datastore.get_connection() as conn,
              conn.cursor(row_factory=tuple_row) as cursor):
            cursor.execute(statement, params)
            return cursor.fetchall()
    assert isinstance(recorder, SQLiteApplicationRecorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        return [tuple(row) for row in cursor.fetchall()]
