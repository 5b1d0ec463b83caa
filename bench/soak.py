"""Shared by the soak scripts: a scratch database, a served process, a report line."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.args import add_backend, add_seed, parser_for
from bench.common import machine, scratch_database
from harness.scenarios import Figures
from harness.served import Served


def arguments(description: str, **extra: tuple[type, object, str]) -> argparse.Namespace:
    parser = parser_for(description)
    add_backend(parser, "postgres")
    add_seed(parser, 2026)
    for name, (kind, default, text) in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default,
                            help=text)
    return parser.parse_args()


def report(name: str, backend: str, figures: Figures) -> None:
    print(f"# {machine()}")
    print(f"{name} on {backend}: {figures.line(name)}")
    for problem in figures.problems[:20]:
        print(f"FAILURE: {problem}")
    sys.exit(1 if figures.problems else 0)


def with_server(backend: str, run: Callable[[Served], Figures]) -> Figures:
    with scratch_database(backend) as url, tempfile.TemporaryDirectory() as folder:
        from ledger.settings import Settings
        from projections.schema import migrate

        migrate(Settings(database_url=url))
        served = Served(url, Path(folder) / "serve.log")
        with served:
            return run(served)
