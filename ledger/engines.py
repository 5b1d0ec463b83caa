"""SQLAlchemy engines on the configured database: for the read models and migrations
(`projections.database`) and for the persons' keys (`ledger.privacy`)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from ledger.pg_recorder import SESSION_OPTIONS
from ledger.settings import Settings


def sql_engine(settings: Settings, *, pool_size: int, max_overflow: int) -> Engine:
    """An engine with Linli's session settings; on SQLite, in WAL mode, waiting for locks,
    and zeroing what it deletes or rewrites (an erased resident's name is not left in the
    file's free space)."""
    if settings.is_postgres:
        return create_engine(settings.sqlalchemy_url, pool_size=pool_size,
                             max_overflow=max_overflow, pool_pre_ping=True,
                             connect_args={"options": SESSION_OPTIONS})
    engine = create_engine(settings.sqlalchemy_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return engine
