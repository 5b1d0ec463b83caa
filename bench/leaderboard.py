"""Leaderboard reads (公益达人榜) with 100,000 members: p50 and p99 through the HTTP app.

    python -m bench.leaderboard [--backend postgres|sqlite] [--members 100000] [--reads 500]

One community: 13 grids, households of two or three, members awarded 1–200 points dated over
the last 80 days. Each board is read `--reads` times after the projections have caught up;
a read is `GET /v1/leaderboards` through FastAPI's TestClient (auth, read-your-writes check,
one index range scan, names), so what it measures excludes only the network.
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
from ledger.commands import points, registry

ADMIN_TOKEN = "bench-admin"


def populate(linli: Any, members: int, seed: int) -> tuple[UUID, list[UUID]]:
    rng = random.Random(seed)
    writer = linli.writer
    community = writer.execute(registry.register_community("bench 湖滨社区", ADMIN)).id
    writer.execute(registry.put_rule(community, "GIFT", name="志愿服务", points=1, unit="each",
                                     daily_cap=None, monthly_cap=None,
                                     requires_approval=False, by=ADMIN))
    grids = [writer.execute(registry.add_grid(community, f"{n + 1}网格", ADMIN)).id
             for n in range(13)]
    households = [f.result().id for f in [
        writer.submit(registry.register_household(community, grids[n % 13], f"{n}号", ADMIN))
        for n in range(members * 2 // 5)]]
    surnames, given = "王李张刘陈杨赵黄周吴", "秀英建国桂兰志强丽娜明华"
    futures = [writer.submit(registry.register_member(
        community, rng.choice(surnames) + "".join(rng.sample(given, 2)),
        households[n % len(households)], None, ADMIN)) for n in range(members)]
    member_ids = [f.result().id for f in futures]
    now = datetime.now(UTC)
    futures = [writer.submit(points.award(
        m, "GIFT", quantity=rng.randint(1, 200), minutes=None,
        occurred_at=now - timedelta(days=rng.uniform(0, 80)), note="", now=now, by=ADMIN))
        for m in member_ids]
    for future in futures:
        future.result()
    return community, grids


def measure(client: TestClient, params: dict[str, Any], reads: int) -> list[float]:
    samples = []
    for _ in range(reads):
        started = time.perf_counter()
        response = client.get("/v1/leaderboards", params=params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return samples


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 100_000)
    parser.add_argument("--reads", type=int, default=500)
    add_seed(parser, 7)
    args = parser.parse_args()
    print(f"# leaderboard on {machine()}")
    print(f"# backend {args.backend}, {args.members:,} members, {args.reads} reads a board")
    with scratch_database(args.backend) as url:
        linli = open_bench(url, admin_token=ADMIN_TOKEN, rate_limit_per_second=1e9,
                           rate_limit_burst=10**9)
        try:
            started = time.perf_counter()
            community, grids = populate(linli, args.members, args.seed)
            written = time.perf_counter() - started
            while not linli.read_your_writes():  # each try waits up to read_wait_seconds
                pass
            print(f"populated in {written:.0f} s; projections caught up after "
                  f"{time.perf_counter() - started:.0f} s")
            this_month = f"{datetime.now(UTC):%Y-%m}"
            boards: dict[str, dict[str, Any]] = {
                "community, all time, top 50": {},
                "community, all time, top 500": {"limit": 500},
                "community, this month, top 50": {"period": this_month},
                "community, all time, public, top 50": {"public": True},
                "households, all time, top 50": {"subject": "household"},
                "one grid, all time, top 50": {"grid_id": str(grids[0])},
            }
            with TestClient(create_app(linli=linli)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                for name, extra in boards.items():
                    params = {"community_id": str(community), **extra}
                    measure(client, params, 20)  # warm up
                    print(f"{name}: {summary_ms(measure(client, params, args.reads))}")
        finally:
            linli.close()


if __name__ == "__main__":
    main()
