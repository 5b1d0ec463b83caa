"""A district's reads (街道): its dashboard and its boards across communities, p50 and p99
through the HTTP app.

    python -m bench.district [--backend postgres|sqlite] [--communities 50]
                             [--members 300000] [--reads 200] [--sizes 20000,100000]
                             [--follow]

One district of `--communities` communities sharing `--members` members, built as a district
taking up Linli would: each community's residents imported from its residents' file (households
of one to four) and their history from an award file (one award of 1–200 points each, dated
over the last 80 days), both through the import (`ledger.imports`, chunks of rows posted
through the writer); then, through the writer's commands (200 to a unit of work, what they
read fetched ahead), a third banking 30–240 minutes, one in thirty of those withdrawing 10 at
another community's counter (通兑), one in ten redeeming some of its points at its community's
shop. The projections stop while the log is written and the views are rebuilt from it after
(the registry first, for the award files' check), as after `linli import` and `linli
rebuild`: the same rows as views that followed the writes; `--follow` builds
with the projections following the writes, as a server does.

Each read is sent `--reads` times after the projections have caught up, through FastAPI's
TestClient (auth, read-your-writes check, the queries, the JSON), so what it measures excludes
only the network: first each computing its answer (as the first read after the views moved
does), then as reads between two changes of the views are answered (from the answer kept for
that position). With `--sizes`, the same reads are measured at each of those sizes too, as
the one world grows to `--members`: how the reads' times move with the members. The target:
p99 ≤ 100 ms for the dashboard and the boards.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from api.app import create_app
from bench.args import add_backend, add_members, add_seed, parser_for
from bench.common import (
    ADMIN,
    cpu_seconds,
    machine,
    open_bench,
    postgres_cpu_seconds,
    scratch_database,
    summary_ms,
    vacuum,
)
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import districts, points, registry, timebank
from ledger.domain.assets import Asset
from ledger.imports.columns import Kind
from ledger.imports.run import run_import
from ledger.imports.source import open_source
from ledger.write.unit_of_work import Reading, UnitOfWork
from projections.districts import ANSWERS
from projections.registry_view import RegistryView
from projections.runner import ProjectionRunner
from projections.tables import registry_members

ADMIN_TOKEN = "bench-admin"
SURNAMES, GIVEN = "王李张刘陈杨赵黄周吴", "秀英建国桂兰志强丽娜明华"


class World:
    """The district and its communities, grown a step at a time: members imported with their
    households (a community's file of residents, as `linli import` reads it), one historical
    award each imported (dated over the last `AWARD_DAYS` days), then, through the writer's
    commands, a third banking minutes, one in thirty withdrawing at another community's
    counter (通兑) and one in ten redeeming points at its community's shop."""

    def __init__(self, linli: Any, communities: int, seed: int, folder: Path, *,
                 follow: bool = False) -> None:
        self.linli, self.writer, self.folder = linli, linli.writer, folder
        # Unless `follow`, the views are rebuilt from the log after each step (the registry
        # in the middle, for the award files' check), their process stopped meanwhile.
        self.rebuilder = None if follow else ProjectionRunner.configured(
            linli.app, linli.engine, linli.settings)
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC)
        self.members = 0
        self.phases: dict[str, float] = {}  # the last step's, seconds each
        self.known: dict[UUID, set[str]] = {}  # a community's members so far
        run = self.writer.execute
        self.district: UUID = run(districts.register_district("bench 街道", ADMIN)).id
        self.community_ids: list[UUID] = []
        self.merchants: dict[UUID, UUID] = {}
        for n in range(communities):
            community = run(registry.register_community(f"bench 第{n + 1}社区", ADMIN)).id
            run(districts.add_community(self.district, community, ADMIN))
            run(registry.put_rule(community, "GIFT", name="志愿服务", points=1, unit="each",
                                  daily_cap=None, monthly_cap=None, requires_approval=False,
                                  by=ADMIN))
            self.merchants[community] = run(registry.register_merchant(
                community, f"bench 第{n + 1}社区便民超市", ADMIN)).id
            self.community_ids.append(community)
            self.known[community] = set()

    def grow(self, members: int) -> None:
        """Up to `members` members, spread evenly over the communities."""
        rng, communities = self.rng, self.community_ids
        started = time.perf_counter()
        if self.rebuilder is not None:
            _caught_up(self.linli)
            self.linli.projections.stop()
        homes: dict[UUID, list[int]] = {c: [] for c in communities}
        for n in range(self.members, members):
            homes[communities[n % len(communities)]].append(n)
        for community, numbers in homes.items():
            if numbers:
                self._import(community, Kind.MEMBERS, "姓名,户", _residents(rng, numbers))
        self._done("members imported", started)
        # The award files name the new members by passbook number: the registry holds them.
        if self.rebuilder is not None:
            self.rebuilder.rebuild([RegistryView.name])
        else:
            _caught_up(self.linli)
        new = self._new_members()
        self._done("registry " + ("rebuilt" if self.rebuilder else "caught up"), started)
        quantities: dict[UUID, int] = {}
        first_day = self.now.date() - timedelta(days=AWARD_DAYS)
        for community, found in new.items():
            rows = []
            for member_id, passbook_no in found:
                quantities[member_id] = quantity = rng.randint(1, 200)
                day = first_day + timedelta(days=rng.randrange(AWARD_DAYS))
                rows.append(f"{passbook_no},GIFT,{quantity},{day.isoformat()},旧台账")
            self._import(community, Kind.AWARDS, "存折号,规则,数量,日期,事由", rows)
        self._done("awards imported", started)
        self._history(new, quantities)
        self._done("time bank and shops", started)
        if self.rebuilder is not None:
            self.rebuilder.rebuild()
            self.linli.projections.start()  # following the log from where the views are
            self._done("views rebuilt", started)
        self.members = members

    def _done(self, phase: str, started: float) -> None:
        """Notes (and tells) when `phase` of the step begun at `started` ended."""
        self.phases[phase] = time.perf_counter() - started
        print(f"  {phase} after {self.phases[phase]:.0f} s (load average "
              f"{os.getloadavg()[0]:.1f})", flush=True)

    def _import(self, community: UUID, kind: Kind, header: str, rows: list[str]) -> None:
        path = self.folder / f"{kind.value}-{community}-{self.members}.csv"
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        answer = run_import(self.linli, open_source(path), kind, community, dry_run=False,
                            by=ADMIN)
        assert answer.rejected == 0 and answer.accepted == len(rows), answer.problems[:3]
        path.unlink()

    def _new_members(self) -> dict[UUID, list[tuple[UUID, str]]]:
        """Each community's members not seen before, with their passbook numbers."""
        m = registry_members.c
        new: dict[UUID, list[tuple[UUID, str]]] = {}
        with self.linli.engine.connect() as conn:
            for community in self.community_ids:
                known = self.known[community]
                rows = conn.execute(select(m.member_id, m.passbook_no)
                                    .where(m.community_id == str(community))
                                    .order_by(m.passbook_no)).all()
                new[community] = [(UUID(r.member_id), r.passbook_no) for r in rows
                                  if r.member_id not in known]
                known.update(r.member_id for r in rows)
        return new

    def _history(self, new: dict[UUID, list[tuple[UUID, str]]],
                 quantities: dict[UUID, int]) -> None:
        """Deposits, withdrawals across communities and redemptions of the new members."""
        rng, now, communities = self.rng, self.now, self.community_ids
        commands: list[Callable[[UnitOfWork], Any]] = []
        withdrawals: list[Callable[[UnitOfWork], Any]] = []
        for community, found in new.items():
            merchant = self.merchants[community]
            for n, (member_id, _passbook) in enumerate(found):
                if n % 3 == 0:
                    commands.append(_reading(timebank.deposit(
                        member_id, None, rng.randint(30, 240), "助餐",
                        now - timedelta(days=rng.uniform(0, AWARD_DAYS)), None, ADMIN, now),
                        member_id))
                    if n % 30 == 0:  # of those who banked minutes
                        serving = rng.choice([c for c in communities if c != community]
                                             or communities)
                        withdrawals.append(_reading(timebank.withdraw(
                            member_id, 10, "助洁", None, None,
                            Actor("bench-counter", Role.STAFF, community_id=serving), now),
                            member_id))
                if n % 10 == 1:
                    commands.append(points.redeem(
                        merchant, member_id, rng.randint(1, quantities[member_id]), "兑换",
                        ADMIN, now))  # as staff redeem at the shop's counter
        _run_grouped(self.writer, commands)
        _run_grouped(self.writer, withdrawals)


