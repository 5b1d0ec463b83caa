"""`linli verify`: one pass over the event store that checks everything an auditor relies on.

- Every event's hash, its link to the previous event of its stream, and every checkpoint
  (`projections.chain_check`): an edited, deleted, reordered or inserted event is named.
- Double entry, against a replay: 1. per asset, all balances sum to zero; 2. no member or
  merchant below zero unless an adjustment put it there; each transaction's postings sum to
  zero; 4. every balance in the views equals its passbook and the replay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from ledger.application import LedgerApp
from ledger.domain.accounts import Account
from ledger.domain.assets import PostingKind
from projections.chain_check import ChainChecker, Problem
from projections.tables import balances, passbook_lines
from projections.views import OPENED, POSTED

BATCH = 5_000
MAX_PROBLEMS = 100

Progress = Callable[[int, int], None]  # (position reached, last position)


@dataclass
class Report:
    events_checked: int = 0
    accounts_checked: int = 0
    checkpoints: int = 0
    unsealed_events: int = 0
    sealed_through: int = 0
    sealed_hash: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem | str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem if isinstance(problem, Problem) else Problem(problem))

    def sort(self) -> None:
        """Problems about events first, in log order, so the first names the first bad one."""
        self.problems.sort(key=lambda p: (p.position is None, p.position or 0))


def verify(app: LedgerApp, engine: Engine, progress: Progress | None = None) -> Report:
    report = Report()
    replayed: dict[str, int] = defaultdict(int)
    assets: dict[str, str] = {}
    adjusted: set[str] = set()
    per_transaction: dict[str, int] = defaultdict(int)
    chain = ChainChecker(report.add, app.mapper.to_domain_event)
    last = app.recorder.max_notification_id() or 0
    position = 0
    while True:
        batch = app.recorder.select_notifications(position, BATCH, inclusive_of_start=False)
        if not batch:
            break
        for notification in batch:
            report.events_checked += 1
            chain.check(notification)
            if notification.topic in (OPENED, POSTED):
                _replay(app, notification, report, replayed, assets, adjusted, per_transaction)
        position = batch[-1].id
        if progress is not None:
            progress(position, max(last, position))

    report.checkpoints = chain.checkpoints
    report.unsealed_events = chain.unsealed
    report.sealed_through, report.sealed_hash = chain.sealed_through, chain.sealed_hash
    for transaction, total in per_transaction.items():
        if total != 0:
            report.add(f"transaction {transaction}: postings sum to {total}, not 0")
    _compare_views(engine, report, replayed, assets, adjusted)
    report.sort()
    return report


def _replay(app: LedgerApp, notification: Any, report: Report, replayed: dict[str, int],
            assets: dict[str, str], adjusted: set[str], per_transaction: dict[str, int]) -> None:
    try:
        event: Any = app.mapper.to_domain_event(notification)
    except Exception as error:
        report.add(Problem(f"cannot be read: {error}", notification.id,
                           str(notification.originator_id), notification.originator_version))
        return
    account = str(event.originator_id)
    if isinstance(event, Account.Opened):  # type: ignore[attr-defined]
        assets[account] = event.asset
        return
    replayed[account] += event.amount
    if replayed[account] != event.balance_after:
        report.add(Problem(f"account {account} says balance_after {event.balance_after}, "
                           f"the replay gives {replayed[account]}", notification.id, account,
                           notification.originator_version))
    if event.kind == PostingKind.ADJUSTMENT:
        adjusted.add(account)
    if event.counter_account.startswith("community:"):
        replayed[event.counter_account] -= event.amount
        assets[event.counter_account] = event.counter_account.split(":")[2]
    else:
        per_transaction[str(event.transaction_id)] += event.amount


def _compare_views(engine: Engine, report: Report, replayed: dict[str, int],
                   assets: dict[str, str], adjusted: set[str]) -> None:
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
