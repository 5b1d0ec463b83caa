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
    `lots` are in the order `apply` keeps them, so FIFO is their order: a spend looks at the
    lots it takes from, not at every lot a member holds.
    """
    ordered = (lots if first is None
               else sorted(lots, key=lambda lot: (lot[0] != first, _key(lot))))
    changes: list[Change] = []
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
    """The lots after `changes`; emptied lots are dropped, new ones sorted in.

    Changes that only take from lots (spends, expiries) touch the lots at the front, where
    FIFO takes: those are found from the front and the rest are kept as they are.
    """
    if not changes:
        return lots
    if all(delta < 0 for _, delta, _ in changes):
        return _taken_from(lots, changes)
    if len(changes) == 1:
        lot_id, delta, expires_at = changes[0]
        if (delta > 0 and (not lots or (expires_at or NEVER) >= _key(lots[-1]))
                and all(lot[0] != lot_id for lot in lots)):
            # A new lot that sorts last (an award of a history in date order): appended,
            # where `rebuilt` would copy and sort every lot.
            return [*lots, [lot_id, delta, expires_at]]
    return rebuilt(lots, changes)


def rebuilt(lots: list[Lot], changes: list[Change]) -> list[Lot]:
    """`apply` by its definition: every lot copied, changed, and sorted afresh."""
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


def _taken_from(lots: list[Lot], changes: list[Change]) -> list[Lot]:
    """`apply` for changes that are all negative: no lot is added or moves."""
    owed: dict[str, int] = {}
    for lot_id, delta, _ in changes:
        owed[lot_id] = owed.get(lot_id, 0) + delta
    after = list(lots)
    emptied: list[int] = []
    for index, (lot_id, remaining, expires_at) in enumerate(lots):
        delta = owed.pop(lot_id, None)
        if delta is not None:
            if remaining + delta > 0:
                after[index] = [lot_id, remaining + delta, expires_at]
            else:
                emptied.append(index)
            if not owed:
                break
    for index in reversed(emptied):
        del after[index]
    return after


def next_expiry(lots: list[Lot]) -> tuple[str | None, int]:
    """When the next points expire, and how many (all lots sharing that instant): the first
    dated lots, in the order `apply` keeps them."""
    first: str | None = None
    points = 0
    for _, remaining, expires_at in lots:
        if expires_at is None or (first is not None and expires_at != first):
            break
        if remaining > 0:
            first = expires_at
            points += remaining
    return first, points
