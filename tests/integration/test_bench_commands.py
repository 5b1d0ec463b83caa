"""`bench.commands` (the in-process command throughput benchmark) runs each of its ways on both
backends: a short run in a subprocess, so that the benchmark cannot rot unnoticed. Its figures
are for `bench/`, never asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURE = re.compile(r"(?P<name>[^,]+?) (?P<value>-?[\d,]+\.\d)(?:, |$)")


def figures_of(line: str) -> dict[str, float]:
    """The figures of one backend's line: `sqlite: naive commands/s 1,234.5, …`."""
    return {m["name"]: float(m["value"].replace(",", ""))
            for m in FIGURE.finditer(line.split(": ", 1)[1])}


def test_every_way_commits_every_command_and_the_projections_catch_up(
        backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "postgres":
        request.getfixturevalue("postgres_template")  # skipped, or failed under CI, without one

    done = subprocess.run(
        [sys.executable, "-m", "bench.commands", "--backend", backend, "--commands", "300",
         "--naive-commands", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)

    # Every command committed and the projections caught up, else the benchmark fails.
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith(f"{backend}: "))
    figures = figures_of(line)
    assert figures["commands per transaction"] > 1  # grouped: submitted at once, not in turn
    for name in ("naive commands/s", "group-commit commands/s", "write path alone commands/s",
                 "writer CPU µs a command", "alone writer CPU µs a command"):
        assert figures[name] > 0, name
