"""`linli verify`: one pass over the event store that checks everything an auditor relies on.

- Every event's hash, its link to the previous event of its stream, and every checkpoint
  (`projections.chain_check`): an edited, deleted, reordered or inserted event is named. With
  the MAC key, every event's MAC; with the public key, every checkpoint's signature; with a
  witness file, that the log still holds the checkpoints an auditor wrote down.
- Every stream's latest snapshot (`projections.snapshot_check`): its MAC (with the MAC key),
  the head hash it names against the event at its version, and every field of it against the
  aggregate its events rebuild, whatever the kind of aggregate.
- Double entry, against a replay: 1. per asset, all balances sum to zero; 2. no debit takes
  a member or merchant below zero unless it is an adjustment or a reversal into debt (each
  other one is named by its position); 3. each transaction's postings sum to zero; 4. every
  balance in the views equals its passbook and the replay.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.postgres import PostgresApplicationRecorder
from sqlalchemy import Engine, func, select

from ledger.application import LedgerApp
from ledger.chain import MAC_HEADER_BYTES, MAC_MAGIC, split, stored_hashes
from ledger.domain.assets import PostingKind
from ledger.store import log_reader, log_rows
from projections.chain_check import ChainChecker, Problem, Row, Witnessed, stream_text
from projections.feed import stream_community
from projections.snapshot_check import (
    ACCOUNT_TOPIC,
    LatestSnapshot,
    SnapshotChecker,
    latest_snapshots,
)
from projections.tables import balances, passbook_lines, tracking
from projections.view import OPENED, POSTED

BATCH = 10_000
MAX_PROBLEMS = 100

Progress = Callable[[int, int], None]  # (position reached, last position)


@dataclass
class Report:
    events_checked: int = 0
    accounts_checked: int = 0
    snapshots_rebuilt: int = 0  # latest snapshots compared with the aggregate rebuilt
    checkpoints: int = 0
    unsealed_events: int = 0
    sealed_through: int = 0
    sealed_hash: str = ""
    scope: str = "all"  # or the id of the one community whose streams are reported
    problems: list[Problem] = field(default_factory=list)
    # The community a problem of the replay is about, by the problem's id().
    about: dict[int, str | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem | str, community: str | None = None) -> None:
        """Note a problem (`community`: the community of the account it is about; "" when it
        spans communities, so that only an auditor of the whole ledger hears of it)."""
        if len(self.problems) < MAX_PROBLEMS:
            made = problem if isinstance(problem, Problem) else Problem(problem)
            self.problems.append(made)
            if community is not None:
                self.about[id(made)] = community

    def sort(self) -> None:
        """Problems about events first, in log order, so the first names the first bad one."""
        self.problems.sort(key=lambda p: (p.position is None, p.position or 0))


@dataclass
class Replay:
    """What the log says, up to the positions the views held when they were read."""

    balances_through: int
    passbook_through: int
    since_witness: bool = False  # the log read from a witnessed checkpoint on
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    passbooks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    running: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    assets: dict[str, str] = field(default_factory=dict)
    communities: dict[str, str] = field(default_factory=dict)  # account -> its community
    transaction_communities: dict[str, str] = field(default_factory=dict)
    per_transaction: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    names: dict[bytes, str] = field(default_factory=dict)  # stream id -> its text
    held: dict[str, int] = field(default_factory=dict)  # account -> points held


@dataclass
class ViewsSnapshot:
    balances: dict[str, int]
    passbooks: dict[str, int]
    balances_through: int
    passbook_through: int


@dataclass(frozen=True)
class Trust:
    """What verify checks with: the MAC key (the server's; None: MACs unchecked), the public
    key (None: signatures unchecked), the checkpoints witnessed, and whether to check only
    what came after the last of them (`since_witness`)."""

    mac_key: bytes | None = None
    public_key: Ed25519PublicKey | None = None
    witnessed: tuple[Witnessed, ...] = ()
    since_witness: bool = False

    @classmethod
    def of(cls, app: LedgerApp) -> Trust:
        """The application's own keys."""
        keys = getattr(app, "keys", None)
        return cls(getattr(app.events, "mac_key", None),
                   None if keys is None else keys.public)


def verify(app: LedgerApp, engine: Engine, progress: Progress | None = None,
           community_id: UUID | None = None, trust: Trust | None = None,
           communities: Collection[UUID] | None = None, chain_apart: bool = False) -> Report:
    """Check the whole log (with `trust.since_witness`, what came after the last witnessed
    checkpoint). With `community_id`, report only what is about that community's streams and
    accounts, and what is about the log as a whole (its checkpoints, streams of no
    community): a checkpoint covers every community, so the whole chain is checked. With
    `communities` (a district's), the same for each of them. With `chain_apart` (`linli
    verify`'s own process, not a server's: it forks), a long log's chain is checked in a
    process of its own (PostgreSQL, two cores or more); the report is the same."""
    trust = Trust.of(app) if trust is None else trust
    report = Report()
    since = trust.witnessed[-1] if trust.since_witness and trust.witnessed else None
    views = _read_views(engine)  # first: the replay stops where the views were
    replay = Replay(views.balances_through, views.passbook_through, since is not None)
    witnessed = [w for w in trust.witnessed if since is None or w.position > since.position]
    chain = ChainChecker(report.add, app.mapper.to_domain_event, trust.mac_key,
                         trust.public_key, witnessed, since)
    snapshots = SnapshotChecker(app, report.add, {} if since is not None else
                                latest_snapshots(app, report.add, trust.mac_key))
    last = app.recorder.max_notification_id() or 0
    position = 0 if since is None else since.position
    # A long log on PostgreSQL: the chain is checked in a process of its own reading the log
    # too, beside this one's snapshots and replay (each about half the work, on two cores).
    apart = (_ChainApart(app, chain, position, last)
             if chain_apart and _apart(app, last - position) else None)
    before = len(report.problems)
    # The next batch is read while this one is checked (the database's work and the wait for
    # it beside the checks' CPU).
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="linli-verify-read") as reader:
            ahead = reader.submit(log_rows, app, position, BATCH)
            while True:
                batch = ahead.result()
                if batch and batch[-1][0] > last and apart is not None:
                    # Up to where the chain's process reads: both check the same events.
                    batch = [row for row in batch if row[0] <= last]
                if not batch:
                    break
                ahead = reader.submit(log_rows, app, batch[-1][0], BATCH)
                position = _check_batch(batch, None if apart else chain.check, report,
                                        replay, snapshots)
                if progress is not None:
                    progress(position, max(last, position))
    except BaseException:
        if apart is not None:
            apart.stop()
        raise

    if apart is not None:
        chain = apart.join(report, before, trust.public_key)
    chain.finish(lambda keys: stored_hashes(app.recorder, keys))
    snapshots.finish()
    report.snapshots_rebuilt = snapshots.rebuilt
    report.checkpoints = chain.checkpoints
    report.unsealed_events = chain.unsealed
    report.sealed_through, report.sealed_hash = chain.sealed_through, chain.sealed_hash
    if since is None:
        for transaction, total in replay.per_transaction.items():
            if total != 0:
                report.add(f"transaction {transaction}: postings sum to {total}, not 0",
                           replay.transaction_communities.get(transaction))
        _compare_views(views, report, replay)
    report.sort()
    if community_id is not None:
        _keep_scope(app, report, replay, {str(community_id)}, str(community_id))
    elif communities is not None:
        _keep_scope(app, report, replay, {str(c) for c in communities},
                    ",".join(sorted(str(c) for c in communities)))
    return report