AWARD_DAYS = 80


def _residents(rng: random.Random, numbers: list[int]) -> list[str]:
    """A residents' file's rows for the members `numbers`: households of one to four (their
    address from the first member's number), the names drawn at random (unique within a
    household)."""
    rows: list[str] = []
    n = 0
    while n < len(numbers):
        size = min(rng.randint(1, 4), len(numbers) - n)
        first = numbers[n]
        address = f"幸福路{first // 1000 + 1}号{first % 1000 // 10 + 1}栋{first % 10 + 1}0{size}室"
        names: set[str] = set()
        while len(names) < size:
            names.add(rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)))
        rows += [f"{name},{address}" for name in sorted(names)]
        n += size
    return rows


def _cpu_seconds() -> tuple[float, float, float]:
    """CPU seconds so far of this process, of its projection process and of PostgreSQL's
    server (its every process: on a shared machine, others' work too; 0 on SQLite)."""
    own, projections = cpu_seconds(os.getpid())
    return own, projections, postgres_cpu_seconds()


def _cpu_text(since: tuple[float, float, float]) -> str:
    own, projections, database = (a - b for a, b in zip(_cpu_seconds(), since, strict=True))
    return (f"{own:.0f} s this process, {projections:.0f} s the projections, "
            f"{database:.0f} s PostgreSQL")


