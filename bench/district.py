"""A district's reads (街道): its dashboard and its boards across communities, p50 and p99
through the HTTP app.

    python -m bench.district [--backend postgres|sqlite] [--communities 50]
                             [--members 300000] [--reads 200] [--sizes 20000,100000]

One district of `--communities` communities sharing `--members` members, registered and
awarded through the writer (the commands 200 to a unit of work: the same events, fewer
transactions): each member awarded 1–200 points dated over the last 80 days, a
third of them banking 30–240 minutes, and some withdrawing at another community's counter
(通兑). Each read is sent `--reads` times after the projections have caught up, through
FastAPI's TestClient (auth, read-your-writes check, the queries, the JSON), so what it measures
excludes only the network: first each computing its answer (as the first read after the views
moved does), then as reads between two changes of the views are answered (from the answer kept
for that position). With `--sizes`, the same reads are measured at each of those sizes too,
as the one world grows to `--members`: how the reads' times move with the members. The target:
p99 ≤ 100 ms for the dashboard and the boards.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from api.app import create_app
from bench.args import add_backend, add_members, add_seed, parser_for
from bench.common import ADMIN, machine, open_bench, scratch_database, summary_ms
from ledger.actor import Actor, Role
from ledger.commands import districts, points, registry, timebank
from ledger.write.unit_of_work import UnitOfWork
from projections.districts import ANSWERS

ADMIN_TOKEN = "bench-admin"
SURNAMES, GIVEN = "王李张刘陈杨赵黄周吴", "秀英建国桂兰志强丽娜明华"


class World:
    """The district and its communities, grown member by member: each awarded, a third
    banking minutes, some withdrawing at another community's counter."""

    def __init__(self, linli: Any, communities: int, seed: int) -> None:
        self.writer = linli.writer
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC)
        self.members = 0
        run = self.writer.execute
        self.district: UUID = run(districts.register_district("bench 街道", ADMIN)).id
        self.community_ids: list[UUID] = []
        for n in range(communities):
            community = run(registry.register_community(f"bench 第{n + 1}社区", ADMIN)).id
            run(districts.add_community(self.district, community, ADMIN))
            run(registry.put_rule(community, "GIFT", name="志愿服务", points=1, unit="each",
                                  daily_cap=None, monthly_cap=None, requires_approval=False,
                                  by=ADMIN))
            self.community_ids.append(community)

    def grow(self, members: int) -> None:
        """Up to `members` members, `CHUNK` in flight at once (the writer's queue stays
        bounded)."""
        rng, now, communities = self.rng, self.now, self.community_ids
        for start in range(self.members, members, CHUNK):
            count = min(CHUNK, members - start)
            homes = [communities[(start + n) % len(communities)] for n in range(count)]
            member_ids = [m.id for m in _run_grouped(self.writer, [registry.register_member(
                home, rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)), None, None, ADMIN)
                for home in homes])]
            commands: list[Callable[[UnitOfWork], Any]] = [points.award(
                m, "GIFT", quantity=rng.randint(1, 200), minutes=None,
                occurred_at=now - timedelta(days=rng.uniform(0, 80)), note="", now=now,
                by=ADMIN) for m in member_ids]
            commands += [timebank.deposit(
                m, None, rng.randint(30, 240), "助餐", now - timedelta(days=rng.uniform(0, 80)),
                None, ADMIN, now) for m in member_ids[::3]]
            _run_grouped(self.writer, commands)
            _run_grouped(self.writer, [timebank.withdraw(  # of those who banked minutes
                m, 10, "助洁", None, None,
                Actor("bench-counter", Role.STAFF, community_id=rng.choice(communities)), now)
                for m in member_ids[::30]])
            self.members = start + count
            print(f"  {self.members:,} members", flush=True)


def populate(linli: Any, communities: int, members: int, seed: int) -> UUID:
    """The district, its communities, members, awards, deposits and withdrawals."""
    world = World(linli, communities, seed)
    world.grow(members)
    return world.district


CHUNK = 20_000
GROUP = 200  # commands run together in one unit of work, one transaction


def _run_grouped(writer: Any, commands: list[Callable[[UnitOfWork], Any]]) -> list[Any]:
    """Each command's answer, the commands run `GROUP` at a time in one unit of work each:
    the same commands and events as one at a time, in fewer transactions (the writer's own
    cost a command, not the domain's, is what builds a large world slowly)."""
    def together(group: list[Callable[[UnitOfWork], Any]]) -> Callable[[UnitOfWork], Any]:
        return lambda uow: [command(uow) for command in group]

    futures = [writer.submit(together(commands[n:n + GROUP]))
               for n in range(0, len(commands), GROUP)]
    return [answer for future in futures for answer in future.result()]


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
    parser.add_argument("--sizes", default="", help="measure also at these sizes on the way "
                        "to --members, e.g. 20000,100000 (one world, grown between them)")
    add_seed(parser, 7)
    args = parser.parse_args()
    sizes = sorted({*(int(n) for n in args.sizes.split(",") if n), args.members})
    print(f"# district reads on {machine()}")
    print(f"# backend {args.backend}, {args.communities} communities, "
          f"{', '.join(f'{n:,}' for n in sizes)} members, {args.reads} reads each")
    with scratch_database(args.backend) as url:
        linli = open_bench(url, admin_token=ADMIN_TOKEN, rate_limit_per_second=1e9,
                           rate_limit_burst=10**9)
        try:
            world = World(linli, args.communities, args.seed)
            with TestClient(create_app(linli=linli)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                for size in sizes:
                    started = time.perf_counter()
                    world.grow(size)
                    written = time.perf_counter() - started
                    while not linli.read_your_writes():  # each waits up to read_wait_seconds
                        pass
                    print(f"{size:,} members: grown in {written:.0f} s; projections caught "
                          f"up after {time.perf_counter() - started:.0f} s; load average "
                          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
                    measure_reads(client, world.district, args.reads)
        finally:
            linli.close()


def measure_reads(client: TestClient, district: UUID, reads: int) -> None:
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
        cold = measure(client, path, params, reads, cold=True, cpu=cpu)
        warm = measure(client, path, params, reads)
        print(f"  {name}: computed {summary_ms(cold)} (CPU of this process a read: "
              f"median {statistics.median(cpu) * 1000:.1f} ms); between changes of the views "
              f"{summary_ms(warm)}", flush=True)


if __name__ == "__main__":
    main()