def _check_batch(batch: list[Row], check: Callable[[Row], None] | None, report: Report,
                 replay: Replay, snapshots: SnapshotChecker) -> int:
    """Check a batch of stored events (`check`: the chain's check, None when a process of
    its own checks the chain); the last position."""
    report.events_checked += len(batch)
    pending = snapshots.pending
    for row in batch:
        if check is not None:
            check(row)
        if pending and row[1] in pending:  # a stream rebuilt up to its snapshot
            state = row[4]
            payload = state[MAC_HEADER_BYTES:] if state[:4] == MAC_MAGIC else split(state)[1]
            fields = snapshots.fold(row, payload)
            if row[3] in REPLAYED:
                _replay(row, report, replay, fields)
            snapshot = pending.get(row[1])
            if snapshot is not None and row[2] == snapshot.version:
                snapshots.check(row, _money_problem(row, snapshot, replay))
        elif row[3] in REPLAYED:
            _replay(row, report, replay)
    return batch[-1][0]


# A log of at least this many events (to check) is checked in two processes, on PostgreSQL
# with two cores or more: below it, starting the second costs more than it saves.
APART_EVENTS = 50_000


def _apart(app: LedgerApp, events: int) -> bool:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return (events >= APART_EVENTS and cores > 1
            and "fork" in multiprocessing.get_all_start_methods()
            and isinstance(app.recorder, PostgresApplicationRecorder))


