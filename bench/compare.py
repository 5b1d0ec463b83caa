"""Redemptions through HTTP for several trees of the code, taking turns on one database.

On a shared machine the same code's throughput swings by a quarter within the hour, so a
figure means something only beside its baseline from the same minutes. This runs `linli
serve` from each tree in turn (a worktree, say: `git worktree add /tmp/before REV`), warms it,
then loads it with wrk, for `--rounds` rounds. Each round reverses the order of the one before
(A B, then B A), so a drift of the machine, or of the database growing, weighs on each tree
alike. It prints each load, then each tree's medians and their ratios to the first tree's.

    python -m bench.compare before=/tmp/before now=. [--members 10000] [--rounds 4]
"""

from __future__ import annotations

import statistics

from bench.args import add_backend, add_members, add_rounds, add_seconds, add_trees, parser_for
from bench.common import checkpoint, machine, scratch_database
from bench.http import Load, linli_serve, prepare, run_wrk


def main() -> None:
    parser = parser_for(__doc__, raw=True)
    add_trees(parser, "+")
    add_backend(parser, "postgres")
    add_members(parser, 10_000)
    add_rounds(parser, 4)
    add_seconds(parser, 8.0, "each measured load")
    parser.add_argument("--warm-seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--checkpoint", action="store_true",
                        help="PostgreSQL: a CHECKPOINT before each measured load, so that each "
                             "tree meets the full-page writes that follow one")
    args = parser.parse_args()
    print(f"# compare on {machine()}")
    loads: dict[str, list[Load]] = {name: [] for name, _ in args.trees}
    with scratch_database(args.backend) as url:
        till = prepare(url, args.members)
        for round_ in range(args.rounds):
            for name, code in args.trees if round_ % 2 == 0 else reversed(args.trees):
                with linli_serve(url, code=code) as (server, base):
                    run_wrk(till, base, server.pid, seconds=args.warm_seconds,
                            connections=args.connections)
                    if args.checkpoint and args.backend == "postgres":
                        checkpoint()
                    load = run_wrk(till, base, server.pid, seconds=args.seconds,
                                   connections=args.connections)
                loads[name].append(load)
                wal = f"; WAL {load.wal_kb:.1f} KB" if args.backend == "postgres" else ""
                print(f"round {round_ + 1} {name}: {load.requests_per_second:,.0f}/s, "
                      f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, CPU a redemption: "
                      f"server {load.server_cpu_ms:.3f} ms, projections "
                      f"{load.projection_cpu_ms:.3f} ms, database {load.database_cpu_ms:.3f} "
                      f"ms{wal}", flush=True)
    first = args.trees[0][0]

    def median(name: str, figure: str) -> float:
        return statistics.median(getattr(load, figure) for load in loads[name])

    def ratio(name: str, figure: str) -> str:
        base = median(first, figure)
        return f" (×{median(name, figure) / base:.2f})" if base else ""

    for name, _ in args.trees:
        line = (f"{name}: median {median(name, 'requests_per_second'):,.0f}/s"
                f"{ratio(name, 'requests_per_second')}, p99 {median(name, 'p99_ms'):.1f} ms, "
                f"server CPU a redemption {median(name, 'server_cpu_ms'):.3f} ms"
                f"{ratio(name, 'server_cpu_ms')}")
        if args.backend == "postgres":
            line += (f", database CPU {median(name, 'database_cpu_ms'):.3f} ms"
                     f"{ratio(name, 'database_cpu_ms')}, WAL {median(name, 'wal_kb'):.1f} KB"
                     f"{ratio(name, 'wal_kb')} a redemption")
        print(line)

if __name__ == "__main__":
    main()
