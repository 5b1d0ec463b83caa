"""Soak: keyed redemptions while `linli serve` is killed -9 and its connections are cut.

    python -m bench.soak_crash [--backend postgres|sqlite] [--redemptions 3000] [--kills 12]
"""

from __future__ import annotations

from bench.soak import arguments, report, with_server
from harness.scenarios import crash_and_retry


def main() -> None:
    args = arguments(__doc__ or "", redemptions=(int, 3_000, "keyed redemptions"),
                     clients=(int, 8, "concurrent clients"), kills=(int, 12, "kill -9"),
                     terminations=(int, 24, "pg_terminate_backend (PostgreSQL)"))
    figures = with_server(args.backend, lambda served: crash_and_retry(
        served, redemptions=args.redemptions, clients=args.clients, seed=args.seed,
        kills=args.kills, terminations=args.terminations, limit_seconds=3_600))
    report("crash-and-retry", args.backend, figures)


if __name__ == "__main__":
    main()
