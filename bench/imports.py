"""Spreadsheet imports: rows a second and memory.

A community of 10,000 members and a rule with a monthly cap; an award file (CSV, Chinese
headers, one row a historical award by passbook number, dates over the past two years) is
imported:
- in process, through the writer's group commit, beside the projections in their process (as
  `linli serve` runs): rows a second for `--rows` rows (target on PostgreSQL: 10,000);
- with `--big-rows`, by `linli import` in its own process, the file one resident's history
  after another: its rows a second and its peak resident memory (target for 1,000,000 rows:
  under 300 MB: the file is streamed, never held).

    python -m bench.imports [--backend postgres|sqlite|both] [--rows 100000]
                            [--big-rows 1000000] [--members 10000]

With trees of the code (`NAME=PATH`, worktrees say: `git worktree add /tmp/before REV`), the
in-process import runs from each tree in a process of its own, taking turns (A B, B A, …), on
one database, each run into a community of its own prepared beforehand: each run's rows a
second, rows a CPU second of the importing process and its checking and lane processes,
PostgreSQL's CPU meanwhile and the load average; each tree's medians and their ratios to the first.

    python -m bench.imports NAME=PATH NAME=PATH … [--backend] [--rows] [--members] [--rounds 2]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.engine import make_url

from api.bootstrap import Linli
from bench.args import add_backend, add_members, add_rounds, add_trees, parser_for
from bench.common import (
    ADMIN,
    backends,
    machine,
    machine_busy_seconds,
    open_bench,
    populate,
    postgres_cpu_seconds,
    scratch_database,
)
from ledger.commands import registry
from ledger.imports.columns import Kind
from ledger.imports.run import run_import
from ledger.imports.source import open_source
from projections.tables import registry_members


def write_awards(path: Path, rows: int, passbooks: list[str], *, by_resident: bool = False
                 ) -> None:
    """An award file of `rows` rows dated over the past two years: a date's sheet after
    another, round the members (each row another member's account); or, `by_resident`, one
    resident's history after another (as a paper passbook is copied out)."""
    first = date.today() - timedelta(days=730)
    days = [(first + timedelta(days=d)).isoformat() for d in range(700)]
    each = -(-rows // len(passbooks))  # rows a resident, by_resident
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("存折号,规则,数量,日期,事由\n")
        for row in range(rows):
            if by_resident:
                member, day = row // each, (row % each) * len(days) // each
            else:
                member, day = row % len(passbooks), (row // len(passbooks)) % len(days)
            out.write(f"{passbooks[member]},VOLUNTEER,1,{days[day]},旧台账\n")


def prepare(linli: Linli, members: int) -> tuple[UUID, list[str]]:
    """The community, its rule, and its members' passbook numbers."""
    community, _merchant, _ = populate(linli, members=members, points_each=0)
    assert isinstance(community, UUID)
    linli.writer.execute(registry.put_rule(community, "VOLUNTEER", name="志愿服务", points=1,
                                           unit="each", daily_cap=None, monthly_cap=10_000,
                                           requires_approval=False, by=ADMIN))
    linli.read_your_writes()
    with linli.engine.connect() as conn:
        passbooks = list(conn.execute(select(registry_members.c.passbook_no).where(
            registry_members.c.community_id == str(community))).scalars())
    return community, passbooks


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the children it waited for (a large file's
    checking process, and the process of its second lane)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def in_process(linli: Linli, community: UUID, path: Path, database: str | None
               ) -> tuple[int, float, float, float]:
    """Rows imported, rows a second, rows a CPU second of this process (its threads
    together, and its checking and lane processes: what it would do with the cores of its
    own, on a shared machine), and the database's CPU seconds meanwhile (PostgreSQL: 0 on
    SQLite)."""
    started, cpu = time.perf_counter(), _cpu_seconds()
    pg = postgres_cpu_seconds(database) if database else 0.0
    answer = run_import(linli, open_source(path), Kind.AWARDS, community, dry_run=False,
                        by=ADMIN)
    assert answer.rejected == 0, answer.problems[:3]
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    pg = postgres_cpu_seconds(database) - pg if database else 0.0
    return answer.accepted, answer.accepted / seconds, answer.accepted / cpu, pg


def _pss_mb(pid: int) -> float:
    """The proportional set size of `pid` and its children (the checking process), in MB:
    pages they share counted once between them; 0 once gone."""
    total = 0.0
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return 0.0
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def by_command(url: str, community: UUID, path: Path, rows: int) -> tuple[float, float, float]:
    """Rows a second of `linli import` in its own process, its peak resident memory (MB: the
    largest of it and its checking process), and the peak of their PSS together, sampled."""
    env = {**os.environ, "LINLI_DATABASE_URL": url}
    env.pop("POSTGRES_ENABLE_DB_FUNCTIONS", None)
    linli = str(Path(sys.executable).parent / "linli")
    started = time.perf_counter()
    process = subprocess.Popen([linli, "import", str(path), "--kind", "awards", "--community",
                                str(community)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    peak_pss = 0.0
    while process.poll() is None:
        peak_pss = max(peak_pss, _pss_mb(process.pid))
        time.sleep(0.25)
    _out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"linli import failed: {err[-2000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return rows / seconds, peak_mb, peak_pss


# Run in a tree's own process: the in-process import of one file into one community, timed.
_RUN_IMPORT = """
import json, resource, sys, time
from pathlib import Path
from uuid import UUID
from bench.common import ADMIN, open_bench, postgres_cpu_seconds
from ledger.imports.columns import Kind
from ledger.imports.run import run_import
from ledger.imports.source import open_source
linli = open_bench(sys.argv[1], projection_worker="thread")
try:
    linli.projections.stop()  # as `linli import` runs: the views follow later
    def children():
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime
    database = sys.argv[4] or None  # its backends' CPU, read while they are there
    pg = postgres_cpu_seconds(database) if database else 0.0
    started, cpu, kids = time.perf_counter(), time.process_time(), children()
    answer = run_import(linli, open_source(Path(sys.argv[2])), Kind.AWARDS, UUID(sys.argv[3]),
                        dry_run=False, by=ADMIN)
    seconds, cpu, kids = time.perf_counter() - started, time.process_time() - cpu, children() - kids
    pg = postgres_cpu_seconds(database) - pg if database else 0.0
    print(json.dumps({"rows": answer.accepted, "rejected": answer.rejected, "seconds": seconds,
                      "cpu": cpu, "children": kids, "pg": pg}))
finally:
    linli.close()
"""


def compare(backend: str, trees: list[tuple[str, Path]], rows: int, members: int,
            rounds: int) -> None:
    """The in-process import from each tree in turn (see the module's docstring)."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    order = [t for round_ in range(rounds)
             for t in (trees if round_ % 2 == 0 else list(reversed(trees)))]
    with scratch_database(backend) as url, tempfile.TemporaryDirectory() as folder:
        database = make_url(url).database if backend == "postgres" else None
        files: list[tuple[Path, UUID]] = []
        linli = open_bench(url, projection_worker="thread")
        try:
            for index in range(len(order)):
                community, passbooks = prepare(linli, members)
                path = Path(folder) / f"awards-{index}.csv"
                write_awards(path, rows, passbooks)
                files.append((path, community))
        finally:
            linli.close()
        for index, (name, code) in enumerate(order):
            path, community = files[index]
            busy, wall = machine_busy_seconds(), time.perf_counter()
            done = subprocess.run([sys.executable, "-c", _RUN_IMPORT, url, str(path),
                                   str(community), database or ""],
                                  env={**os.environ, "PYTHONPATH": str(code)}, cwd=code,
                                  capture_output=True, text=True, check=True)
            load = (machine_busy_seconds() - busy) / (time.perf_counter() - wall)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            pg = run["pg"]
            assert run["rows"] == rows and run["rejected"] == 0, f"{name}: {run}"
            cpu = run["cpu"] + run["children"]
            runs[name].append({"per second": rows / run["seconds"], "per cpu": rows / cpu,
                               "own cpu": run["cpu"], "pg": pg})
            print(f"{backend} run {index + 1} {name}: {rows:,} rows in {run['seconds']:.2f} s "
                  f"({rows / run['seconds']:,.0f} rows/s), CPU {run['cpu']:.2f} s + "
                  f"{run['children']:.2f} s in its checking and lane processes "
                  f"({rows / cpu:,.0f} rows a CPU second)"
                  + (f", PostgreSQL {pg:.1f} CPU s" if database else "")
                  + f"; cores busy {load:.1f} of {os.cpu_count()}, load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    first = trees[0][0]
    base = {k: statistics.median(r[k] for r in runs[first]) for k in runs[first][0]}
    for name, _ in trees:
        medians = {k: statistics.median(r[k] for r in runs[name]) for k in runs[name][0]}
        print(f"{backend} {name}: median {medians['per second']:,.0f} rows/s "
              f"(×{medians['per second'] / base['per second']:.2f}), "
              f"{medians['per cpu']:,.0f} rows a CPU second of the importer and its checking and "
              f"lane processes (×{medians['per cpu'] / base['per cpu']:.2f}), "
              f"the importer's own CPU "
              f"{medians['own cpu']:.2f} s (×{medians['own cpu'] / base['own cpu']:.2f})"
              + (f", PostgreSQL {medians['pg']:.1f} CPU s" if backend == "postgres" else ""),
              flush=True)


def main() -> None:
    parser = parser_for(__doc__, raw=True)
    add_trees(parser, "*")
    add_backend(parser, "both", both=True)
    add_members(parser, 10_000)
    add_rounds(parser, 2)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=0,
                        help="also import this many rows by `linli import` (e.g. 1000000)")
    args = parser.parse_args()
    print(machine())
    if args.trees:
        for backend in backends(args.backend):
            compare(backend, args.trees, args.rows, args.members, args.rounds)
        return
    for backend in backends(args.backend):
        with scratch_database(backend) as url, tempfile.TemporaryDirectory() as folder:
            linli = open_bench(url, projection_worker="thread")
            try:
                community, passbooks = prepare(linli, args.members)
                linli.projections.stop()  # as `linli import` runs: the views follow later
                if args.rows:  # 0: the big file only
                    database = make_url(url).database if backend == "postgres" else None
                    path = Path(folder) / "awards.csv"
                    write_awards(path, args.rows, passbooks)
                    busy = machine_busy_seconds()
                    wall = time.perf_counter()
                    rows, rate, per_cpu, pg = in_process(linli, community, path, database)
                    load = (machine_busy_seconds() - busy) / (time.perf_counter() - wall)
                    print(f"{backend}: {rows:,} award rows in process: {rate:,.0f} rows/s; "
                          f"{per_cpu:,.0f} rows a CPU second of the importer"
                          + (f", PostgreSQL {pg:.1f} CPU s" if database else "")
                          + f"; the machine's cores busy {load:.1f} of {os.cpu_count()} "
                          f"({datetime.now(UTC):%H:%M}Z)", flush=True)
            finally:
                linli.close()
            if args.big_rows:
                big = Path(folder) / "big.csv"
                write_awards(big, args.big_rows, passbooks, by_resident=True)
                rate, peak, pss = by_command(url, community, big, args.big_rows)
                print(f"{backend}: {args.big_rows:,} award rows by `linli import`: "
                      f"{rate:,.0f} rows/s, peak memory {peak:,.0f} MB resident, "
                      f"{pss:,.0f} MB proportional with its checking process "
                      f"({datetime.now(UTC):%H:%M}Z, load average "
                      f"{os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
