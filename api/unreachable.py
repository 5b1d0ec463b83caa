"""Which failures mean the database could not be reached, for now: a primary that died, a
failover under way, a restart, a pool with no connection to give, SQLite locked too long."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors
import psycopg2
import sqlalchemy.exc
from eventsourcing import persistence

# What a 503 tells a client to wait before it retries: about a failover's usual length on
# the cluster of docs/operations.md.
RETRY_AFTER_SECONDS = 2

UNREACHABLE: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # the event store's: lost, refused, shut down; the pool's timeout
    psycopg.InterfaceError,
    psycopg.errors.ReadOnlySqlTransaction,  # a write reached a standby mid-failover
    psycopg2.OperationalError,  # the read models'
    psycopg2.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # their pool had no connection to give in time
)
# Every error of a database driver or library: each is answered by `database_unreachable`'s
# verdict (503 or 500) by the API's handler of these.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    persistence.PersistenceError, psycopg.Error, psycopg2.Error, sqlalchemy.exc.SQLAlchemyError,
    sqlite3.Error)
# The event store's own errors, when they name no cause (their cause decides otherwise).
WITHOUT_CAUSE = (persistence.OperationalError, persistence.InterfaceError)


def database_unreachable(error: BaseException) -> bool:
    """Tells whether `error`, or an error it was raised from or while handling, is the
    database out of reach rather than a defect (a missing table is a defect, on SQLite an
    OperationalError too)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        cause = current.__cause__ or current.__context__
        if isinstance(current, UNREACHABLE) or (
                isinstance(current, WITHOUT_CAUSE) and cause is None):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        current = cause
    return False
