"""Lots: a member's points by when they expire, spent earliest-expiring first (FIFO).

A lot is `[lot_id, remaining, expires_at]`, with `expires_at` an ISO 8601 UTC instant or None
(never). Lots are kept sorted by expiry, never-expiring last, then by arrival. A change is
`[lot_id, delta, expires_at]`; postings record their changes, so which points expired (or were
spent) is written down exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Lot = list[Any]  # [lot_id: str, remaining: int, expires_at: str | None]
Change = list[Any]  # [lot_id: str, delta: int, expires_at: str | None]

NEVER = "9999"  # sorts after every ISO instant


def instant(expires_at: datetime | None) -> str | None:
    """The stored form of an expiry instant: ISO 8601 in UTC, so instants sort as strings."""
    return None if expires_at is None else expires_at.astimezone(UTC).isoformat()


def _key(lot: Lot) -> str:
    return lot[2] or NEVER


def take(lots: list[Lot], amount: int, first: str | None = None) -> list[Change]:
    """The changes that spend `amount` from `lots`: lot `first` (if any), then FIFO.

    Takes at most what the lots hold; the rest (an overdraft an auditor allowed) has no lot.
    """
    changes: list[Change] = []
    ordered = sorted(lots, key=lambda lot: (lot[0] != first, _key(lot)))
    for lot_id, remaining, expires_at in ordered:
        if amount <= 0:
            break
        part = min(remaining, amount)
        if part > 0:
            changes.append([lot_id, -part, expires_at])
            amount -= part
    return changes


def due(lots: list[Lot], now: datetime) -> list[Change]:
    """The changes that expire every lot whose instant has come."""
    moment = instant(now)
    assert moment is not None
    return [[lot_id, -remaining, at] for lot_id, remaining, at in lots
            if at is not None and at <= moment and remaining > 0]


def apply(lots: list[Lot], changes: list[Change]) -> list[Lot]:
    """The lots after `changes`; emptied lots are dropped, new ones sorted in."""
    by_id = {lot[0]: list(lot) for lot in lots}
    order = [lot[0] for lot in lots]
    for lot_id, delta, expires_at in changes:
        if lot_id in by_id:
            by_id[lot_id][1] += delta
        elif delta > 0:
            by_id[lot_id] = [lot_id, delta, expires_at]
            order.append(lot_id)
    kept = [by_id[i] for i in order if by_id[i][1] > 0]
    return sorted(kept, key=_key)  # stable: arrival order within one expiry instant


def next_expiry(lots: list[Lot]) -> tuple[str | None, int]:
    """When the next points expire, and how many (all lots sharing that instant)."""
    dated = [lot for lot in lots if lot[2] is not None and lot[1] > 0]
    if not dated:
        return None, 0
    first = min(lot[2] for lot in dated)
    return first, sum(lot[1] for lot in dated if lot[2] == first)