def _events(linli: Any) -> int:
    return int(linli.writer.last_position)


def _caught_up(linli: Any) -> None:
    while not linli.read_your_writes():  # each waits up to read_wait_seconds
        pass


GROUP = 200  # commands run together in one unit of work, one transaction


def _run_grouped(writer: Any, commands: list[Callable[[UnitOfWork], Any]]) -> list[Any]:
    """Each command's answer, the commands run `GROUP` at a time in one unit of work each,
    what they read (the members and their accounts) fetched ahead in one query a group: the
    same commands and events as one at a time, in fewer transactions."""
    def together(group: list[Callable[[UnitOfWork], Any]]) -> Callable[[UnitOfWork], Any]:
        return Reading(lambda uow: [command(uow) for command in group],
                       tuple(dict.fromkeys(i for command in group for i in _reads(command))))

    futures = [writer.submit(together(commands[n:n + GROUP]))
               for n in range(0, len(commands), GROUP)]
    return [answer for future in futures for answer in future.result()]


def _reads(command: Callable[[UnitOfWork], Any]) -> tuple[UUID, ...]:
    return command.reads if isinstance(command, Reading) else ()


def _reading(command: Callable[[UnitOfWork], Any], member_id: UUID) -> Reading[Any]:
    """`command`, naming the member and its minutes account as what it reads."""
    return Reading(command, (member_id, ids.account_id(member_id, Asset.MINUTES.value)))


