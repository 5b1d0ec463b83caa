"""`linli verify` on a large store: events checked per second, and the chain's cost per write.

Fills a scratch database through the writer (redemptions: each stores a redemption and two
postings), seals the log, catches the projections up, then times `verify` (every hash, MAC,
link, checkpoint and its signature, every snapshot, and the replay against the views). Then it
witnesses the latest seal, writes a tenth as many events again, seals, and times `verify
--since-witness` (which reads only those).

    python -m bench.verify [--backend postgres|sqlite|both] [--events 1000000]

With trees of the code (`NAME=PATH`, worktrees say: `git worktree add /tmp/before REV`), it
fills one database, then runs `verify` from each tree in a process of its own, taking turns
for `--rounds` rounds, each reversing the order of the one before (A B, then B A): each run's
wall time, the CPU of the verifying process and of any process it started, the load average;
then each tree's medians and their ratios to the first tree's.

    python -m bench.verify before=/tmp/before now=. --backend postgres --events 200000
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.args import add_backend, add_rounds, add_trees, parser_for
from bench.common import backends, machine, open_bench, populate, scratch_database
from ledger.actor import Actor, Role
from ledger.chain import Hmac, seal
from ledger.commands import points
from ledger.domain.audit import AUDIT_LOG_ID
from projections.chain_check import Witnessed
from projections.verify import Trust, verify

CHUNK = 20_000


def hash_cost_microseconds(samples: int = 100_000, mac: bool = False) -> float:
    """What sealing one typical stored event costs (SHA-256 of ~600 bytes and the header; and
    its MAC)."""
    from eventsourcing.persistence import StoredEvent

    event = StoredEvent(uuid4(), 7, "ledger.domain.accounts:Account.Posted", b"x" * 600)
    key = Hmac(bytes(32)) if mac else None
    started = time.perf_counter()
    for _ in range(samples):
        seal(event, bytes(32), key)
    return (time.perf_counter() - started) / samples * 1e6


def _children() -> float:
    """CPU seconds of this process's children that have ended (the chain's process)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def fill(linli: Any, merchant: Any, members: list[Any], events: int, start: int = 0) -> int:
    """Redemptions through the writer until the log holds `events`; the next member index."""
    till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
    i = start
    while (stored := linli.app.recorder.max_notification_id() or 0) < events:
        chunk = min(CHUNK, (events - stored) // 3 + 1)  # three events a redemption
        futures: list[Future[Any]] = [
            linli.writer.submit(points.redeem(
                merchant, members[(i + k) % len(members)], 1, "bench",
                till, now=linli.clock()))
            for k in range(chunk)]
        for future in futures:
            future.result(timeout=600)
        i += chunk
    return i


def run(backend: str, events: int) -> dict[str, float]:
    with scratch_database(backend) as url:
        linli = open_bench(url, seal_interval_seconds=0, sweep_interval_seconds=0)
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=1_000)
            started = time.perf_counter()
            next_member = fill(linli, merchant, members, events)
            stored = linli.app.recorder.max_notification_id() or 0
            writes = stored / (time.perf_counter() - started)
            assert linli.sealer is not None
            while linli.sealer.seal() is not None:  # a checkpoint covers 100,000 at most
                pass
            linli.projections.wait_for(stored, timeout=600)
            started, cpu, chain_cpu = time.perf_counter(), time.process_time(), _children()
            report = verify(linli.app, linli.engine, chain_apart=True)  # as `linli verify`
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            chain_cpu = _children() - chain_cpu  # the chain's process, if it had one
            assert report.ok, report.problems[:3]
            audit_log: Any = linli.app.repository.get(AUDIT_LOG_ID)
            witnessed = Witnessed(audit_log.through_position, audit_log.log_hash,
                                  audit_log.signature)
            fill(linli, merchant, members, stored + events // 10, next_member)
            while linli.sealer.seal() is not None:
                pass
            trust = Trust.of(linli.app)
            trust = Trust(trust.mac_key, trust.public_key, (witnessed,), since_witness=True)
            started = time.perf_counter()
            since = verify(linli.app, linli.engine, trust=trust, chain_apart=True)
            since_elapsed = time.perf_counter() - started
            assert since.ok, since.problems[:3]
            return {"events": report.events_checked, "verify seconds": elapsed,
                    "verify events/s": report.events_checked / elapsed,
                    "verify events a CPU second (this process)": report.events_checked / cpu,
                    "verify events a CPU second (this process and the chain's)":
                        report.events_checked / (cpu + chain_cpu),
                    "events written/s while filling": writes,
                    "--since-witness events": since.events_checked,
                    "--since-witness seconds": since_elapsed,
                    "--since-witness events/s": since.events_checked / since_elapsed}
        finally:
            linli.close()


# Run in a tree's own process: its `verify` on the database, timed.
_RUN_VERIFY = """
import json, resource, sys, time
from inspect import signature
from api.bootstrap import open_linli
from ledger.settings import Settings
from projections.verify import verify
linli = open_linli(Settings(database_url=sys.argv[1], projection_worker="thread"))
try:
    def children():
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime
    started, cpu, kids = time.perf_counter(), time.process_time(), children()
    # As `linli verify` runs it (a tree from before `chain_apart` has one process only).
    apart = {"chain_apart": True} if "chain_apart" in signature(verify).parameters else {}
    report = verify(linli.app, linli.engine, **apart)
    print(json.dumps({"events": report.events_checked, "ok": report.ok,
                      "seconds": time.perf_counter() - started,
                      "cpu": time.process_time() - cpu, "children": children() - kids}))
finally:
    linli.close()
"""


def compare(backend: str, events: int, trees: list[tuple[str, Path]], rounds: int) -> None:
    """`verify` from each tree on one database, taking turns (A B, B A, …)."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    with scratch_database(backend) as url:
        linli = open_bench(url, seal_interval_seconds=0, sweep_interval_seconds=0)
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=1_000)
            fill(linli, merchant, members, events)
            stored = linli.app.recorder.max_notification_id() or 0
            assert linli.sealer is not None
            while linli.sealer.seal() is not None:
                pass
            linli.projections.wait_for(stored, timeout=600)
        finally:
            linli.close()
        for round_ in range(rounds):
            for name, code in trees if round_ % 2 == 0 else list(reversed(trees)):
                done = subprocess.run([sys.executable, "-c", _RUN_VERIFY, url],
                                      env={**os.environ, "PYTHONPATH": str(code)}, cwd=code,
                                      capture_output=True, text=True, check=True)
                run = json.loads(done.stdout.strip().splitlines()[-1])
                assert run["ok"], f"{name}: verify found problems"
                cpu = run["cpu"] + run["children"]
                runs[name].append({"seconds": run["seconds"], "cpu": cpu, "own cpu": run["cpu"],
                                   "per second": run["events"] / run["seconds"],
                                   "per cpu": run["events"] / cpu})
                print(f"round {round_ + 1} {name}: {run['events']:,} events in "
                      f"{run['seconds']:.2f} s ({run['events'] / run['seconds']:,.0f} a second), "
                      f"CPU {run['cpu']:.2f} s + {run['children']:.2f} s in processes it "
                      f"started ({run['events'] / cpu:,.0f} events a CPU second), load average "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
    first = trees[0][0]
    for name, _ in trees:
        medians = {k: statistics.median(r[k] for r in runs[name]) for k in runs[name][0]}
        base = {k: statistics.median(r[k] for r in runs[first]) for k in runs[first][0]}
        print(f"{backend} {name}: median {medians['seconds']:.2f} s "
              f"(×{medians['seconds'] / base['seconds']:.2f}), "
              f"{medians['per second']:,.0f} events a second, CPU {medians['cpu']:.2f} s "
              f"(×{medians['cpu'] / base['cpu']:.2f}), {medians['per cpu']:,.0f} events a CPU "
              f"second; the verifying process's own CPU {medians['own cpu']:.2f} s "
              f"(×{medians['own cpu'] / base['own cpu']:.2f})")


def main() -> None:
    parser = parser_for(__doc__, raw=True)
    add_trees(parser, "*")
    add_backend(parser, "both", both=True)
    add_rounds(parser, 4)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"# verify on {machine()}")
    if args.trees:
        for backend in backends(args.backend):
            compare(backend, args.events, args.trees, args.rounds)
        return
    print(f"chain: {hash_cost_microseconds():.2f} µs to seal one event, "
          f"{hash_cost_microseconds(mac=True):.2f} µs with its MAC")
    for backend in backends(args.backend):
        figures = run(backend, args.events)
        print(f"{backend}: " + ", ".join(f"{k} {v:,.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
