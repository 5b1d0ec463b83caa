"""The PostgreSQL event store's insert, made cheaper for groups of events.

The library sends a group as one array of a composite type, which psycopg encodes in Python,
escaping every byte of every state as text. This recorder sends the same rows as four plain
arrays (uuid, bigint, text, bytea) in PostgreSQL's binary format, and reads the new
notification ids as tuples. Everything else is the library's: the table lock that keeps the
log in commit order, the NOTIFY, the pipeline and the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier


class GroupInsertRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema),
                 table=Identifier(self.events_table_name))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.row_factory = tuple_row  # type: ignore[assignment]
        curs.execute(
            self.insert_arrays_statement,
            ([e.originator_id for e in stored_events],
             [e.originator_version for e in stored_events],
             [e.topic for e in stored_events],
             [e.state for e in stored_events]),
            binary=True,
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        ids = [int(row[0]) for row in curs.fetchall()]  # type: ignore[index]
        if len(ids) != len(stored_events):
            raise RuntimeError(f"inserted {len(stored_events)} events, got {len(ids)} ids")
        return ids
