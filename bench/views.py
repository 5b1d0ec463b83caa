"""The CPU each view takes to rebuild from one log of redemptions, and all of them together:
what a change to the projections costs, run from each tree of the code in turn (A B B A, each
tree on a database of its own: `cd TREE && PYTHONPATH=TREE python -m bench.views`).

    python -m bench.views [--backend postgres|sqlite] [--commands 30000]
"""

from __future__ import annotations

import time

from bench.args import add_backend, add_commands, parser_for
from bench.common import machine, open_bench, populate, scratch_database
from ledger.actor import Actor, Role
from ledger.commands import points
from projections.runner import ProjectionRunner


def run(backend: str, commands: int) -> list[tuple[str, float]]:
    """(view, CPU seconds of its rebuild) for each view, then ("all", every view at once)."""
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=100)
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)  # type: ignore[arg-type]
            futures = [linli.writer.submit(points.redeem(
                merchant, members[i % len(members)], 1, "bench", till, now=linli.clock()))  # type: ignore[arg-type]
                for i in range(commands)]
            for future in futures:
                future.result(timeout=600)
            linli.projections.stop()
            runner = ProjectionRunner(linli.app, linli.engine)
            figures = []
            for name in [view.name for view in runner.views]:
                started = time.process_time()
                runner.rebuild([name])
                figures.append((name, time.process_time() - started))
            started = time.process_time()
            runner.rebuild()
            figures.append(("all", time.process_time() - started))
            return figures
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_commands(parser, 30_000)
    args = parser.parse_args()
    print(f"# views on {machine()}")
    figures = run(args.backend, args.commands)
    print(f"{args.backend}: " + ", ".join(f"{name} {cpu:.2f} CPU s" for name, cpu in figures))


if __name__ == "__main__":
    main()