def measure(client: TestClient, path: str, params: dict[str, Any], reads: int,
            cold: bool = False, cpu: list[float] | None = None) -> list[float]:
    """Each read's time; `cold`: each read computes (as the first after the views moved).
    `cpu` is given each read's CPU time of this process (the app and, on SQLite, the
    database; not PostgreSQL's server, nor the projections' process): what the machine's
    other work does not move."""
    samples = []
    for _ in range(reads):
        if cold:
            ANSWERS.clear()
        started, used = time.perf_counter(), time.process_time()
        response = client.get(path, params=params)
        samples.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - used)
        assert response.status_code == 200, response.text
    return samples


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 300_000)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--follow", action="store_true",
                        help="build with the projections following the writes (as a server "
                        "does; slower) rather than rebuilding the views after each step")
    parser.add_argument("--sizes", default="", help="measure also at these sizes on the way "
                        "to --members, e.g. 20000,100000 (one world, grown between them)")
    add_seed(parser, 7)
    args = parser.parse_args()
    sizes = sorted({*(int(n) for n in args.sizes.split(",") if n), args.members})
    print(f"# district reads on {machine()}")
    print(f"# backend {args.backend}, {args.communities} communities, "
          f"{', '.join(f'{n:,}' for n in sizes)} members, {args.reads} reads each")
    with scratch_database(args.backend) as url, tempfile.TemporaryDirectory() as folder:
        linli = open_bench(url, admin_token=ADMIN_TOKEN, rate_limit_per_second=1e9,
                           rate_limit_burst=10**9)
        try:
            world = World(linli, args.communities, args.seed, Path(folder),
                          follow=args.follow)
            with TestClient(create_app(linli=linli)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                for size in sizes:
                    started, cpu = time.perf_counter(), _cpu_seconds()
                    world.grow(size)
                    written = time.perf_counter() - started
                    _caught_up(linli)
                    vacuum(url)  # what autovacuum does in time: the planner's statistics
                    took = time.perf_counter() - started
                    print(f"{size:,} members: grown in {written:.0f} s "
                          f"({', '.join(f'{k} {v:.0f} s' for k, v in world.phases.items())}); "
                          f"projections caught up after {took:.0f} s; CPU "
                          f"{_cpu_text(cpu)}; {_events(linli):,} events; load "
                          f"average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
                          flush=True)
                    measure_reads(client, world.district, args.reads,
                                  make_url(url).database if args.backend == "postgres" else None)
        finally:
            linli.close()


def measure_reads(client: TestClient, district: UUID, reads: int,
                  database: str | None = None) -> None:
    """Each read's times, computed and kept; with `database` (PostgreSQL), the CPU its
    server's processes used a computed read too."""
    now = datetime.now(UTC)
    asked: dict[str, tuple[str, dict[str, Any]]] = {
        "dashboard, this year": (f"/v1/districts/{district}/dashboard", {"year": now.year}),
        "board, members, all time, top 50": ("/v1/leaderboards",
                                             {"district_id": str(district)}),
        "board, members, this month, top 50": (
            "/v1/leaderboards", {"district_id": str(district), "period": f"{now:%Y-%m}"}),
        "board, minutes, all time, top 50": (
            "/v1/leaderboards", {"district_id": str(district), "asset": "MINUTES"}),
        "board, public, all time, top 100": (
            "/v1/leaderboards", {"district_id": str(district), "public": True,
                                 "limit": 100}),
    }
    for name, (path, params) in asked.items():
        measure(client, path, params, 10)  # warm up
        cpu: list[float] = []
        server = postgres_cpu_seconds(database) if database else 0.0
        cold = measure(client, path, params, reads, cold=True, cpu=cpu)
        server = (postgres_cpu_seconds(database) - server) / reads if database else 0.0
        warm = measure(client, path, params, reads)
        print(f"  {name}: computed {summary_ms(cold)} (CPU of this process a read: "
              f"median {statistics.median(cpu) * 1000:.1f} ms"
              + (f", PostgreSQL's mean {server * 1000:.1f} ms" if database else "")
              + f"); between changes of the views {summary_ms(warm)}; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
