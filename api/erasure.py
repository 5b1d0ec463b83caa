"""A member's erasure beside its event: whether their household goes with them, and the keys
destroyed once it is stored (for the API and `linli members erase`)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from sqlalchemy import Engine

from api.bootstrap import Linli
from ledger.actor import Actor
from ledger.commands import registry
from ledger.domain.registry import ERASED_NAME, Member
from ledger.write.unit_of_work import UnitOfWork
from projections.registry_view import household_members


def erasure_command(linli: Linli, member: Member, reason: str, by: Actor
                    ) -> Callable[[UnitOfWork], registry.Erasure]:
    """The erasure of `member`, their household's address with it when no one else (not
    erased) lives there."""
    alone = member.household_id is not None and not any(
        m["member_id"] != str(member.id) and m["name"] != ERASED_NAME
        for m in household_members(linli.engine, str(member.household_id)))
    return registry.erase_member(member.id, reason, by, with_household=alone)


def finish_erasure(linli: Linli, member_id: UUID, household_id: UUID | None) -> None:
    """Destroy the erased keys at once (the projections would too, a moment later), bring
    the views up to the erasure, and on SQLite leave no erased value in the write-ahead
    log."""
    keyring = linli.app.keyring  # type: ignore[attr-defined]
    keyring.destroy(str(member_id))
    if household_id is not None:
        keyring.destroy(str(household_id))
    linli.read_your_writes()
    settle(linli.engine)


def settle(engine: Engine) -> None:
    """On SQLite, write the log's recent pages back into the database file (whose freed
    space is zeroed), so erased values do not linger in the write-ahead log."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
