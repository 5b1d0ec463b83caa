"""Soak: Jepsen's bank test (redemptions and refunds among fixed accounts) and a hot account.

    python -m bench.soak_bank [--backend postgres|sqlite] [--seconds 120] [--clients 8]
"""

from __future__ import annotations

from bench.soak import arguments, report, with_server
from harness.scenarios import Figures, bank, hot_account


def main() -> None:
    args = arguments(__doc__ or "", seconds=(float, 120.0, "how long the bank runs"),
                     clients=(int, 8, "concurrent bank clients"),
                     hot_rounds=(int, 20, "rounds of 50 tills on one member"))

    def run(served):  # type: ignore[no-untyped-def]
        money = bank(served, clients=args.clients, seconds=args.seconds, seed=args.seed)
        hot = hot_account(served, clients=50, rounds=args.hot_rounds, within_seconds=10)
        print(f"hot account: {hot.line('hot-account')}")
        return Figures(seconds=money.seconds + hot.seconds,
                       requests=money.requests + hot.requests,
                       operations=money.operations + hot.operations,
                       retries=money.retries + hot.retries, audits=money.audits,
                       slowest_seconds=hot.slowest_seconds,
                       problems=money.problems + hot.problems)

    report("bank+hot-account", args.backend, with_server(args.backend, run))


if __name__ == "__main__":
    main()
