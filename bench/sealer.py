"""What a pass of the sealer costs: the positions and hashes of the events since the last
checkpoint taken from what this process committed (`ledger.chain.Committed`), beside read
back from the log's headers, as the sealer did before. CPU of this process (the database's
work for the read comes on top) and wall time, per event, the least of several rounds.

    python -m bench.sealer [--backend postgres|sqlite] [--commands 20000] [--rounds 5]
"""

from __future__ import annotations

import time
from typing import Any

from bench.args import add_backend, add_commands, add_rounds, parser_for
from bench.common import backends, machine, open_bench, populate, scratch_database
from ledger.actor import Actor, Role
from ledger.chain import Committed
from ledger.commands import points
from ledger.domain.audit import AUDIT_LOG_ID


def run(backend: str, commands: int, rounds: int) -> None:
    with scratch_database(backend) as url:
        linli = open_bench(url, seal_interval_seconds=0)  # sealed here, when asked
        try:
            _, shop, members = populate(linli, members=2_000, points_each=1_000)
            merchant: Any = shop
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
            sealer = linli.sealer
            assert sealer is not None
            sealer.seal()
            futures = [linli.writer.submit(points.redeem(
                merchant, members[i % len(members)], 1, "bench", till, now=linli.clock()))
                for i in range(commands)]
            for future in futures:
                future.result(timeout=300)
            audit_log: Any = linli.app.repository.get(AUDIT_LOG_ID)
            after, previous = audit_log.through_position, audit_log.log_hash
            remembered = sealer.committed
            best = {"memory": (float("inf"), 0.0), "log": (float("inf"), 0.0)}
            events = 0
            for _ in range(rounds):
                for way in best:
                    sealer.committed = remembered if way == "memory" else Committed()
                    cpu, wall = time.process_time(), time.perf_counter()
                    span = sealer._span_after(after, previous)  # noqa: SLF001 - the pass's work
                    taken = (time.process_time() - cpu, time.perf_counter() - wall)
                    assert span is not None
                    events = span.events
                    best[way] = min(best[way], (taken[0] / span.events * 1e6,
                                                taken[1] / span.events * 1e6))
            sealer.committed = remembered
            print(f"{backend}: {events:,} events since the checkpoint")
            for way, (cpu_us, wall_us) in best.items():
                print(f"{backend} from {'memory' if way == 'memory' else 'the log'}: "
                      f"{cpu_us:.2f} µs CPU, {wall_us:.2f} µs wall an event")
            print(f"{backend}: memory ×{best['memory'][0] / best['log'][0]:.2f} the CPU of "
                  "reading the log")
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "both", both=True)
    add_commands(parser, 20_000)
    add_rounds(parser, 5)
    args = parser.parse_args()
    print(f"# sealer on {machine()}")
    for backend in backends(args.backend):
        run(backend, args.commands, args.rounds)


if __name__ == "__main__":
    main()