class _ChainApart:
    """The chain's check of the log's positions after `after` up to `through`, in a forked
    process reading the log on a connection of its own. Its problems come back each with the
    position of the event it was checking, so that `join` puts them where one process would
    have reported them."""

    def __init__(self, app: LedgerApp, chain: ChainChecker, after: int, through: int) -> None:
        context = multiprocessing.get_context("fork")
        self.answer, sent = context.Pipe(duplex=False)
        self.process = context.Process(target=_check_chain, name="linli-verify-chain",
                                       args=(app, chain, after, through, sent), daemon=True)
        self.process.start()
        sent.close()

    def stop(self) -> None:
        """End the chain's process unheard (this one failed)."""
        self.process.terminate()
        self.process.join()
        self.answer.close()

    def join(self, report: Report, before: int, public_key: Ed25519PublicKey | None
             ) -> ChainChecker:
        """The chain's problems merged into the report's (its first `before` came before any
        event), in the order one process adds them; the checker, to finish here."""
        try:
            answer = self.answer.recv()
        except EOFError:
            answer = ("failed", f"exit code {self.process.exitcode}")
        finally:
            self.answer.close()
            self.process.join()
        if answer[0] != "done":
            raise RuntimeError(f"verify: the chain's check failed: {answer[1]}")
        _, found, chain = answer
        ours = report.problems[before:]
        del report.problems[before:]
        # Each event's problems in log order: the chain's before the snapshots' and replay's.
        for _, _, problem in heapq.merge(((at, 0, p) for at, p in found),
                                         ((p.position or 0, 1, p) for p in ours),
                                         key=lambda item: (item[0], item[1])):
            report.add(problem, report.about.pop(id(problem), None))
        chain.attach(report.add, public_key)
        return chain


def _check_chain(app: LedgerApp, chain: ChainChecker, after: int, through: int,
                 answer: Connection) -> None:
    """In the forked process: check the chain, send its problems and the checker back."""
    try:
        found: list[tuple[int, Problem]] = []
        at = after

        def note(problem: Problem) -> None:
            if len(found) < MAX_PROBLEMS:
                found.append((at, problem))

        chain.report = note
        check = chain.check
        with log_reader(app) as read:
            position = after
            while position < through:
                batch = read(position, BATCH)
                if not batch:
                    break
                for row in batch:
                    at = row[0]
                    if at > through:
                        break
                    check(row)
                position = batch[-1][0]
        answer.send(("done", found, chain.detached()))
    except BaseException as error:  # told to the parent, which raises it
        answer.send(("failed", repr(error)))
    finally:
        answer.close()


def _money_problem(row: Row, snapshot: LatestSnapshot, replay: Replay) -> str | None:
    """What an account's snapshot says of its balance and points held against the replay of
    its postings at the snapshot's version (None: they agree, or it is no account's)."""
    money = snapshot.money
    if money is None or row[2] != snapshot.version:
        return None
    account = replay.names.get(row[1]) or stream_text(row[1])
    running, held = replay.running.get(account, 0), replay.held.get(account, 0)
    if money == (running, held):
        return None
    return (f"the stream's snapshot at version {snapshot.version} says balance {money[0]}, "
            f"held {money[1]}; its events give {running}, {held}")


def _keep_scope(app: LedgerApp, report: Report, replay: Replay, scope: set[str],
                label: str) -> None:
    """Keep the problems a community's (or a district's) auditor may see, and count its
    accounts only."""

    def belongs(problem: Problem) -> bool:
        if id(problem) in report.about:
            return report.about[id(problem)] in scope
        if problem.stream_id is None:
            return True  # about the log as a whole
        owner = replay.communities.get(problem.stream_id)
        if owner is None:
            try:
                found = stream_community(app, UUID(problem.stream_id))
            except ValueError:
                return True
            owner = None if found is None else str(found)
        return owner is None or owner in scope

    report.scope = label
    report.problems = [p for p in report.problems if belongs(p)]
    report.accounts_checked = sum(1 for account in replay.assets
                                  if _community_of(replay, account) in scope)


def _community_of(replay: Replay, account: str) -> str | None:
    if account.startswith("community:"):
        return account.split(":")[1]
    return replay.communities.get(account)


def _text(value: Any) -> str:
    """A UUID as the library's JSON holds it (`{"_type_": "uuid", "_data_": …}`) or plain."""
    text = str(value.get("_data_") if isinstance(value, dict) else value)
    try:
        return str(UUID(text))  # the library's JSON may hold a UUID's hex without dashes
    except ValueError:
        return text


# The debits that may take a balance below zero: an auditor's adjustment, and a reversal of
# points already spent, which may leave a member owing (`allow_debt`).
MAY_OVERDRAW = frozenset({PostingKind.ADJUSTMENT.value, PostingKind.AWARD_REVERSAL.value,
                          PostingKind.AWARD_PART_REVERSAL.value})
HOLDS = frozenset({f"{ACCOUNT_TOPIC}.HoldPlaced", f"{ACCOUNT_TOPIC}.HoldReleased"})
REPLAYED = frozenset({OPENED, POSTED, *HOLDS})


