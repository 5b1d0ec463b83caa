"""Projections keep up: the lag between a commit and its arrival in every view, under a steady
stream of redemptions; and the rate of a full rebuild.

    python -m bench.projections [--backend postgres|sqlite] [--rate 500] [--seconds 10]
                                [--rebuild-events 100000]
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from bench.args import add_backend, add_seconds, parser_for
from bench.common import (
    backends,
    machine,
    open_bench,
    percentile,
    populate,
    scratch_database,
    vacuum,
)
from ledger.actor import Actor, Role
from ledger.commands import points
from projections.runner import ProjectionRunner


def run(backend: str, rate: float, seconds: float, rebuild_events: int) -> None:
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=1_000)
            linli.read_your_writes()
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)  # type: ignore[arg-type]
            committed: dict[int, float] = {}
            lags: list[float] = []
            done = threading.Event()
            wake = linli.writer.on_commit

            def on_commit(position: int) -> None:
                committed[position] = time.perf_counter()
                if wake is not None:
                    wake(position)

            def sample() -> None:
                while not done.is_set() or committed:
                    applied = linli.projections.position
                    now = time.perf_counter()
                    for position in [p for p in list(committed) if p <= applied]:
                        lags.append(now - committed.pop(position))
                    time.sleep(0.002)

            linli.writer.on_commit = on_commit
            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            sent = 0
            futures = []
            while (elapsed := time.perf_counter() - started) < seconds:
                while sent < elapsed * rate:
                    futures.append(linli.writer.submit(points.redeem(
                        merchant, members[sent % len(members)], 1, "bench", till,  # type: ignore[arg-type]
                        now=datetime.now(UTC))))
                    sent += 1
                time.sleep(0.001)
            for future in futures:
                future.result(timeout=600)
            achieved = sent / (time.perf_counter() - started)
            done.set()
            sampler.join(timeout=120)
            print(f"{backend}: {achieved:,.0f} redemptions/s offered {rate:,.0f}; projection lag "
                  f"p50 {percentile(lags, 0.5) * 1000:.0f} ms, p99 "
                  f"{percentile(lags, 0.99) * 1000:.0f} ms over {len(lags)} commits")

            extra = rebuild_events - linli.writer.last_position
            for start in range(0, max(0, extra) // 3, 1_000):  # 3 events per redemption
                batch = [linli.writer.submit(points.redeem(
                    merchant, members[i % len(members)], 1, "bench", till,  # type: ignore[arg-type]
                    now=datetime.now(UTC))) for i in range(start, start + 1_000)]
                for future in batch:
                    future.result(timeout=600)
            linli.projections.stop()
            runner = ProjectionRunner(linli.app, linli.engine,
                                      batch_events=linli.settings.projection_batch_events)
            logged = linli.app.recorder.max_notification_id() or 0
            vacuum(url)
            started = time.perf_counter()
            for view in runner.views:  # the baseline: one view at a time, the log read each
                runner.rebuild([view.name])
            one_by_one = time.perf_counter() - started
            vacuum(url)  # each rebuild starts with the dead rows of the last one swept away
            started = time.perf_counter()
            replayed = runner.rebuild()
            took = time.perf_counter() - started
            print(f"{backend}: rebuilt every view from a log of {logged:,} events "
                  f"({replayed:,} of them for the views) in {took:.1f} s: "
                  f"{logged / took:,.0f} events of the log/s, {replayed / took:,.0f} "
                  f"events for the views/s; one view at a time {one_by_one:.1f} s, "
                  f"{replayed / one_by_one:,.0f} events for the views/s "
                  f"(x{one_by_one / took:.2f})")
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "both", both=True)
    parser.add_argument("--rate", type=float, default=500)
    add_seconds(parser, 10)
    parser.add_argument("--rebuild-events", type=int, default=100_000)
    args = parser.parse_args()
    print(f"# projections on {machine()}")
    for backend in backends(args.backend):
        run(backend, args.rate, args.seconds, args.rebuild_events)


if __name__ == "__main__":
    main()
