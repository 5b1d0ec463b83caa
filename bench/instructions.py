"""Instructions a redemption in the writer, counted by valgrind: a figure the machine's other
load does not move (throughput and CPU time here moved by a third between runs minutes apart),
for a change's effect beside the code before it.

Runs one workload under callgrind twice: a community of 100 members, 300 redemptions through
the writer in process to warm it (the projections stopped), then `--commands` more, and then
again with three times as many. The difference over twice `--commands` is the instructions a
command, start-up and population cancelled out; beside it, the commands a transaction (a
change to the grouping shows there). Every thread of the process counts (the submitting one
is about a tenth). valgrind emulates the CPU without its SHA extensions, so the chain's
SHA-256 counts for more than it costs. With `--keyed` each redemption carries an idempotency
key, as a till's request through HTTP does (its record saved with the redemption); with
`--http` keyed redemptions go one at a time through the HTTP app in process (a commit each). Several
trees of the code (worktrees: `git worktree add /tmp/before REV`) take turns, each with its
ratio to the first.

    python -m bench.instructions [NAME=PATH ...] [--commands 500] [--backend postgres]
                                 [--keyed | --http]

Needs valgrind (`apt-get install valgrind`); about two minutes a tree. Figures compare at the same
`--commands` only (a group's own costs are shared by fewer commands in a shorter run).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from bench.args import add_backend, add_commands, add_trees, parser_for
from bench.common import machine

WARM_COMMANDS = 300
# This file run with the tree's code first on the path (as a script, its own folder would be).
RUN_HERE = ("import runpy, sys; sys.argv[:] = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")


def workload(backend: str, commands: int, keyed: bool) -> None:
    """The measured process (`RUN_HERE`): prints the groups the writer committed."""
    from bench.common import open_bench, populate, scratch_database
    from ledger.actor import Actor, Role
    from ledger.commands import points

    try:
        from ledger.write.keyed import Idempotency, StoredResponse
    except ImportError:  # a tree whose writer is the one module `ledger/writer.py`
        from ledger.writer import (  # type: ignore[import-not-found,no-redef]
            Idempotency,
            StoredResponse,
        )

    def key() -> Any:
        return (Idempotency("bench:till", uuid.uuid4().hex, "bench",
                            lambda result: StoredResponse(201, str(result)))
                if keyed else None)

    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            _, merchant, members = populate(linli, members=100, points_each=10_000)
            linli.projections.stop()
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)  # type: ignore[arg-type]
            writer = linli.writer
            for count in (WARM_COMMANDS, commands):
                groups = writer.batches_committed
                futures = [writer.submit(points.redeem(
                    merchant, members[i % len(members)], 1, "bench", till,  # type: ignore[arg-type]
                    now=linli.clock()), key()) for i in range(count)]
                for future in futures:
                    future.result(timeout=3_600)
            print(f"groups {writer.batches_committed - groups}", flush=True)
        finally:
            linli.close()


def http_workload(backend: str, commands: int) -> None:
    """The measured process with `--http`: keyed redemptions one after another through the ASGI
    app in process (the till's fast path, its key, the writer, one commit each), the periodic
    jobs off so that the count does not grow with the run's length."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from bench.common import open_bench, populate, scratch_database

    with scratch_database(backend) as url:
        linli = open_bench(url, admin_token="bench-admin", rate_limit_per_second=1e9,
                           rate_limit_burst=10**9, sweep_interval_seconds=0,
                           seal_interval_seconds=0, api_key_cache_seconds=1e6)
        _, merchant, members = populate(linli, members=100, points_each=10_000)
        linli.projections.stop()
        with TestClient(create_app(linli=linli)) as client:
            token = client.post("/v1/api-keys", headers={"Authorization": "Bearer bench-admin"},
                                json={"role": "merchant", "merchant_id": str(merchant)}
                                ).json()["token"]
            for count in (WARM_COMMANDS, commands):
                groups = linli.writer.batches_committed
                for i in range(count):
                    answer = client.post("/v1/redemptions", json={
                        "member_id": str(members[i % len(members)]), "points": 1,
                        "description": "bench"}, headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": uuid.uuid4().hex})
                    assert answer.status_code == 201, answer.text
            print(f"groups {linli.writer.batches_committed - groups}", flush=True)


def count(tree: Path, backend: str, commands: int, keyed: bool,
          http: bool = False) -> tuple[int, int]:
    """(instructions, groups) of the workload of `commands` from `tree`, under callgrind."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-c", RUN_HERE, Path(__file__).resolve(), "--workload", str(commands),
         "--backend", backend, *(["--keyed"] if keyed else []), *(["--http"] if http else [])],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
        check=False)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    groups = re.search(r"^groups (\d+)$", run.stdout, re.MULTILINE)
    if run.returncode != 0 or collected is None or groups is None:
        raise RuntimeError(f"the workload failed in {tree}:\n{run.stdout}\n{run.stderr[-3000:]}")
    return int(collected.group(1)), int(groups.group(1))


def main() -> None:
    parser = parser_for(__doc__, raw=True)
    add_trees(parser, "*")
    add_backend(parser, "postgres")
    add_commands(parser, 500)
    parser.add_argument("--keyed", action="store_true",
                        help="each redemption with an idempotency key, as through HTTP")
    parser.add_argument("--http", action="store_true",
                        help="keyed redemptions one at a time through the HTTP app in process")
    parser.add_argument("--workload", type=int, help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args()
    if args.workload is not None:
        if args.http:
            http_workload(args.backend, args.workload)
        else:
            workload(args.backend, args.workload, args.keyed)
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench.instructions needs valgrind: apt-get install valgrind")
    trees = args.trees or [("this tree", Path.cwd())]
    print(f"# instructions on {machine()}")
    first: float | None = None
    for name, tree in trees:
        small, _ = count(tree, args.backend, args.commands, args.keyed, args.http)
        large, groups = count(tree, args.backend, 3 * args.commands, args.keyed, args.http)
        each = (large - small) / (2 * args.commands)
        first = first or each
        way = " keyed" if args.keyed else ""
        through = " through HTTP" if args.http else ""
        print(f"{args.backend} {name}: {each:,.0f} instructions a{way} redemption{through} "
              f"(×{each / first:.3f}), {3 * args.commands / groups:.0f} commands a transaction",
              flush=True)


if __name__ == "__main__":
    main()
