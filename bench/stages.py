"""CPU of each stage of a redemption in the writer, Linli's way beside the library's own, in
the same process: building the commands, running them against cached aggregates (their
events triggered), encoding and sealing the events, decoding them, and loading accounts
from the store. The library's way is `Aggregate.trigger_event` and `_create`, its
`JSONTranscoder`, its mapper's `StoredEvent` then sealed, and its `project_aggregate`; Linli's
is `LedgerAggregate`, `OrjsonTranscoder`, `ChainMapper.to_payload` sealed in one `StoredEvent`,
and `replay`. Each figure is the least of several rounds, in µs of CPU a command: steadier than
throughput on a shared machine.

    python -m bench.stages [--backend sqlite|postgres] [--commands 2000] [--rounds 7]
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import JSONTranscoder

from api.bootstrap import Linli, open_linli
from bench.args import add_backend, add_commands, add_rounds, parser_for
from bench.common import machine, populate, scratch_database
from ledger import chain, ids
from ledger.actor import Actor, Role
from ledger.application import replay
from ledger.commands import points
from ledger.domain import base
from ledger.domain.assets import Asset
from ledger.settings import Settings
from ledger.write.unit_of_work import UnitOfWork


@contextmanager
def librarys_way(linli: Linli) -> Iterator[Callable[..., Any]]:
    """The library's own event building and JSON while inside; yields its projector."""
    mapper = linli.app.mapper
    ours = mapper.transcoder
    library = JSONTranscoder()
    linli.app.register_transcodings(library)
    mapper.transcoder = library
    try:
        with base.librarys_own_way():
            yield project_aggregate
    finally:
        mapper.transcoder = ours


def stages(linli: Linli, merchant: Any, members: list[Any], commands: int, rounds: int,
           projector: Callable[..., Any], fused: bool) -> dict[str, float]:
    writer = linli.writer
    till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
    mapper = linli.app.mapper
    assert isinstance(mapper, chain.ChainMapper)
    accounts = [ids.account_id(m, Asset.POINTS.value) for m in members[:500]]
    best: dict[str, float] = {}

    def clock(name: str, started: float, count: int = commands) -> float:
        now = time.process_time()
        best[name] = min(best.get(name, float("inf")), (now - started) / count * 1e6)
        return now

    gc.disable()
    try:
        for _ in range(rounds):
            started = time.process_time()
            built = [points.redeem(merchant, members[i % len(members)], 1, "bench", till,
                                   now=linli.clock()) for i in range(commands)]
            started = clock("build", started)
            units = []
            for command in built:  # the aggregates stay cached; their events are not saved
                unit = UnitOfWork(writer.cache)
                command(unit)
                units.append(unit)
            started = clock("run", started)
            events = [e for u in units for a in u.changed() for e in a.collect_events()]
            started = clock("collect", started)
            if fused:  # Linli's: one StoredEvent an event
                stored = [chain.sealed(mapper.to_payload(e), chain.GENESIS)[0] for e in events]
            else:
                stored = [chain.seal(mapper.to_stored_event(e), chain.GENESIS)[0]
                          for e in events]
            started = clock("encode and seal", started)
            for event in stored:
                mapper.to_domain_event(event)
            started = clock("decode", started)
            for account in accounts:
                linli.app.repository.get(account, projector_func=projector)
            clock("load an account", started, len(accounts))
    finally:
        gc.enable()
    return best


def _least(into: dict[str, float], figures: dict[str, float]) -> None:
    for name, value in figures.items():
        into[name] = min(into.get(name, value), value)


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "sqlite")
    add_commands(parser, 2_000)
    add_rounds(parser, 7)
    args = parser.parse_args()
    print(f"# stages on {machine()}")
    with scratch_database(args.backend) as url:
        linli = open_linli(Settings(database_url=url))
        linli.start()
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=100)
            library: dict[str, float] = {}
            ours: dict[str, float] = {}
            for _ in range(2):  # taking turns, so neither way has the machine's quieter time
                with librarys_way(linli) as projector:
                    _least(library, stages(linli, merchant, members, args.commands,
                                           args.rounds, projector, fused=False))
                _least(ours, stages(linli, merchant, members, args.commands, args.rounds,
                                    replay, fused=True))
        finally:
            linli.close()
    for name in library:
        print(f"{args.backend} {name}: library {library[name]:.1f} µs, linli {ours[name]:.1f} µs "
              f"(×{ours[name] / library[name]:.2f})")
    total = [sum(v for k, v in figures.items() if k in ("run", "collect", "encode and seal"))
             for figures in (library, ours)]
    print(f"{args.backend} the writer's share (run, collect, encode and seal): library "
          f"{total[0]:.1f} µs, linli {total[1]:.1f} µs (×{total[1] / total[0]:.2f})")


if __name__ == "__main__":
    main()
