"""The books straight from the event store (not the views): balances as of an instant
(`linli replay --until`) and the ledger as a plain-text journal (`linli export journal`).

Every `Account.Posted` is one leg of a transaction. A posting whose counter account is a
community's system account (`community:<id>:POINTS:issued`, …) gets its opposite leg there;
otherwise the other leg is the counter account's own posting with the same transaction id.
Times are the instants the events were recorded (what the passbook and `as_of` use).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from ledger.application import LedgerApp
from ledger.store import events_between
from projections.view import OPENED, POSTED

BATCH = 5_000


@dataclass
class Book:
    """An account: a member's or merchant's, or a community's system account."""

    account_id: str
    asset: str
    owner_kind: str
    owner_id: str
    community_id: str
    balance: int = 0


@dataclass
class Transaction:
    transaction_id: str
    at: datetime
    kind: str
    description: str
    postings: list[tuple[str, int]] = field(default_factory=list)  # (account id, amount)


def _events(app: LedgerApp) -> Iterator[tuple[int, Any]]:
    """The log's openings and postings up to its head now, `BATCH` positions at a time."""
    head = app.recorder.max_notification_id() or 0
    for after in range(0, head, BATCH):
        for position, _, stored in events_between(app, after, min(head, after + BATCH),
                                                  [OPENED, POSTED]):
            yield position, app.mapper.to_domain_event(stored)


def _system_book(account: str) -> Book:
    _, community_id, asset, purpose = account.split(":", 3)
    return Book(account, asset, "system", purpose, community_id)


def read_books(app: LedgerApp, until: datetime | None = None
               ) -> tuple[dict[str, Book], list[Transaction]]:
    """Every account with its balance as of `until` (all events if None), and the
    transactions recorded by then, in log order."""
    books: dict[str, Book] = {}
    transactions: dict[str, Transaction] = {}
    for _, event in _events(app):
        if until is not None and event.timestamp > until:
            continue
        account = str(event.originator_id)
        if not hasattr(event, "amount"):  # Opened
            books[account] = Book(account, event.asset, event.owner_kind, str(event.owner_id),
                                  str(event.community_id))
            continue
        books[account].balance += event.amount
        transaction = transactions.get(str(event.transaction_id))
        if transaction is None:
            transaction = Transaction(str(event.transaction_id), event.timestamp, event.kind,
                                      event.description)
            transactions[transaction.transaction_id] = transaction
        transaction.postings.append((account, event.amount))
        counter = event.counter_account
        if counter.startswith("community:"):
            book = books.get(counter) or books.setdefault(counter, _system_book(counter))
            book.balance -= event.amount
            transaction.postings.append((counter, -event.amount))
    return books, list(transactions.values())


Bound = date | datetime  # a UTC day (from its midnight) or an instant


def _instant(bound: Bound | None) -> datetime | None:
    """The instant a bound stands for: a day is its UTC midnight; an instant without an
    offset is UTC."""
    if bound is None:
        return None
    if isinstance(bound, datetime):
        return bound if bound.tzinfo is not None else bound.replace(tzinfo=UTC)
    return datetime.combine(bound, time(), UTC)


def _split(transactions: list[Transaction], start: Bound | None, end: Bound | None
           ) -> tuple[dict[str, int], list[Transaction]]:
    """What comes before `start` (summed per account) and the transactions in [start, end)."""
    first, last = _instant(start), _instant(end)
    carried: dict[str, int] = defaultdict(int)
    lines: list[Transaction] = []
    for transaction in transactions:
        if first is not None and transaction.at < first:
            for account, amount in transaction.postings:
                carried[account] += amount
        elif last is None or transaction.at < last:
            lines.append(transaction)
    return carried, lines


def _day(bound: Bound) -> date:
    instant = _instant(bound)
    assert instant is not None
    return instant.astimezone(UTC).date()


