"""Queries on the event store that the library does not offer."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.application import LedgerApp
from ledger.chain import HEADER_BYTES


def latest_versions(app: LedgerApp, aggregate_ids: Collection[UUID]) -> dict[UUID, int]:
    """The stored version of each aggregate, in one query."""
    if not aggregate_ids:
        return {}
    recorder: Any = app.recorder
    table = recorder.events_table_name
    if isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"SELECT originator_id, MAX(originator_version) AS v FROM {table} "
                "WHERE originator_id = ANY(%b::uuid[]) GROUP BY originator_id",
                (list(aggregate_ids),),
            )
            return {row["originator_id"]: row["v"] for row in cursor.fetchall()}
    assert isinstance(recorder, SQLiteApplicationRecorder)
    by_hex = {i.hex: i for i in aggregate_ids}
    placeholders = ",".join("?" * len(by_hex))
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT originator_id, MAX(originator_version) FROM {table} "
            f"WHERE originator_id IN ({placeholders}) GROUP BY originator_id",
            list(by_hex),
        )
        return {by_hex[row[0]]: row[1] for row in cursor.fetchall()}


def notification_headers(app: LedgerApp, after: int, limit: int) -> list[tuple[int, str, bytes]]:
    """(notification id, topic, the first `HEADER_BYTES` of the state) of the next `limit`
    events after `after`: what the sealer needs, without moving every event's state."""
    recorder: Any = app.recorder
    table = recorder.events_table_name
    if isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"SELECT notification_id, topic, substring(state from 1 for {HEADER_BYTES}) "
                f"AS head FROM {table} WHERE notification_id > %s "
                "ORDER BY notification_id LIMIT %s",
                (after, limit),
            )
            return [(row["notification_id"], row["topic"], bytes(row["head"]))
                    for row in cursor.fetchall()]
    assert isinstance(recorder, SQLiteApplicationRecorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT rowid, topic, substr(state, 1, {HEADER_BYTES}) FROM {table} "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, limit),
        )
        return [(row[0], row[1], bytes(row[2])) for row in cursor.fetchall()]
