"""The SQLAlchemy engine for read models and migrations."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from ledger.pg_recorder import SESSION_OPTIONS
from ledger.settings import Settings


def create_read_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return create_engine(settings.sqlalchemy_url, pool_size=8, max_overflow=8,
                             pool_pre_ping=True, connect_args={"options": SESSION_OPTIONS})
    engine = create_engine(settings.sqlalchemy_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # What a view deletes or rewrites (an erased resident's name) is zeroed, not left
        # in the file's free space.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return engine
