"""Queries on the event store that the library does not offer."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

from ledger.application import LedgerApp
from ledger.chain import HEADER_BYTES


def latest_versions(app: LedgerApp, aggregate_ids: Collection[UUID]) -> dict[UUID, int]:
    """The stored version of each aggregate, in one query."""
    if not aggregate_ids:
        return {}
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    if _on_postgres(app):
        rows = _rows(app, f"SELECT originator_id, MAX(originator_version) FROM {table} "
                          "WHERE originator_id = ANY(%b::uuid[]) GROUP BY originator_id",
                     (list(aggregate_ids),))
        return {row[0]: row[1] for row in rows}
    by_hex = {i.hex: i for i in aggregate_ids}
    rows = _rows(app, f"SELECT originator_id, MAX(originator_version) FROM {table} "
                      f"WHERE originator_id IN ({','.join('?' * len(by_hex))}) "
                      "GROUP BY originator_id", list(by_hex))
    return {by_hex[row[0]]: row[1] for row in rows}


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
