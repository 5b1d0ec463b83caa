"""Invariants checked against a replay of the event store (`linli verify`).

1. Per asset, all balances sum to zero.   2. No member or merchant below zero unless an
adjustment put it there.   4. Every balance equals its passbook and a replay of the events.
Each transaction's postings sum to zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from ledger.application import LedgerApp
from ledger.domain.accounts import Account
from ledger.domain.assets import PostingKind
from projections.tables import balances, passbook_lines
from projections.views import OPENED, POSTED

BATCH = 5_000
MAX_PROBLEMS = 100


@dataclass
class Report:
    events_checked: int = 0
    accounts_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def verify(app: LedgerApp, engine: Engine) -> Report:
    report = Report()
    replayed: dict[str, int] = defaultdict(int)
    assets: dict[str, str] = {}
    adjusted: set[str] = set()
    per_transaction: dict[str, int] = defaultdict(int)
    position = 0
    while True:
        batch = app.recorder.select_notifications(position, BATCH, topics=[OPENED, POSTED],
                                                  inclusive_of_start=False)
        if not batch:
            break
        for notification in batch:
            event: Any = app.mapper.to_domain_event(notification)
            report.events_checked += 1
            account = str(event.originator_id)
            if isinstance(event, Account.Opened):  # type: ignore[attr-defined]
                assets[account] = event.asset
                continue
            replayed[account] += event.amount
            if replayed[account] != event.balance_after:
                report.add(f"event {notification.id}: account {account} says balance_after "
                           f"{event.balance_after}, the replay gives {replayed[account]}")
            if event.kind == PostingKind.ADJUSTMENT:
                adjusted.add(account)
            if event.counter_account.startswith("community:"):
                replayed[event.counter_account] -= event.amount
                assets[event.counter_account] = event.counter_account.split(":")[2]
            else:
                per_transaction[str(event.transaction_id)] += event.amount
        position = batch[-1].id

    for transaction, total in per_transaction.items():
        if total != 0:
            report.add(f"transaction {transaction}: postings sum to {total}, not 0")
    with engine.connect() as conn:
        stored = {row.account_id: row for row in conn.execute(
            select(balances.c.account_id, balances.c.owner_kind, balances.c.balance))}
        passbook_sums = dict(conn.execute(
            select(passbook_lines.c.account_id, func.sum(passbook_lines.c.amount))
            .group_by(passbook_lines.c.account_id)).all())
    totals: dict[str, int] = defaultdict(int)
    for account, asset in assets.items():
        report.accounts_checked += 1
        expected = replayed.get(account, 0)
        row = stored.get(account)
        actual = row.balance if row is not None else 0
        totals[asset] += actual
        if actual != expected:
            report.add(f"account {account}: balance {actual}, the replay gives {expected}")
        if not account.startswith("community:"):
            in_passbook = int(passbook_sums.get(account) or 0)
            if in_passbook != expected:
                report.add(f"account {account}: passbook sums to {in_passbook}, "
                           f"the replay gives {expected}")
            if expected < 0 and account not in adjusted:
                report.add(f"account {account}: balance {expected} is below zero")
    for account in set(stored) - set(assets):
        report.add(f"account {account} is in the balances view but not in the event store")
    for asset, total in totals.items():
        if total != 0:
            report.add(f"{asset}: balances sum to {total}, not 0")
    return report
