"""Cost independent of history: a redemption on an account with a long past against one on a
new account, warm (the aggregate in the writer's memory) and cold (loaded from its latest
snapshot and the events after it). And of the state's size: a redemption by a member holding
`--lots` unspent awards (each a lot of the account's state) against one holding one.

    python -m bench.history [--backend postgres|sqlite] [--history 100000] [--lots 1000]
                            [--samples 300]
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

from api.bootstrap import Linli
from bench.args import add_backend, parser_for
from bench.common import ADMIN, backends, machine, open_bench, percentile, scratch_database
from harness.populate import found
from ledger.actor import Actor, Role
from ledger.commands import points, registry


def _history(linli: Linli, member: UUID, merchant: UUID, events: int) -> None:
    """`events` postings on the member's points account: one award, then redemptions.

    (Each unspent award stays a lot of the account's state, so a history of many unspent
    awards is a different question: state size, not history length.)
    """
    till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
    now = datetime.now(UTC)
    linli.writer.execute(points.award(member, "GIFT", quantity=1_000, minutes=None,
                                      occurred_at=None, note="", now=now, by=ADMIN))
    for _ in range(0, events // 1_000 + 1):
        linli.writer.execute(points.award(member, "GIFT", quantity=1_000, minutes=None,
                                          occurred_at=None, note="", now=now, by=ADMIN))
        futures = [linli.writer.submit(points.redeem(merchant, member, 1, "bench", till,
                                                     now=now)) for _ in range(1_000)]
        for future in futures:
            future.result(timeout=600)


def _p50_ms(linli: Linli, member: UUID, merchant: UUID, samples: int, cold: bool) -> float:
    till = Actor("bench:till", Role.MERCHANT, merchant_id=merchant)
    took = []
    for _ in range(samples):
        if cold:
            linli.writer.cache.aggregates.clear()  # a cold start, on purpose
        started = time.perf_counter()
        linli.writer.execute(points.redeem(merchant, member, 1, "bench", till,
                                           now=datetime.now(UTC)))
        took.append(time.perf_counter() - started)
    return percentile(took, 0.5) * 1000


def run(backend: str, history: int, held_lots: int, samples: int) -> None:
    with scratch_database(backend) as url:
        linli = open_bench(url)
        try:
            community = found(linli.writer)
            linli.writer.execute(registry.put_rule(
                community, "GIFT", name="gift", points=1, unit="each", daily_cap=None,
                monthly_cap=None, requires_approval=False, by=ADMIN))
            merchant = linli.writer.execute(registry.register_merchant(community, "shop",
                                                                       ADMIN)).id
            old, new, hoarder = (linli.writer.execute(registry.register_member(
                community, name, None, None, ADMIN)).id for name in ("old", "new", "hoarder"))
            started = time.perf_counter()
            _history(linli, old, merchant, history)
            built = time.perf_counter() - started
            for member in (new,):
                linli.writer.execute(points.award(member, "GIFT", quantity=4 * samples,
                                                  minutes=None, occurred_at=None, note="",
                                                  now=datetime.now(UTC), by=ADMIN))
            awards = [linli.writer.submit(points.award(
                hoarder, "GIFT", quantity=4 * samples if n == 0 else 1, minutes=None,
                occurred_at=None, note="", now=datetime.now(UTC), by=ADMIN))
                for n in range(held_lots)]
            for award in awards:
                award.result(timeout=600)
            linli.projections.stop()  # measure the command alone
            print(f"{backend}: built a history of {history:,} postings in {built:.0f} s")
            for cold in (False, True):
                # interleave, so all see the same machine
                taken: dict[UUID, list[float]] = {old: [], new: [], hoarder: []}
                for _ in range(3):
                    for member, times in taken.items():
                        times.append(_p50_ms(linli, member, merchant, samples // 3, cold))
                o, n, h = (sorted(times)[1] for times in taken.values())
                phase = "cold" if cold else "warm"
                print(f"{backend} {phase}: redemption p50 {o:.2f} ms on the account with "
                      f"history, {n:.2f} ms on a new one, ratio {o / n:.2f}")
                print(f"{backend} {phase}: redemption p50 {h:.2f} ms by a member holding "
                      f"{held_lots:,} unspent awards, {n:.2f} ms by one holding one, ratio "
                      f"{h / n:.2f}")
        finally:
            linli.close()


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "both", both=True)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--lots", type=int, default=1_000,
                        help="unspent awards the third member holds")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    print(f"# history on {machine()}")
    for backend in backends(args.backend):
        run(backend, args.history, args.lots, args.samples)


if __name__ == "__main__":
    main()
