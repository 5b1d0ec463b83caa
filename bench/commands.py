"""In-process command throughput (no HTTP): redemptions through the writer.

Compares, in the same run and on the same database:
- naive: one command per transaction (each submitted after the previous one committed);
- group commit: commands submitted concurrently, committed up to 256 per transaction.

    python -m bench.commands [--backend postgres|sqlite|both] [--commands 20000]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import Future
from typing import Any

from bench.common import backends, machine, open_bench, populate, scratch_database
from ledger.actor import Actor, Role
from ledger.commands import points


def run(backend: str, commands: int, naive_commands: int) -> dict[str, float]:
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=100)
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)  # type: ignore[arg-type]

            def redeem(i: int) -> Any:
                return points.redeem(merchant, members[i % len(members)], 1, "bench",  # type: ignore[arg-type]
                                     till, now=linli.clock())

            started = time.perf_counter()
            for i in range(naive_commands):
                linli.writer.execute(redeem(i))
            naive = naive_commands / (time.perf_counter() - started)

            batches = linli.writer.batches_committed
            started = time.perf_counter()
            futures: list[Future[Any]] = [linli.writer.submit(redeem(i))
                                          for i in range(commands)]
            for future in futures:
                future.result(timeout=300)
            grouped = commands / (time.perf_counter() - started)
            per_batch = commands / max(1, linli.writer.batches_committed - batches)
            return {"naive commands/s": naive, "group-commit commands/s": grouped,
                    "commands per transaction": per_batch, "ratio": grouped / naive}
        finally:
            linli.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--naive-commands", type=int, default=2_000)
    args = parser.parse_args()
    print(f"# commands on {machine()}")
    for backend in backends(args.backend):
        figures = run(backend, args.commands, args.naive_commands)
        print(f"{backend}: " + ", ".join(f"{k} {v:,.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
