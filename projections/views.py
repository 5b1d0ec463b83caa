"""Views: each turns a batch of events into rows of its tables, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.domain.accounts import Account
from ledger.domain.assets import OwnerKind
from projections.tables import balances, passbook_lines


@dataclass(frozen=True)
class Positioned:
    """A decoded event and its position in the notification log."""

    position: int
    topic: str
    event: Any


class View(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def tables(self) -> tuple[Table, ...]: ...
    @property
    def topics(self) -> tuple[str, ...]: ...

    def apply(self, conn: Connection, events: list[Positioned]) -> None: ...


OPENED = get_topic(Account.Opened)  # type: ignore[attr-defined]
POSTED = get_topic(Account.Posted)  # type: ignore[attr-defined]


def upsert(conn: Connection, table: Table) -> Any:
    """An INSERT that can take ON CONFLICT, in the connection's dialect."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


class BalancesView:
    """Balance, held and earned per account; system accounts from the counter postings."""

    name = "balances"
    tables = (balances,)
    topics = (OPENED, POSTED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        opened: list[dict[str, Any]] = []
        latest: dict[str, dict[str, Any]] = {}
        system: dict[str, dict[str, Any]] = {}
        for item in events:
            e = item.event
            if isinstance(e, Account.Opened):  # type: ignore[attr-defined]
                opened.append({
                    "account_id": str(e.originator_id), "owner_id": str(e.owner_id),
                    "owner_kind": e.owner_kind, "community_id": str(e.community_id),
                    "asset": e.asset, "balance": 0, "held": 0, "earned": 0,
                    "position": item.position, "updated_at": e.timestamp,
                })
            elif isinstance(e, Account.Posted):  # type: ignore[attr-defined]
                latest[str(e.originator_id)] = {
                    "b_account_id": str(e.originator_id), "balance": e.balance_after,
                    "earned": e.earned_after, "position": item.position,
                    "updated_at": e.timestamp,
                }
                if e.counter_account.startswith("community:"):
                    _, community_id, asset, _purpose = e.counter_account.split(":")
                    row = system.setdefault(e.counter_account, {
                        "account_id": e.counter_account, "owner_id": None,
                        "owner_kind": OwnerKind.SYSTEM.value, "community_id": community_id,
                        "asset": asset, "balance": 0, "held": 0, "earned": 0,
                    })
                    row["balance"] -= e.amount
                    row["position"] = item.position
                    row["updated_at"] = e.timestamp
        if opened:
            conn.execute(balances.insert(), opened)
        if latest:
            conn.execute(
                update(balances)
                .where(balances.c.account_id == bindparam("b_account_id"))
                .values(balance=bindparam("balance"), earned=bindparam("earned"),
                        position=bindparam("position"), updated_at=bindparam("updated_at")),
                list(latest.values()),
            )
        for row in system.values():
            statement = upsert(conn, balances).values(**row)
            conn.execute(statement.on_conflict_do_update(
                index_elements=[balances.c.account_id],
                set_={"balance": balances.c.balance + statement.excluded.balance,
                      "position": statement.excluded.position,
                      "updated_at": statement.excluded.updated_at},
            ))


class PassbookView:
    """One passbook line (积分存折) per posting to a member's or merchant's account."""

    name = "passbook"
    tables = (passbook_lines,)
    topics = (POSTED,)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        rows = [
            {
                "position": item.position, "account_id": str(e.originator_id),
                "at": e.timestamp, "kind": e.kind, "amount": e.amount,
                "balance_after": e.balance_after, "earned_after": e.earned_after,
                "transaction_id": str(e.transaction_id), "reference": e.reference,
                "description": e.description, "actor_id": e.actor_id,
                "actor_role": e.actor_role,
            }
            for item in events
            if isinstance(e := item.event, Account.Posted)  # type: ignore[attr-defined]
        ]
        if rows:
            conn.execute(passbook_lines.insert(), rows)


def all_views() -> list[View]:
    return [BalancesView(), PassbookView()]
