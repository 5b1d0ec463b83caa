"""The views of the accounts: balances, holds, and passbook lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, select, update

from ledger import ids
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.holds import Hold, HoldStatus
from ledger.domain.registry import ERASED_NAME, Member
from ledger.privacy.masking import masked
from projections import bulk
from projections.tables import balances, holds, passbook_lines, registry_members
from projections.view import OPENED, POSTED, Positioned, Replay

HOLD_PLACED = get_topic(Account.HoldPlaced)  # type: ignore[attr-defined]
HOLD_RELEASED = get_topic(Account.HoldReleased)  # type: ignore[attr-defined]
HOLD_EVENTS = tuple(get_topic(cls) for cls in (
    Hold.Placed, Hold.Captured, Hold.Voided, Hold.Expired))  # type: ignore[attr-defined]


class BalancesView:
    """Balance, held and earned per account; system accounts from the counter postings."""

    name = "balances"
    tables = (balances,)
    topics = (OPENED, POSTED, HOLD_PLACED, HOLD_RELEASED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        changes = _BalanceChanges()
        changes.apply(conn, events)
        changes.finish(conn)

    def replay(self) -> Replay:
        """A rebuild updates each account once, at its end (or when `ROWS_HELD` rows wait):
        one update a batch would leave a dead row version a batch in the rebuild's one long
        transaction."""
        return _BalanceChanges()


ROWS_HELD = 100_000  # balance rows a rebuild holds before it writes them


class _BalanceChanges:
    """What a run of events does to the balances, merged by account, until written."""

    def __init__(self) -> None:
        self.opened: dict[str, dict[str, Any]] = {}  # new rows, with their latest values
        self.latest: dict[str, dict[str, Any]] = {}  # postings to accounts opened before
        self.held: dict[str, dict[str, Any]] = {}
        self.system: dict[str, dict[str, Any]] = {}  # sums to add to the system accounts

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        for item in events:
            e = item.event
            if isinstance(e, Account.Opened):  # type: ignore[attr-defined]
                self.opened[item.originator] = {
                    "account_id": item.originator, "owner_id": str(e.owner_id),
                    "owner_kind": e.owner_kind, "community_id": str(e.community_id),
                    "asset": e.asset, "balance": 0, "held": 0, "earned": 0,
                    "position": item.position, "updated_at": e.timestamp,
                    "next_expiry_at": None, "next_expiry_points": 0,
                }
            elif isinstance(e, Account.Posted):  # type: ignore[attr-defined]
                self._change(self.latest, item.originator, {
                    "balance": e.balance_after, "earned": e.earned_after,
                    "position": item.position, "updated_at": e.timestamp,
                    "next_expiry_at": (datetime.fromisoformat(e.next_expiry_at)
                                       if e.next_expiry_at else None),
                    "next_expiry_points": e.next_expiry_points,
                })
                if e.counter_account.startswith("community:"):
                    _, community_id, asset, _purpose = e.counter_account.split(":")
                    row = self.system.setdefault(e.counter_account, {
                        "account_id": e.counter_account, "owner_id": None,
                        "owner_kind": OwnerKind.SYSTEM.value, "community_id": community_id,
                        "asset": asset, "balance": 0, "held": 0, "earned": 0,
                    })
                    row["balance"] -= e.amount
                    row["position"] = item.position
                    row["updated_at"] = e.timestamp
            elif item.topic in (HOLD_PLACED, HOLD_RELEASED):
                self._change(self.held, item.originator, {"held": e.held_after})
        if len(self.opened) + len(self.latest) + len(self.held) > ROWS_HELD:
            self.finish(conn)

    def _change(self, changed: dict[str, dict[str, Any]], account_id: str,
                values: dict[str, Any]) -> None:
        row = self.opened.get(account_id)
        if row is None:
            row = changed.setdefault(account_id, {"account_id": account_id})
        row.update(values)

    def finish(self, conn: Connection) -> None:
        """Write what waits, and start again from nothing."""
        bulk.insert(conn, balances, list(self.opened.values()))
        bulk.update(conn, balances, "account_id", list(self.latest.values()))
        bulk.update(conn, balances, "account_id", list(self.held.values()))
        bulk.merge(conn, balances, ("account_id",), _add_balance, list(self.system.values()))
        for written in (self.opened, self.latest, self.held, self.system):
            written.clear()


def _add_balance(table: Table, excluded: Any) -> dict[str, Any]:
    """A system account's upsert: its postings' sum added, position and time replaced."""
    return {"balance": table.c.balance + excluded.balance, "position": excluded.position,
            "updated_at": excluded.updated_at}


class HoldsView:
    """Every hold and its state, for tills and for the sweeper that expires them."""

    name = "holds"
    tables = (holds,)
    topics = HOLD_EVENTS

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        placed: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}  # holds placed before this batch
        for item in events:
            e = item.event
            hold_id = item.originator
            if isinstance(e, Hold.Placed):  # type: ignore[attr-defined]
                placed[hold_id] = {
                    "hold_id": hold_id, "member_id": str(e.member_id),
                    "merchant_id": str(e.merchant_id), "community_id": str(e.community_id),
                    "points": e.points, "status": HoldStatus.HELD.value,
                    "expires_at": e.expires_at, "redemption_id": None, "captured": 0,
                    "position": item.position}
                continue
            values: dict[str, Any] = {"position": item.position}
            if isinstance(e, Hold.Captured):  # type: ignore[attr-defined]
                values.update(status=HoldStatus.CAPTURED.value,
                              redemption_id=str(e.redemption_id), captured=e.points)
            elif isinstance(e, Hold.Voided):  # type: ignore[attr-defined]
                values.update(status=HoldStatus.VOIDED.value)
            else:
                values.update(status=HoldStatus.EXPIRED.value)
            row = placed.get(hold_id) or changed.setdefault(hold_id, {"hold_id": hold_id})
            row.update(values)
        bulk.insert(conn, holds, list(placed.values()))
        bulk.update(conn, holds, "hold_id", list(changed.values()))


MEMBER_ERASED = get_topic(Member.Erased)  # type: ignore[attr-defined]
MEMBER_RENAMED = get_topic(Member.Renamed)  # type: ignore[attr-defined]
NAMES_KEPT = 200_000


class PassbookView:
    """One passbook line (积分存折) per posting to a member's or merchant's account, with when
    the deed was done (awards, deposits) and whom it was with (`counterparty`). A posting
    names a member on its other side by id (`ids.member_ref`), never by name: its line shows
    the name from the registry (which comes first in a batch), masked on a shop's lines, and
    「已注销居民」 once erased."""

    name = "passbook"
    tables = (passbook_lines,)
    topics = (POSTED, MEMBER_RENAMED, MEMBER_ERASED)

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # a member's id -> their name in the registry

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        rows: list[dict[str, Any]] = []
        unnamed: dict[str, list[dict[str, Any]]] = {}  # a member's id -> lines naming them
        for item in events:
            e = item.event
            if not isinstance(e, Account.Posted):  # type: ignore[attr-defined]
                continue
            counterparty = getattr(e, "counterparty", "")
            row = {
                "position": item.position, "account_id": item.originator,
                "at": e.timestamp, "kind": e.kind, "amount": e.amount,
                "balance_after": e.balance_after, "earned_after": e.earned_after,
                "transaction_id": str(e.transaction_id), "reference": e.reference,
                "description": e.description, "actor_id": e.actor_id,
                "actor_role": e.actor_role,
                "occurred_at": (datetime.fromisoformat(e.occurred_at)
                                if getattr(e, "occurred_at", None) else None),
                "counterparty": counterparty,
            }
            rows.append(row)
            if counterparty.startswith(ids.MEMBER_REF):
                member = counterparty[len(ids.MEMBER_REF):]
                named = self._names.get(member)
                if named is None:
                    unnamed.setdefault(member, []).append(row)
                else:
                    row["counterparty"] = shown_to(e.kind, named)
        if unnamed:
            self._name(conn, unnamed)
        bulk.insert(conn, passbook_lines, rows)
        for item in events:
            if item.topic in (MEMBER_RENAMED, MEMBER_ERASED):
                self._names.pop(item.originator, None)
                if item.topic == MEMBER_ERASED:
                    unname_counterparties(conn, item.originator)

    def _name(self, conn: Connection, unnamed: dict[str, list[dict[str, Any]]]) -> None:
        """Name the members on the other side of `unnamed` lines, and remember them."""
        if len(self._names) > NAMES_KEPT:
            self._names.clear()
        m = registry_members.c
        found = dict(conn.execute(select(m.member_id, m.name)
                                  .where(m.member_id.in_(list(unnamed)))).all())
        for member, lines in unnamed.items():
            named = found.get(member, "")
            self._names[member] = named
            for row in lines:
                row["counterparty"] = shown_to(row["kind"], named)


SHOPS_LINES = frozenset({"redemption", "refund"})  # a shop's lines: the member masked


def shown_to(kind: str, name: str) -> str:
    """How a line of `kind` names the member on its other side: masked (张*明) on a shop's
    statement, whole on a resident's or the pool's (a gift, a donation)."""
    return masked(name) if name and kind in SHOPS_LINES else name


def unname_counterparties(conn: Connection, member_id: str) -> None:
    """Show an erased member as 「已注销居民」 on the other side of each of their postings (a
    shop's statement, a giver's passbook)."""
    own = [str(ids.account_id(UUID(member_id), asset.value)) for asset in Asset]
    lines = passbook_lines.c
    transactions = select(lines.transaction_id).where(lines.account_id.in_(own))
    conn.execute(update(passbook_lines)
                 .where(lines.transaction_id.in_(transactions), lines.account_id.not_in(own),
                        lines.counterparty != "")
                 .values(counterparty=ERASED_NAME))
