"""Memory of the writer's cache: what each cached member costs, and the process at the cap.

Populates `--members` members (a `Member` and a points `Account` each), opens a fresh Linli,
has its writer load every one of them in a fresh process, and prints the resident memory of
that process and its projection worker before and after, the bytes per cached aggregate, and,
when the members did not fill the cache (`LINLI_CACHE_MAX_AGGREGATES`, by default 20,000
aggregates), the memory a full one would take at that rate (what the memory target bounds).
With 10,000 members or more the cache is full. (A busy server's cache costs more: aggregates
come and go, and the allocator keeps the gaps they leave. `bench.http --members 100000
--seconds 30` gives that figure.) Then, in another fresh process, the memory once the writer
has warmed its cache at start (`LINLI_WARM_UP_SECONDS`), as `linli serve` does.

    python -m bench.memory [--backend postgres|sqlite] [--members 20000]
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

from bench.args import add_backend, add_members, parser_for
from bench.common import machine, open_bench, populate, rss_mb, scratch_database
from ledger import ids
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset
from ledger.domain.registry import Member
from ledger.settings import Settings
from ledger.write.unit_of_work import UnitOfWork

CHUNK = 500


def _load(member_ids: list[Any]) -> Any:
    def command(uow: UnitOfWork) -> None:
        for member_id in member_ids:
            uow.get(Member, member_id)
            uow.get(Account, ids.account_id(member_id, Asset.POINTS.value))

    return command


def _measure(url: str, member_ids: list[Any], answer: Any) -> None:
    """In a fresh process: RSS with the writer's cache empty, then holding every member."""
    linli = open_bench(url, warm_up_seconds=0)
    try:
        gc.collect()
        before = rss_mb(os.getpid())
        for start in range(0, len(member_ids), CHUNK):
            linli.writer.execute(_load(member_ids[start:start + CHUNK]))
        gc.collect()
        answer.send((before, rss_mb(os.getpid())))
    finally:
        linli.close()


def _measure_warmed(url: str, answer: Any) -> None:
    """In a fresh process: how long it took to start with the warm-up, and RSS (now and at
    its peak) then."""
    started = time.perf_counter()
    linli = open_bench(url)
    try:
        took = time.perf_counter() - started
        gc.collect()
        answer.send((linli.writer.cached_aggregates, took, rss_mb(os.getpid()),
                     rss_mb(os.getpid(), "VmHWM")))
    finally:
        linli.close()


def _in_a_fresh_process(target: Callable[..., None], *args: Any) -> Any:
    spawn = multiprocessing.get_context("spawn")  # not a Pool: its workers may not fork
    answer, sender = spawn.Pipe(duplex=False)
    measuring = spawn.Process(target=target, args=(*args, sender))
    measuring.start()
    figures = answer.recv()
    measuring.join()
    return figures


def run(backend: str, members: int) -> None:
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            _, _, member_ids = populate(linli, members=members, points_each=10)
        finally:
            linli.close()
        before, after = _in_a_fresh_process(_measure, url, member_ids)
        warmed, took, warmed_rss, warmed_peak = _in_a_fresh_process(_measure_warmed, url)
    cap = Settings().cache_max_aggregates
    cached = min(2 * members, cap)  # the writer forgets the least recently used past the cap
    per_aggregate = (after - before) * 1024 * 1024 / cached
    print(f"{backend}: {members:,} members loaded, {cached:,} aggregates cached: RSS "
          f"{before:.0f} MB before, {after:.0f} MB after; "
          f"{per_aggregate / 1024:.1f} KB per cached aggregate")
    print(f"{backend}: started with the warm-up in {took:.1f} s, {warmed:,} aggregates "
          f"cached: RSS {warmed_rss:.0f} MB, peak {warmed_peak:.0f} MB")
    if cached < cap:
        print(f"{backend}: with the cache full ({cap:,} aggregates): about "
              f"{before + per_aggregate * cap / 1024 / 1024:.0f} MB")


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 20_000)
    args = parser.parse_args()
    print(f"# memory on {machine()}")
    run(args.backend, args.members)


if __name__ == "__main__":
    main()
