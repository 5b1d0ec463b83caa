"""Member search (居民查询) with 100,000 members: p50 and p99 of a prefix search through the
HTTP app.

    python -m bench.member_search [--backend postgres|sqlite] [--members 100000] [--reads 2000]

One community of `--members` residents with names of a surname and one or two given
characters (a tenth of them of one surname, as in a real street), registered through the writer
in process. Each search is `GET /v1/members?q=` through FastAPI's TestClient (auth,
read-your-writes check, one range scan of an index, the page of 50), so what it measures
excludes only the network. The prefixes, taken at random, are a surname (thousands of
matches, the first page), a surname and a given character, a whole name, the start of a
passbook number and a whole one; then the second page of a surname's matches (by its cursor).
Target: p99 ≤ 20 ms.
"""

from __future__ import annotations

import random
import time
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from api.app import create_app
from bench.args import add_backend, add_members, add_seed, parser_for
from bench.common import ADMIN, machine, open_bench, scratch_database, summary_ms
from ledger.commands import registry

ADMIN_TOKEN = "bench-admin"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "秀英建国桂兰志强丽娜明华玉珍海燕文杰小红德福春梅淑芬永刚"


def populate(linli: Any, members: int, seed: int) -> tuple[UUID, list[str], list[str]]:
    """A community of `members` residents; its id, their names and passbook numbers."""
    rng = random.Random(seed)
    writer = linli.writer
    community = writer.execute(registry.register_community("bench 湖滨社区", ADMIN)).id
    names = [rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2, 2))))
             for _ in range(members)]
    futures = [writer.submit(registry.register_member(community, name, None, None, ADMIN))
               for name in names]
    numbers = [str(f.result().passbook_no) for f in futures]
    return community, names, numbers


def prefixes(names: list[str], numbers: list[str], rng: random.Random, count: int
             ) -> dict[str, list[str]]:
    """`count` random prefixes of each kind."""
    def some(make: Any) -> list[str]:
        return [make() for _ in range(count)]

    return {
        "surname (1 char)": some(lambda: rng.choice(names)[0]),
        "surname and given (2 chars)": some(lambda: rng.choice(names)[:2]),
        "whole name": some(lambda: rng.choice(names)),
        "passbook start (9 chars)": some(lambda: rng.choice(numbers)[:9]),
        "whole passbook number": some(lambda: rng.choice(numbers)),
    }


def measure(client: TestClient, community: UUID, queries: list[str],
            next_page: bool = False) -> list[float]:
    samples = []
    for q in queries:
        params: dict[str, Any] = {"community_id": str(community), "q": q}
        if next_page:
            first = client.get("/v1/members", params=params).json()
            params["cursor"] = first["next_cursor"]
        started = time.perf_counter()
        response = client.get("/v1/members", params=params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        assert response.json()["items"], q
    return samples


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 100_000)
    parser.add_argument("--reads", type=int, default=2000, help="searches of each kind")
    add_seed(parser, 7)
    args = parser.parse_args()
    print(f"# member search on {machine()}")
    print(f"# backend {args.backend}, {args.members:,} members, {args.reads} searches a kind")
    rng = random.Random(args.seed)
    with scratch_database(args.backend) as url:
        linli = open_bench(url, admin_token=ADMIN_TOKEN, rate_limit_per_second=1e9,
                           rate_limit_burst=10**9)
        try:
            started = time.perf_counter()
            community, names, numbers = populate(linli, args.members, args.seed)
            written = time.perf_counter() - started
            while not linli.read_your_writes():  # each try waits up to read_wait_seconds
                pass
            print(f"populated in {written:.0f} s; projections caught up after "
                  f"{time.perf_counter() - started:.0f} s")
            kinds = prefixes(names, numbers, rng, args.reads)
            everything: list[float] = []
            with TestClient(create_app(linli=linli)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                measure(client, community, kinds["surname (1 char)"][:50])  # warm up
                for name, queries in kinds.items():
                    samples = measure(client, community, queries)
                    everything += samples
                    print(f"{name}: {summary_ms(samples)}")
                samples = measure(client, community, kinds["surname (1 char)"], next_page=True)
                everything += samples
                print(f"surname, second page: {summary_ms(samples)}")
                print(f"all searches: {summary_ms(everything)} (target p99 ≤ 20 ms)")
        finally:
            linli.close()


if __name__ == "__main__":
    main()
