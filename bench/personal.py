"""What encrypting personal data costs: residents registered through the writer (each one's
name under a key of their own, made and stored with them) and members loaded cold (their
names decrypted), with the cipher on and, on the same database in turns, off (A B B A).

    python -m bench.personal [--backend postgres|sqlite|both] [--members 2000] [--rounds 2]

Prints, for each, registrations a second and the writer thread's CPU a registration, cold
loads a second, and the ratio of on to off. Redemptions carry no personal field: their cost
is measured by `bench.instructions` and `bench.compare` against the code before.
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from uuid import UUID

from bench.args import add_backend, parser_for
from bench.common import backends, machine, open_bench, scratch_database
from ledger.actor import Actor, Role
from ledger.commands import registry
from ledger.privacy.fields import CLASSES
from ledger.store import load_aggregates


def _register(linli: Any, community: UUID, staff: Actor, count: int, round_: int
              ) -> tuple[float, float, list[UUID]]:
    """Register `count` residents at once; (a second, writer CPU µs each, their ids)."""
    writer = linli.writer
    cpu = writer.cpu_seconds
    started = time.perf_counter()
    futures = [writer.submit(registry.register_member(
        community, f"居民{round_:02d}{i:05d}", None, None, staff)) for i in range(count)]
    ids = [future.result(timeout=600).id for future in futures]
    elapsed = time.perf_counter() - started
    return count / elapsed, (writer.cpu_seconds - cpu) / count * 1e6, ids


def _cold_loads(linli: Any, ids: list[UUID]) -> float:
    """Members loaded from the database (as after a restart), a second."""
    started = time.perf_counter()
    for start in range(0, len(ids), 200):
        load_aggregates(linli.app, ids[start:start + 200])
    return len(ids) / (time.perf_counter() - started)


def run(backend: str, members: int, rounds: int) -> dict[str, list[float]]:
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            admin = Actor("bench:admin", Role.ADMIN)
            community = linli.writer.execute(registry.register_community("加密社区", admin)).id
            staff = Actor("bench:staff", Role.STAFF, community_id=community)
            mapper: Any = linli.app.mapper
            figures: dict[str, list[float]] = {}
            order = [True, False, False, True] * rounds
            for number, on in enumerate(order):
                mapper.personal_classes = CLASSES if on else frozenset()
                rate, cpu, ids = _register(linli, community, staff, members, number)
                loads = _cold_loads(linli, ids)
                side = "on" if on else "off"
                figures.setdefault(f"registrations/s {side}", []).append(rate)
                figures.setdefault(f"writer CPU µs a registration {side}", []).append(cpu)
                figures.setdefault(f"cold loads/s {side}", []).append(loads)
            mapper.personal_classes = CLASSES
            return figures
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "both", both=True)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"# personal data on {machine()}")
    for backend in backends(args.backend):
        figures = run(backend, args.members, args.rounds)
        medians = {name: statistics.median(values) for name, values in figures.items()}
        print(f"{backend}: " + ", ".join(f"{k} {v:,.1f}" for k, v in medians.items()))
        for what in ("registrations/s", "writer CPU µs a registration", "cold loads/s"):
            print(f"{backend}: {what} on/off ×{medians[f'{what} on'] / medians[f'{what} off']:.3f}")


if __name__ == "__main__":
    main()
