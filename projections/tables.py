"""The read-model tables. One definition serves SQLite and PostgreSQL; alembic owns the DDL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on both backends (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", String(200), primary_key=True),
    Column("owner_id", String(36), nullable=True),
    Column("owner_kind", String(16), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("asset", String(8), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("earned", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index("balances_owner_idx", "owner_id", "asset"),
)

passbook_lines = Table(
    "passbook_lines",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", String(36), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("earned_after", BigInteger, nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("actor_id", String(100), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Index("passbook_account_idx", "account_id", "position"),
)
