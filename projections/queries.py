"""Reads of the views: balances (now or as of an instant) and passbooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select

from ledger import ids
from ledger.domain.assets import Asset
from projections.tables import balances, passbook_lines


@dataclass(frozen=True)
class AccountBalance:
    balance: int = 0
    held: int = 0
    earned: int = 0


def account_balance(engine: Engine, owner_id: UUID, asset: Asset) -> AccountBalance:
    with engine.connect() as conn:
        row = conn.execute(
            select(balances.c.balance, balances.c.held, balances.c.earned)
            .where(balances.c.account_id == str(ids.account_id(owner_id, asset.value)))
        ).first()
    return AccountBalance(row.balance, row.held, row.earned) if row else AccountBalance()


def account_balance_as_of(
    engine: Engine, owner_id: UUID, asset: Asset, as_of: datetime
) -> AccountBalance:
    """The balance the passbook showed at `as_of`: its last line recorded by then."""
    with engine.connect() as conn:
        row = conn.execute(
            select(passbook_lines.c.balance_after, passbook_lines.c.earned_after)
            .where(passbook_lines.c.account_id == str(ids.account_id(owner_id, asset.value)),
                   passbook_lines.c.at <= as_of)
            .order_by(passbook_lines.c.position.desc())
            .limit(1)
        ).first()
    return AccountBalance(row.balance_after, 0, row.earned_after) if row else AccountBalance()


def passbook(
    engine: Engine, owner_id: UUID, asset: Asset, *, limit: int, before: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Lines newest first; `before` is the position the previous page ended at."""
    lines = passbook_lines.c
    query = (
        select(lines.position, lines.at, lines.kind, lines.amount, lines.balance_after,
               lines.reference, lines.description, lines.transaction_id)
        .where(lines.account_id == str(ids.account_id(owner_id, asset.value)))
        .order_by(lines.position.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(lines.position < before)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    page = [dict(row._mapping) for row in rows[:limit]]
    next_before = page[-1]["position"] if len(rows) > limit else None
    return page, next_before


def asset_totals(engine: Engine) -> dict[str, int]:
    """Sum of every balance per asset (zero when the books balance)."""
    from sqlalchemy import func

    with engine.connect() as conn:
        rows = conn.execute(
            select(balances.c.asset, func.sum(balances.c.balance)).group_by(balances.c.asset)
        ).all()
    return {row[0]: int(row[1]) for row in rows}
