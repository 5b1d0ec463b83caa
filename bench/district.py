"""A district's reads (街道): its dashboard and its boards across communities, p50 and p99
through the HTTP app.

    python -m bench.district [--backend postgres|sqlite] [--communities 50]
                             [--members 300000] [--reads 200]

One district of `--communities` communities sharing `--members` members, registered and
awarded through the writer: each member awarded 1–200 points dated over the last 80 days, a
third of them banking 30–240 minutes, and some withdrawing at another community's counter
(通兑). Each read is sent `--reads` times after the projections have caught up, through
FastAPI's TestClient (auth, read-your-writes check, the queries, the JSON), so what it measures
excludes only the network: first each computing its answer (as the first read after the views
moved does), then as reads between two changes of the views are answered (from the answer kept
for that position). The target: p99 ≤ 100 ms for the dashboard and the boards.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from api.app import create_app
from bench.args import add_backend, add_members, add_seed, parser_for
from bench.common import ADMIN, machine, open_bench, scratch_database, summary_ms
from ledger.actor import Actor, Role
from ledger.commands import districts, points, registry, timebank
from projections.districts import ANSWERS

ADMIN_TOKEN = "bench-admin"
SURNAMES, GIVEN = "王李张刘陈杨赵黄周吴", "秀英建国桂兰志强丽娜明华"


def populate(linli: Any, communities: int, members: int, seed: int) -> UUID:
    """The district, its communities, members, awards, deposits and withdrawals."""
    rng = random.Random(seed)
    writer = linli.writer
    now = datetime.now(UTC)
    district = writer.execute(districts.register_district("bench 街道", ADMIN)).id
    community_ids = []
    for n in range(communities):
        community = writer.execute(registry.register_community(f"bench 第{n + 1}社区",
                                                               ADMIN)).id
        writer.execute(districts.add_community(district, community, ADMIN))
        writer.execute(registry.put_rule(community, "GIFT", name="志愿服务", points=1,
                                         unit="each", daily_cap=None, monthly_cap=None,
                                         requires_approval=False, by=ADMIN))
        community_ids.append(community)
    chunk = 20_000  # members in flight at once: the writer's queue stays bounded
    for start in range(0, members, chunk):
        count = min(chunk, members - start)
        homes = [community_ids[(start + n) % communities] for n in range(count)]
        futures = [writer.submit(registry.register_member(
            home, rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)), None, None, ADMIN))
            for home in homes]
        member_ids = [f.result().id for f in futures]
        futures = [writer.submit(points.award(
            m, "GIFT", quantity=rng.randint(1, 200), minutes=None,
            occurred_at=now - timedelta(days=rng.uniform(0, 80)), note="", now=now,
            by=ADMIN)) for m in member_ids]
        futures += [writer.submit(timebank.deposit(
            m, None, rng.randint(30, 240), "助餐", now - timedelta(days=rng.uniform(0, 80)),
            None, ADMIN, now)) for m in member_ids[::3]]
        for future in futures:
            future.result()
        withdrawals = []
        for m in member_ids[::30]:  # of those who banked minutes
            counter = Actor("bench-counter", Role.STAFF, community_id=rng.choice(community_ids))
            withdrawals.append(writer.submit(timebank.withdraw(m, 10, "助洁", None, None,
                                                               counter, now)))
        for future in withdrawals:
            future.result()
        print(f"  {start + count:,} members", flush=True)
    return district


def measure(client: TestClient, path: str, params: dict[str, Any], reads: int,
            cold: bool = False) -> list[float]:
    """Each read's time; `cold`: each read computes (as the first after the views moved)."""
    samples = []
    for _ in range(reads):
        if cold:
            ANSWERS.clear()
        started = time.perf_counter()
        response = client.get(path, params=params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return samples


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 300_000)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--reads", type=int, default=200)
    add_seed(parser, 7)
    args = parser.parse_args()
    print(f"# district reads on {machine()}")
    print(f"# backend {args.backend}, {args.communities} communities, {args.members:,} "
          f"members, {args.reads} reads each")
    with scratch_database(args.backend) as url:
        linli = open_bench(url, admin_token=ADMIN_TOKEN, rate_limit_per_second=1e9,
                           rate_limit_burst=10**9)
        try:
            started = time.perf_counter()
            district = populate(linli, args.communities, args.members, args.seed)
            written = time.perf_counter() - started
            while not linli.read_your_writes():  # each try waits up to read_wait_seconds
                pass
            print(f"populated in {written:.0f} s; projections caught up after "
                  f"{time.perf_counter() - started:.0f} s")
            now = datetime.now(UTC)
            reads: dict[str, tuple[str, dict[str, Any]]] = {
                "dashboard, this year": (f"/v1/districts/{district}/dashboard",
                                         {"year": now.year}),
                "board, members, all time, top 50": ("/v1/leaderboards",
                                                     {"district_id": str(district)}),
                "board, members, this month, top 50": (
                    "/v1/leaderboards", {"district_id": str(district),
                                         "period": f"{now:%Y-%m}"}),
                "board, minutes, all time, top 50": (
                    "/v1/leaderboards", {"district_id": str(district), "asset": "MINUTES"}),
                "board, public, all time, top 100": (
                    "/v1/leaderboards", {"district_id": str(district), "public": True,
                                         "limit": 100}),
            }
            with TestClient(create_app(linli=linli)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                for name, (path, params) in reads.items():
                    measure(client, path, params, 10)  # warm up
                    cold = measure(client, path, params, args.reads, cold=True)
                    warm = measure(client, path, params, args.reads)
                    print(f"{name}: computed {summary_ms(cold)}; between changes of the "
                          f"views {summary_ms(warm)}", flush=True)
        finally:
            linli.close()


if __name__ == "__main__":
    main()