# --- beancount -----------------------------------------------------------------------------
def beancount_account(book: Book) -> str:
    """An account name beancount accepts: members' and merchants' under Assets, a
    community's system accounts under Equity (names keep the Linli ids)."""
    if book.owner_kind == "system":
        purpose = re.sub(r"[^A-Za-z0-9]+", "-", book.owner_id).strip("-").capitalize()
        return f"Equity:Community:C-{book.community_id}:{book.asset}:{purpose}"
    return f"Assets:{book.owner_kind.capitalize()}:A-{book.account_id}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def write_beancount(out: TextIO, books: dict[str, Book], transactions: list[Transaction],
                    start: Bound | None = None, end: Bound | None = None) -> None:
    """The journal of transactions recorded in [start, end) (a day counts from its UTC
    midnight); with `start`, one transaction first brings every balance forward (it sums to
    zero, as all balances do)."""
    out.write(";; Linli ledger, exported from the event store. POINTS and MINUTES are\n"
              ";; separate commodities; amounts are integers.\n")
    for asset in sorted({b.asset for b in books.values()}):
        out.write(f"1970-01-01 commodity {asset}\n")
    opened = min((t.at.astimezone(UTC).date() for t in transactions), default=date(1970, 1, 1))
    opened = min(opened, _day(start)) if start is not None else opened
    names = {account: beancount_account(book) for account, book in books.items()}
    for account, book in sorted(books.items(), key=lambda item: names[item[0]]):
        out.write(f"{opened.isoformat()} open {names[account]} {book.asset}\n"
                  f"  owner: {_quote(book.owner_kind + ':' + book.owner_id)}\n")
    carried, lines = _split(transactions, start, end)
    if start is not None:
        out.write(f'\n{_day(start).isoformat()} * "balances brought forward"\n')
        for account, amount in sorted(carried.items(), key=lambda item: names[item[0]]):
            if amount:
                out.write(f"  {names[account]}  {amount} {books[account].asset}\n")
    for transaction in lines:
        dated = transaction.at.astimezone(UTC).date().isoformat()
        out.write(f"\n{dated} * {_quote(transaction.kind)} {_quote(transaction.description)}\n"
                  f"  transaction: {_quote(transaction.transaction_id)}\n"
                  f"  recorded_at: {_quote(transaction.at.isoformat())}\n")
        for account, amount in transaction.postings:
            out.write(f"  {names[account]}  {amount} {books[account].asset}\n")


# --- hledger -------------------------------------------------------------------------------
def write_hledger(out: TextIO, books: dict[str, Book], transactions: list[Transaction],
                  start: Bound | None = None, end: Bound | None = None) -> None:
    """The same journal in hledger's (and ledger's) format."""
    out.write("; Linli ledger, exported from the event store\n")
    names = {account: beancount_account(book) for account, book in books.items()}
    for asset in sorted({b.asset for b in books.values()}):
        out.write(f"commodity 1. {asset}\n")
    carried, lines = _split(transactions, start, end)
    if start is not None and any(carried.values()):
        out.write(f"\n{_day(start).isoformat()} * balances brought forward\n")
        for account, amount in sorted(carried.items(), key=lambda item: names[item[0]]):
            if amount:
                out.write(f"    {names[account]}  {amount} {books[account].asset}\n")
    for transaction in lines:
        day = transaction.at.astimezone(UTC).date()
        out.write(f"\n{day.isoformat()} * {transaction.kind} | {transaction.description}"
                  f"  ; transaction:{transaction.transaction_id}\n")
        for account, amount in transaction.postings:
            out.write(f"    {names[account]}  {amount} {books[account].asset}\n")


# --- CSV -----------------------------------------------------------------------------------
LEDGER_COLUMNS = ["position", "recorded_at", "transaction_id", "account_id", "owner_kind",
                  "owner_id", "community_id", "asset", "kind", "amount", "balance_after",
                  "counter_account", "reference", "description", "actor_id", "actor_role"]


def ledger_rows(app: LedgerApp, start: datetime | None = None, end: datetime | None = None,
                account_ids: set[str] | None = None) -> Iterator[list[Any]]:
    """Every posting recorded in [start, end), in log order (of `account_ids` if given)."""
    books: dict[str, Book] = {}
    for position, event in _events(app):
        account = str(event.originator_id)
        if not hasattr(event, "amount"):
            books[account] = Book(account, event.asset, event.owner_kind, str(event.owner_id),
                                  str(event.community_id))
            continue
        if (start is not None and event.timestamp < start) or (
                end is not None and event.timestamp >= end):
            continue
        if account_ids is not None and account not in account_ids:
            continue
        book = books[account]
        yield [position, event.timestamp.isoformat(), str(event.transaction_id), account,
               book.owner_kind, book.owner_id, book.community_id, book.asset, event.kind,
               event.amount, event.balance_after, event.counter_account, event.reference,
               event.description, event.actor_id, event.actor_role]
