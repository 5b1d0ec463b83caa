"""HTTP redemptions on the Patroni cluster (scripts/ha-up): with the synchronous standby (each
commit waits for it) against without it (`synchronous_commit = local`: the primary alone),
loads taking turns A B B A on one cluster, each through a fresh `linli serve` on the multi-host
URL; then the primary killed -9 under a load of keyed writes: acknowledged writes lost, and the
seconds from the kill to the first write answered 201.

    python -m bench.ha --members 2000 --seconds 10 --rounds 2 --kills 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import machine
from bench.http import Till, linli_serve, prepare, run_wrk
from harness.failover import writes_through_failures
from harness.patroni import Cluster
from harness.served import Served, run_cli

MODES = {"synchronous standby": "on", "primary alone": "local"}


def set_commit_mode(url: str, mode: str) -> None:
    """Every new session of the database waits for the synchronous standby ("on") or not."""
    with psycopg.connect(url, autocommit=True) as conn:
        database = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = {mode}')


def throughput(url: str, till: Till, seconds: float, connections: int,
               rounds: int) -> dict[str, list]:
    """`rounds` of A B B A loads, each through a fresh server: requests a second and p99 ms
    by mode."""
    figures: dict[str, list] = {name: [] for name in MODES}
    for name in [*MODES, *reversed(MODES)] * rounds:
        set_commit_mode(url, MODES[name])
        with linli_serve(url) as (server, base):
            load = run_wrk(till, base, server.pid, seconds=seconds, connections=connections)
        figures[name].append((load.requests_per_second, load.p99_ms))
        print(f"  {name}: {load.requests_per_second:,.0f}/s, p50 {load.p50_ms:.1f} ms, "
              f"p99 {load.p99_ms:.1f} ms")
    set_commit_mode(url, "on")
    return figures


def failovers(cluster: Cluster, url: str, kills: int, folder: Path) -> None:
    """Keyed writes through a served Linli while the primary is killed `kills` times."""
    old: list[str] = []

    def recover() -> None:
        cluster.wait_for_new_leader(old[-1], timeout=60)
        cluster.wait_until_healthy(timeout=120)

    with Served(url, folder / "serve.log") as served:
        figures = writes_through_failures(
            served, lambda: old.append(cluster.kill_primary_postmaster()), recover,
            failures=kills, writes=300 * (kills + 1), clients=8, seed=5)
    lost = [p for p in figures.problems if "not in the log" in p]
    print(f"  {figures.line('failover')}")
    print(f"  acknowledged writes lost: {lost or 0}; problems: {figures.problems or 'none'}")
    verified = run_cli(url, "verify")
    print(f"  linli verify on the promoted primary: exit {verified.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of A B B A loads")
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-ha-"))
    os.environ.setdefault("LINLI_SIGNING_KEY_FILE", str(folder / "signing.pem"))
    cluster = Cluster()
    try:
        url = cluster.up()
        print(f"cluster: {url}")
        if run_cli(url, "keys", "init").returncode != 0:
            raise SystemExit("linli keys init failed")
        till = prepare(url, args.members)
        print(f"HTTP redemptions, {args.members} members, {args.connections} connections, "
              f"{args.seconds:g} s a load, A B B A:")
        figures = throughput(url, till, args.seconds, args.connections, args.rounds)
        sync = statistics.median(r for r, _ in figures["synchronous standby"])
        alone = statistics.median(r for r, _ in figures["primary alone"])
        print(f"  median: synchronous standby {sync:,.0f}/s, primary alone {alone:,.0f}/s "
              f"(x{sync / alone:.2f})")
        if args.kills:
            print(f"kill -9 of the primary's postmaster, {args.kills} times, under keyed writes:")
            started = time.monotonic()
            failovers(cluster, url, args.kills, folder)
            print(f"  ({time.monotonic() - started:.0f} s)")
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
