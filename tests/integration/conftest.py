"""Fixtures of the integration tests: a community on a running Linli, and a second Linli on
the same database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.bootstrap import Linli, open_linli
from ledger.settings import Settings
from tests.scenario import CommandTown


@pytest.fixture
def town(linli: Linli) -> CommandTown:
    return CommandTown.found(linli)


@pytest.fixture
def other(settings: Settings) -> Iterator[Linli]:
    """A second Linli on the same database: it stands for a second API process."""
    running = open_linli(settings, run_migrations=False)
    running.start()
    yield running
    running.close()
