"""The SQLAlchemy engine for read models and migrations."""

from __future__ import annotations

from sqlalchemy import Engine

from ledger.engines import sql_engine
from ledger.settings import Settings


def create_read_engine(settings: Settings) -> Engine:
    return sql_engine(settings, pool_size=8, max_overflow=8)
