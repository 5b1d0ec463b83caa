"""The snapshot interval: what a cold load costs by the events after the latest snapshot, and
what taking snapshots costs the writer.

- Loading: accounts with k redemptions after their latest snapshot are loaded as the writer
  loads what it has not cached (`load_aggregates`, 20 at a time); CPU of this process and wall
  time per account, the least of several rounds. A straight line through them gives the cost
  of each event replayed, and so the mean cold load at each interval (k runs from 0 to N-1).
- Writing: redemptions by `--members` members (each account crosses the interval often),
  rounds taking turns between the intervals in one process: commands per second, this
  process's CPU per command, snapshots written per 1,000 commands.

    python -m bench.snapshots [--backend postgres|sqlite] [--intervals 20,200]
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from sqlalchemy import text

from api.bootstrap import Linli
from bench.args import add_backend, add_commands, add_members, add_rounds, parser_for
from bench.common import machine, open_bench, populate, scratch_database
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import points
from ledger.domain.assets import Asset
from ledger.store import load_aggregates

DEPTHS = (0, 10, 20, 50, 100, 199)
PER_DEPTH = 100
LOAD_GROUP = 20  # as the prefetcher loads them


def _redeem_each(linli: Linli, merchant: Any, members: list[Any], times: int) -> None:
    till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
    for _ in range(times):
        futures = [linli.writer.submit(points.redeem(merchant, m, 1, "bench", till,
                                                     now=linli.clock())) for m in members]
        for future in futures:
            future.result(timeout=300)


def loading(backend: str, rounds: int) -> dict[int, tuple[float, float]]:
    """Per depth: (CPU µs, wall µs) to load one account that many events past its snapshot."""
    with scratch_database(backend) as url:
        linli = open_bench(url, snapshot_interval_events=1_000_000)  # only those taken here
        try:
            _, merchant, members = populate(linli, members=PER_DEPTH * len(DEPTHS),
                                            points_each=1_000)
            groups = [members[i * PER_DEPTH:(i + 1) * PER_DEPTH] for i in range(len(DEPTHS))]
            accounts = [[ids.account_id(m, Asset.POINTS.value) for m in g] for g in groups]
            for group in accounts:
                for account in group:
                    linli.app.take_snapshot(account)
            for depth, group in zip(DEPTHS, groups, strict=True):
                _redeem_each(linli, merchant, group, depth)
            linli.projections.stop()  # the loads alone
            costs: dict[int, tuple[float, float]] = {}
            for depth, group in zip(DEPTHS, accounts, strict=True):
                best = (float("inf"), float("inf"))
                for _ in range(rounds):
                    cpu, wall = time.process_time(), time.perf_counter()
                    for start in range(0, len(group), LOAD_GROUP):
                        loaded = load_aggregates(linli.app, group[start:start + LOAD_GROUP])
                        assert len(loaded) == len(group[start:start + LOAD_GROUP])
                    best = min(best, ((time.process_time() - cpu) / len(group) * 1e6,
                                      (time.perf_counter() - wall) / len(group) * 1e6))
                costs[depth] = best
            return costs
        finally:
            linli.close()


def writing(backend: str, intervals: list[int], members: int, commands: int,
            rounds: int) -> dict[int, list[tuple[float, float, float]]]:
    """Per interval, per round: (commands/s, CPU µs a command, snapshots per 1,000)."""
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            _, shop, member_ids = populate(linli, members=members, points_each=100_000)
            merchant: Any = shop
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
            assert linli.app.snapshots is not None
            snapshots_table = linli.app.snapshots.recorder.events_table_name  # type: ignore[attr-defined]
            results: dict[int, list[tuple[float, float, float]]] = {n: [] for n in intervals}
            for turn in range(rounds):
                for interval in (intervals if turn % 2 == 0 else intervals[::-1]):
                    linli.writer.snapshot_interval_events = interval
                    before = _rows(linli, snapshots_table)
                    cpu, wall = time.process_time(), time.perf_counter()
                    futures = [linli.writer.submit(points.redeem(
                        merchant, member_ids[i % members], 1, "bench", till,
                        now=linli.clock())) for i in range(commands)]
                    for future in futures:
                        future.result(timeout=300)
                    linli.writer.execute(lambda uow: None)  # its snapshots written
                    elapsed = time.perf_counter() - wall
                    results[interval].append((
                        commands / elapsed, (time.process_time() - cpu) / commands * 1e6,
                        (_rows(linli, snapshots_table) - before) / commands * 1_000))
            return results
        finally:
            linli.close()


def _rows(linli: Linli, table: str) -> int:
    with linli.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    parser.add_argument("--intervals", default="20,200")
    add_members(parser, 200)
    add_commands(parser, 10_000)
    add_rounds(parser, 4)
    args = parser.parse_args()
    intervals = [int(n) for n in args.intervals.split(",")]
    print(f"# snapshots on {machine()}")
    costs = loading(args.backend, rounds=5)
    for depth, (cpu, wall) in costs.items():
        print(f"{args.backend} load, {depth:3d} events after the snapshot: "
              f"{cpu:6,.0f} µs CPU, {wall:6,.0f} µs wall an account")
    slope, base = statistics.linear_regression(list(costs), [c for c, _ in costs.values()])
    print(f"{args.backend} load: {base:,.0f} µs CPU + {slope:.1f} µs an event replayed")
    for n in intervals:
        print(f"{args.backend} interval {n}: a cold load costs {base + slope * (n - 1) / 2:,.0f}"
              f" µs CPU on average, {base + slope * (n - 1):,.0f} at most")
    results = writing(args.backend, intervals, args.members, args.commands, args.rounds)
    for n, runs in results.items():
        rate, cpu, snaps = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{args.backend} interval {n}, {args.members} members redeeming: {rate:,.0f} "
              f"commands/s, {cpu:.0f} µs CPU a command, {snaps:.0f} snapshots a 1,000 "
              f"(medians of {len(runs)} rounds)")


if __name__ == "__main__":
    main()
