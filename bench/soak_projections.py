"""Soak: the projection worker killed -9 again and again during a long replay.

    python -m bench.soak_projections [--backend postgres|sqlite] [--members 5000] [--kills 20]
"""

from __future__ import annotations

from bench.common import scratch_database
from bench.soak import arguments, report
from harness.projection_crash import fill, replay_through_kills


def main() -> None:
    args = arguments(__doc__ or "", members=(int, 5_000, "members (about 6 events each)"),
                     kills=(int, 20, "kill -9 of the worker"))
    with scratch_database(args.backend) as url:
        from ledger.settings import Settings
        from projections.schema import migrate

        migrate(Settings(database_url=url))
        linli = fill(url, members=args.members)
        try:
            figures = replay_through_kills(linli, kills=args.kills, seed=args.seed,
                                           batch_events=200)
        finally:
            linli.close()
    print("(requests = events replayed by the fresh rebuild; operations = kills)")
    report("projections", args.backend, figures)


if __name__ == "__main__":
    main()