def _key(value: Any) -> str:
    """A UUID's text as the library's JSON holds it (32 hex digits), whether read as JSON or
    decoded: a key, not a display."""
    if isinstance(value, dict):
        return str(value["_data_"])
    return value.hex if isinstance(value, UUID) else str(value)


def _replay(row: Row, report: Report, replay: Replay,
            decoded: dict[str, Any] | None = None) -> None:
    """Fold a posting, an opening or a hold into the replay (`decoded`: the event's fields,
    when the snapshot's rebuild decoded them already)."""
    position, stream, version, topic, state = row
    account = replay.names.get(stream)
    if account is None:
        account = replay.names[stream] = stream_text(stream)
    try:
        # The posting's plain fields straight from its JSON: the replay needs no domain
        # object (several times faster than the mapper on a million events).
        event = decoded if decoded is not None else orjson.loads(
            memoryview(state)[MAC_HEADER_BYTES:] if state[:4] == MAC_MAGIC else split(state)[1])
        if topic == OPENED:
            replay.assets[account] = event["asset"]
            if event.get("community_id") is not None:
                replay.communities[account] = _text(event["community_id"])
            return
        if topic in HOLDS:
            replay.held[account] = int(event["held_after"])
            return
        amount, balance_after = int(event["amount"]), int(event["balance_after"])
        kind, counter = str(event["kind"]), str(event["counter_account"])
        transaction_id = _key(event["transaction_id"])
    except Exception as error:
        report.add(Problem(f"cannot be read: {error!r}", position, account, version))
        return
    community = replay.communities.get(account)
    running = replay.running
    if replay.since_witness and account not in running:
        running[account] = balance_after - amount  # as the chain vouches for it
    running[account] += amount
    if running[account] != balance_after:
        report.add(Problem(f"account {account} says balance_after {balance_after}, "
                           f"the replay gives {running[account]}", position, account, version))
    if amount < 0 and running[account] < 0 and kind not in MAY_OVERDRAW:
        report.add(Problem(f"account {account}: a {kind} of {amount} takes the balance to "
                           f"{running[account]}, below zero", position, account, version))
    in_balances = position <= replay.balances_through
    if in_balances:
        replay.balances[account] += amount
    if position <= replay.passbook_through:
        replay.passbooks[account] += amount
    if counter.startswith("community:"):
        if in_balances:
            replay.balances[counter] -= amount
        replay.assets[counter] = counter.split(":")[2]
    else:
        replay.per_transaction[transaction_id] += amount
        if community is not None:
            replay.transaction_communities.setdefault(transaction_id, community)


def _read_views(engine: Engine) -> ViewsSnapshot:
    """Balances, passbook sums and the positions they hold, from one consistent snapshot."""
    options = ({"isolation_level": "REPEATABLE READ"}
               if engine.dialect.name == "postgresql" else {})
    with engine.connect().execution_options(**options) as conn, conn.begin():
        positions = dict(conn.execute(select(tracking.c.name, tracking.c.position)).all())
        stored = dict(conn.execute(select(balances.c.account_id, balances.c.balance)).all())
        passbook_sums = dict(conn.execute(
            select(passbook_lines.c.account_id, func.sum(passbook_lines.c.amount))
            .group_by(passbook_lines.c.account_id)).all())
    return ViewsSnapshot({k: int(v) for k, v in stored.items()},
                         {k: int(v or 0) for k, v in passbook_sums.items()},
                         int(positions.get("balances", 0)), int(positions.get("passbook", 0)))


def _compare_views(views: ViewsSnapshot, report: Report, replay: Replay) -> None:
    totals: dict[str, int] = defaultdict(int)
    for account, asset in replay.assets.items():
        report.accounts_checked += 1
        community = _community_of(replay, account)
        expected = replay.balances.get(account, 0)
        actual = views.balances.get(account, 0)
        totals[asset] += actual
        if actual != expected:
            report.add(f"account {account}: balance {actual}, the replay gives {expected}",
                       community)
        if not account.startswith("community:"):
            in_passbook = views.passbooks.get(account, 0)
            if in_passbook != replay.passbooks.get(account, 0):
                report.add(f"account {account}: passbook sums to {in_passbook}, "
                           f"the replay gives {replay.passbooks.get(account, 0)}", community)
    # Told a community's auditor only when about its own accounts ("": about no one community).
    for account in set(views.balances) - set(replay.assets):
        report.add(f"account {account} is in the balances view but not in the event store",
                   _community_of(replay, account) or "")
    for asset, total in totals.items():
        if total != 0:
            report.add(f"{asset}: balances sum to {total}, not 0", "")
