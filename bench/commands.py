"""In-process command throughput (no HTTP): redemptions through the writer.

Compares, in the same run and on the same database:
- naive: one command per transaction (each submitted after the previous one committed);
- group commit: commands submitted concurrently, committed up to 256 per transaction, with the
  projections following in their process (as `linli serve` runs);
- the write path alone: the same with the projections stopped, then the time they take to catch
  up once started again (the machine's two cores are shared by the writer, the projections
  and the database: this says which of them limits). The catch-up is timed from when the
  restarted projection process is ready.

Beside each rate, the writer thread's CPU a command (`linli_writer_cpu_seconds_total`): a
million over it is what one writer could commit with a core of its own and no wait.

    python -m bench.commands [--backend postgres|sqlite|both] [--commands 20000]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from api.bootstrap import Linli
from bench.args import add_backend, add_commands, parser_for
from bench.common import backends, machine, open_bench, populate, scratch_database
from ledger.actor import Actor, Role
from ledger.commands import points


@dataclass(frozen=True)
class Grouped:
    rate: float  # commands a second
    per_group: float  # commands a transaction
    cpu_us: float  # the writer thread's CPU a command


def _grouped(linli: Linli, command: Callable[[int], Any], commands: int) -> Grouped:
    """Submit `commands` commands at once and wait for them all."""
    writer = linli.writer
    groups, cpu = writer.batches_committed, writer.cpu_seconds
    started = time.perf_counter()
    futures: list[Future[Any]] = [writer.submit(command(i)) for i in range(commands)]
    for future in futures:
        future.result(timeout=300)
    rate = commands / (time.perf_counter() - started)
    return Grouped(rate, commands / max(1, writer.batches_committed - groups),
                   (writer.cpu_seconds - cpu) / commands * 1e6)


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

            live = _grouped(linli, redeem, commands)
            linli.projections.stop()
            alone = _grouped(linli, redeem, commands)
            linli.projections.start()  # its process started, following the log
            started = time.perf_counter()
            if not linli.projections.wait_for(linli.writer.last_position, 600):
                raise RuntimeError("the projections did not catch up")
            catch_up = time.perf_counter() - started
            return {"naive commands/s": naive, "group-commit commands/s": live.rate,
                    "commands per transaction": live.per_group,
                    "writer CPU µs a command": live.cpu_us, "ratio": live.rate / naive,
                    "write path alone commands/s": alone.rate,
                    "alone writer CPU µs a command": alone.cpu_us,
                    "projections' catch-up s": catch_up,
                    "alone with the catch-up commands/s": commands / (commands / alone.rate
                                                                      + catch_up)}
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "both", both=True)
    add_commands(parser, 20_000)
    parser.add_argument("--naive-commands", type=int, default=2_000)
    args = parser.parse_args()
    print(f"# commands on {machine()}")
    for backend in backends(args.backend):
        figures = run(backend, args.commands, args.naive_commands)
        print(f"{backend}: " + ", ".join(f"{k} {v:,.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
