"""The PostgreSQL event store's insert, made cheaper for groups of events.

The library sends a group as one array of a composite type, which psycopg encodes in Python,
escaping every byte of every state as text. This recorder sends the same rows as four plain
arrays (uuid, bigint, text, bytea) in PostgreSQL's binary format, and reads the new
notification ids as tuples. Everything else is the library's: the table lock that keeps the
log in commit order, the NOTIFY, the pipeline and the transaction.

It also checks, in the same transaction and under the same lock, that the aggregates a group
only read (`read_versions`) are still at the versions read: a newer version makes the insert
fail on the unique (stream, version) key, as a write to the same stream would, so no other
process can change them between the check and the commit, and it costs no round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier


class GroupInsertRecorder(PostgresApplicationRecorder):
    checks_reads_on_insert = True  # see the module's docstring

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema),
                 table=Identifier(self.events_table_name))
        # For each stream read at version v that has a later version, insert (stream, v + 1)
        # again: it exists, so the transaction fails on the key. Nothing is inserted otherwise.
        self.refuse_stale_reads_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT r.id, r.v + 1, '', ''::bytea FROM unnest(%b::uuid[], %b::bigint[]) "
            "AS r(id, v) WHERE EXISTS (SELECT 1 FROM {schema}.{table} e "
            "WHERE e.originator_id = r.id AND e.originator_version > r.v)"
        ).format(schema=Identifier(self.datastore.schema),
                 table=Identifier(self.events_table_name))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
        read_versions: Mapping[UUID, int] | None = None, **_: Any,
    ) -> None:
        self._lock_table(curs)
        if read_versions:
            curs.execute(self.refuse_stale_reads_statement,
                         (list(read_versions), list(read_versions.values())))
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
