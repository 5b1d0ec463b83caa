"""`bench.commands` (goal 2's benchmark) runs each of its ways on both backends: a short run,
so that the benchmark cannot rot unnoticed. Its figures are for `bench/`, never asserted here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.gc_tuning import untune_gc
from bench import commands


@pytest.fixture
def tuned_back() -> Iterator[None]:
    yield
    untune_gc()  # the benchmark tunes the collector as `linli serve` does


def test_every_way_commits_every_command_and_the_projections_catch_up(
        backend: str, request: pytest.FixtureRequest, tuned_back: None) -> None:
    if backend == "postgres":
        request.getfixturevalue("postgres_template")  # skipped, or failed under CI, without one

    figures = commands.run(backend, commands=300, naive_commands=20)

    assert figures["commands per transaction"] > 1  # grouped: submitted at once, not in turn
    for name in ("naive commands/s", "group-commit commands/s", "write path alone commands/s",
                 "writer CPU µs a command", "alone writer CPU µs a command"):
        assert figures[name] > 0, name  # every command committed (else `run` raises), and
    # the projections caught up after the write path ran alone (else `run` raises too)
