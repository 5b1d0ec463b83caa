"""The payment codes' table (`payment_codes`), which every server on the database reads: the
`CodeStore` of `ledger.payment_codes`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, delete, select, text

from ledger.payment_codes import StoredCode
from projections.bulk import upsert
from projections.tables import payment_codes

_COLUMNS = ("digest", "member_id", "community_id", "made_by", "expires_at", "kept_until",
            "key_digest", "fingerprint", "sealed")


_INSERT_ARRAYS = (
    f"INSERT INTO payment_codes ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
    "%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], "
    "%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING RETURNING digest")


class SqlCodeStore:
    """The codes in `payment_codes`, on the read models' engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, codes: Sequence[StoredCode]) -> set[str]:
        """Insert the codes in one statement; those whose key (or digest) is there already
        are left out, and not among the digests returned."""
        if not codes:
            return set()
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Not waiting for the disk: a code lost in a crash is asked for again. One
                # array a column: the driver sends the group as one statement.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                columns = tuple([_value(getattr(code, name)) for code in codes]
                                for name in _COLUMNS)
                return set(conn.exec_driver_sql(_INSERT_ARRAYS, columns).scalars())
            rows = [{name: _value(getattr(code, name)) for name in _COLUMNS} for code in codes]
            statement = (upsert(conn, payment_codes).on_conflict_do_nothing()
                         .returning(payment_codes.c.digest))
            return set(conn.execute(statement, rows).scalars())

    def by_digest(self, digest: str) -> StoredCode | None:
        return self._one(payment_codes.c.digest == digest)

    def by_key(self, key_digest: str) -> StoredCode | None:
        return self._one(payment_codes.c.key_digest == key_digest)

    def forget(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(payment_codes)
                                    .where(payment_codes.c.kept_until <= now)).rowcount)

    def _one(self, where: Any) -> StoredCode | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(payment_codes).where(where)).first()
        if row is None:
            return None
        return StoredCode(row.digest, UUID(row.member_id), UUID(row.community_id), row.made_by,
                          row.expires_at, row.kept_until, row.key_digest, row.fingerprint,
                          row.sealed)


def _value(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value
