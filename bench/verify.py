"""`linli verify` on a large store: events checked per second, and the chain's cost per write.

Fills a scratch database through the writer (redemptions: each stores a redemption and two
postings), seals the log, catches the projections up, then times `verify` (every hash, link,
checkpoint and the replay against the views).

    python -m bench.verify [--backend postgres|sqlite|both] [--events 1000000]
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any
from uuid import uuid4

from bench.args import add_backend, parser_for
from bench.common import backends, machine, open_bench, populate, scratch_database
from ledger.actor import Actor, Role
from ledger.chain import seal
from ledger.commands import points
from projections.verify import verify

CHUNK = 20_000


def hash_cost_microseconds(samples: int = 100_000) -> float:
    """What sealing one typical stored event costs (SHA-256 of ~600 bytes and the header)."""
    from eventsourcing.persistence import StoredEvent

    event = StoredEvent(uuid4(), 7, "ledger.domain.accounts:Account.Posted", b"x" * 600)
    started = time.perf_counter()
    for _ in range(samples):
        seal(event, bytes(32))
    return (time.perf_counter() - started) / samples * 1e6


def run(backend: str, events: int) -> dict[str, float]:
    with scratch_database(backend) as url:
        linli = open_bench(url, seal_interval_seconds=0, sweep_interval_seconds=0)
        try:
            _, merchant, members = populate(linli, members=2_000, points_each=1_000)
            till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)  # type: ignore[arg-type]
            started = time.perf_counter()
            i = 0
            while (linli.app.recorder.max_notification_id() or 0) < events:
                futures: list[Future[Any]] = [
                    linli.writer.submit(points.redeem(
                        merchant, members[(i + k) % len(members)], 1, "bench",  # type: ignore[arg-type]
                        till, now=linli.clock()))
                    for k in range(CHUNK)]
                for future in futures:
                    future.result(timeout=600)
                i += CHUNK
            stored = linli.app.recorder.max_notification_id() or 0
            writes = stored / (time.perf_counter() - started)
            assert linli.sealer is not None
            linli.sealer.seal()
            linli.projections.wait_for(stored, timeout=600)
            started = time.perf_counter()
            report = verify(linli.app, linli.engine)
            elapsed = time.perf_counter() - started
            assert report.ok, report.problems[:3]
            return {"events": report.events_checked, "verify seconds": elapsed,
                    "verify events/s": report.events_checked / elapsed,
                    "events written/s while filling": writes}
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "both", both=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"# verify on {machine()}")
    print(f"chain: {hash_cost_microseconds():.2f} µs to seal one event")
    for backend in backends(args.backend):
        figures = run(backend, args.events)
        print(f"{backend}: " + ", ".join(f"{k} {v:,.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
