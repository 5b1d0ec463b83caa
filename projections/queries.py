"""Reads of the views: balances (now or as of an instant) and passbooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, func, or_, select

from ledger import ids
from ledger.domain.assets import Asset
from projections.tables import balances, earning_occurrences, holds, passbook_lines


@dataclass(frozen=True)
class AccountBalance:
    balance: int = 0
    held: int = 0
    earned: int = 0
    next_expiry_points: int = 0
    next_expiry_at: datetime | None = None


def recently_active(engine: Engine, most: int) -> list[UUID]:
    """Up to `most` ids of what the next commands most likely read: the communities, then the
    accounts posted to last, each after its owner (member, merchant or household), the latest
    first. Accounts that never held anything (a member's time account, most often) are left
    out."""
    c = balances.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.community_id, c.owner_id, c.account_id)
            .where(c.owner_id.is_not(None), or_(c.balance != 0, c.earned != 0, c.held != 0))
            .order_by(c.position.desc()).limit((most + 1) // 2)).all()
    communities = dict.fromkeys(row.community_id for row in rows)
    owned = [value for row in rows for value in (row.owner_id, row.account_id)]
    return [UUID(value) for value in [*communities, *owned][:most]]


def account_balance(engine: Engine, owner_id: UUID, asset: Asset) -> AccountBalance:
    c = balances.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.balance, c.held, c.earned, c.next_expiry_points, c.next_expiry_at)
            .where(c.account_id == str(ids.account_id(owner_id, asset.value)))
        ).first()
    return AccountBalance(*row) if row else AccountBalance()


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


def with_occurrences() -> Any:
    """Passbook lines with, for an award's or a deposit's, when it occurred as the
    leaderboards keep it (lines recorded before postings carried `occurred_at` have none)."""
    return passbook_lines.outerjoin(
        earning_occurrences,
        earning_occurrences.c.transaction_id == passbook_lines.c.transaction_id)


def occurred_at() -> Any:
    """When a line's deed was done: its own `occurred_at`, its transaction's, or `at`."""
    return func.coalesce(passbook_lines.c.occurred_at, earning_occurrences.c.occurred_at,
                         passbook_lines.c.at).label("occurred_at")


def passbook(
    engine: Engine, owner_id: UUID, asset: Asset, *, limit: int, before: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Lines newest first; `before` is the position the previous page ended at."""
    lines = passbook_lines.c
    query = (
        select(lines.position, lines.at, lines.kind, lines.amount, lines.balance_after,
               lines.reference, lines.description, lines.transaction_id,
               occurred_at(), lines.counterparty)
        .select_from(with_occurrences())
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


@dataclass(frozen=True)
class Statement:
    opening_balance: int
    lines: list[dict[str, Any]]
    totals: dict[str, int]
    next_before: int | None


STATEMENT_KINDS = {"redemption": "redeemed", "refund": "refunded", "settlement": "settled",
                   "adjustment": "adjusted"}


def statement(
    engine: Engine, merchant_id: UUID, *, start: datetime | None, end: datetime | None,
    limit: int, before: int | None,
) -> Statement:
    """A merchant's lines in [start, end), newest first, with totals over the whole period."""
    lines = passbook_lines.c
    account = str(ids.account_id(merchant_id, Asset.POINTS.value))
    period = [lines.account_id == account]
    if start is not None:
        period.append(lines.at >= start)
    if end is not None:
        period.append(lines.at < end)
    with engine.connect() as conn:
        opening = 0
        if start is not None:
            opening = conn.execute(
                select(lines.balance_after)
                .where(lines.account_id == account, lines.at < start)
                .order_by(lines.position.desc()).limit(1)).scalar() or 0
        sums = dict(conn.execute(
            select(lines.kind, func.sum(lines.amount)).where(*period).group_by(lines.kind)
        ).all())
        query = (select(lines.position, lines.at, lines.kind, lines.amount, lines.balance_after,
                        lines.reference, lines.description, lines.counterparty)
                 .where(*period).order_by(lines.position.desc()).limit(limit + 1))
        if before is not None:
            query = query.where(lines.position < before)
        rows = [dict(r._mapping) for r in conn.execute(query).all()]
    totals = {name: abs(int(sums.get(kind) or 0)) for kind, name in STATEMENT_KINDS.items()}
    totals["adjusted"] = int(sums.get("adjustment") or 0)
    totals["unsettled"] = int(opening) + sum(int(v or 0) for v in sums.values())
    page = rows[:limit]
    return Statement(int(opening), page, totals,
                     page[-1]["position"] if len(rows) > limit else None)


def hold_row(engine: Engine, hold_id: UUID) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(holds).where(holds.c.hold_id == str(hold_id))).first()
    return dict(row._mapping) if row else None


def asset_totals(engine: Engine) -> dict[str, int]:
    """Sum of every balance per asset (zero when the books balance)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(balances.c.asset, func.sum(balances.c.balance)).group_by(balances.c.asset)
        ).all()
    return {row[0]: int(row[1]) for row in rows}
