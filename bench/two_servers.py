"""One `linli serve` against two on the same database: what the second projection process
costs, and how long a read waits for its own write.

Each layout gets a fresh database with `--members` members, then `--clients` threads each send
keyed redemptions of 1 point, each followed by a read of that member's balance from the same
server (which waits until that server's views hold the write), spread over the servers. Printed
for each: redemptions a second, the read's p50/p99, the CPU of the projection processes a
redemption (both servers' together), and the errors the projection processes logged (a
batch another applied first is not one: it is read again from there). The layouts take turns
(one, two, two, one, …).

    python -m bench.two_servers [--backend postgres|sqlite] [--rounds 2] [--redemptions 2000]
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.args import add_backend, add_rounds, parser_for
from bench.common import cpu_seconds, machine, percentile, scratch_database
from harness.scenarios import populate_over_http
from harness.served import Served

TIMEOUT = 60.0


def run(backend: str, servers: int, *, members: int, redemptions: int, clients: int,
        folder: Path) -> dict[str, float]:
    """One layout's figures."""
    with scratch_database(backend) as url:
        served = [Served(url, folder / f"serve-{servers}-{n}-{uuid.uuid4().hex[:6]}.log")
                  for n in range(servers)]
        for one in served:
            one.start()
        try:
            population = populate_over_http(served[0].url, members=members, merchants=2,
                                            points_each=redemptions)
            for one in served:  # each server's views hold the population before the clock
                httpx.get(f"{one.url}/v1/members/{population.members[-1]}/balance",
                          headers=population.auditor, timeout=TIMEOUT)
            pids = [one.process.pid for one in served if one.process is not None]
            before = sum(cpu_seconds(pid)[1] for pid in pids)
            reads: list[float] = []
            lock = threading.Lock()
            rng = random.Random(7)
            plan = [(rng.choice(population.members), rng.choice(population.merchants))
                    for _ in range(redemptions)]

            def client(n: int) -> None:
                https = [httpx.Client(base_url=one.url, timeout=TIMEOUT) for one in served]
                try:
                    for i, (member, merchant) in enumerate(plan[n::clients]):
                        http = https[(n + i) % len(https)]
                        answer = http.post("/v1/redemptions", json={
                            "member_id": member, "points": 1, "description": "bench"},
                            headers={**population.tills[merchant],
                                     "Idempotency-Key": uuid.uuid4().hex})
                        assert answer.status_code == 201, answer.text
                        started = time.perf_counter()
                        read = http.get(f"/v1/members/{member}/balance",
                                        headers=population.auditor)
                        assert read.status_code == 200, read.text
                        with lock:
                            reads.append(time.perf_counter() - started)
                finally:
                    for http in https:
                        http.close()

            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(client, range(clients)))
            seconds = time.perf_counter() - started
            projections_cpu = sum(cpu_seconds(pid)[1] for pid in pids) - before
        finally:
            for one in served:
                one.stop()
        errors = sum(one.log_path.read_text().count("projection batch failed")
                       for one in served)
    return {"per_second": redemptions / seconds,
            "read_p50_ms": percentile(reads, 0.5) * 1000,
            "read_p99_ms": percentile(reads, 0.99) * 1000,
            "projections_cpu_ms": projections_cpu / redemptions * 1000,
            "projection_errors": errors}


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_rounds(parser, 2)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--redemptions", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    print(f"# two servers on {machine()}")
    figures: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for servers in (1, 2) if round_ % 2 == 0 else (2, 1):
                done = run(args.backend, servers, members=args.members,
                           redemptions=args.redemptions, clients=args.clients,
                           folder=Path(folder))
                figures[servers].append(done)
                print(f"{args.backend}, {servers} server(s): {done['per_second']:,.0f} "
                      f"redemptions/s, read after write p50 {done['read_p50_ms']:.1f} ms, "
                      f"p99 {done['read_p99_ms']:.1f} ms, projection processes' CPU "
                      f"{done['projections_cpu_ms']:.3f} ms a redemption, projection errors "
                      f"{done['projection_errors']:.0f}", flush=True)
    for name in ("per_second", "read_p50_ms", "read_p99_ms", "projections_cpu_ms"):
        one = sorted(f[name] for f in figures[1])[len(figures[1]) // 2]
        two = sorted(f[name] for f in figures[2])[len(figures[2]) // 2]
        print(f"{name}: two servers ÷ one ×{two / one:.2f}")


if __name__ == "__main__":
    main()
