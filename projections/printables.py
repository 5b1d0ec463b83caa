"""What the printed papers read: a member's passbook over a period (积分存折), with its
opening and closing balances and totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from ledger import ids
from ledger.domain.assets import Asset
from projections.periods import ALL, Quarter
from projections.queries import occurred_at, with_occurrences
from projections.tables import passbook_lines


def bounds(period: str, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """[start, end) of `period` (all, YYYY, YYYY-Qn or YYYY-MM) in the time zone `zone`."""
    if period == ALL:
        return None, None
    if "Q" in period:
        return Quarter.parse(period).bounds(zone)
    if len(period) == 4:
        year = int(period)
        return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    year, month = int(period[:4]), int(period[5:7])
    end = datetime(year + 1, 1, 1, tzinfo=zone) if month == 12 else datetime(
        year, month + 1, 1, tzinfo=zone)
    return datetime(year, month, 1, tzinfo=zone), end


@dataclass(frozen=True)
class PassbookPeriod:
    opening: int
    lines: list[dict[str, Any]]  # oldest first
    closing: int
    total_in: int
    total_out: int


def passbook_period(engine: Engine, owner_id: UUID, asset: Asset, start: datetime | None,
                    end: datetime | None) -> PassbookPeriod:
    """The lines recorded in [start, end), oldest first, with the balance before them."""
    lines = passbook_lines.c
    account = str(ids.account_id(owner_id, asset.value))
    query = (select(lines.position, lines.at, lines.kind, lines.amount, lines.balance_after,
                    lines.reference, lines.description, lines.counterparty, occurred_at())
             .select_from(with_occurrences()).where(lines.account_id == account)
             .order_by(lines.position))
    if start is not None:
        query = query.where(lines.at >= start)
    if end is not None:
        query = query.where(lines.at < end)
    with engine.connect() as conn:
        found = [dict(row._mapping) for row in conn.execute(query)]
        opening = 0
        if start is not None:
            before = conn.execute(select(lines.balance_after).where(
                lines.account_id == account, lines.at < start)
                .order_by(lines.position.desc()).limit(1)).scalar()
            opening = int(before or 0)
    closing = found[-1]["balance_after"] if found else opening
    return PassbookPeriod(opening, found, closing,
                          sum(line["amount"] for line in found if line["amount"] > 0),
                          -sum(line["amount"] for line in found if line["amount"] < 0))
