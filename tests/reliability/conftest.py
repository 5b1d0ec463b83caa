"""`linli serve` subprocesses: one per test on a fresh database, or one per backend per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.served import Served
from tests.conftest import BACKENDS, backend_database


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with Served(database_url, tmp_path / "serve.log") as running:
        yield running


@pytest.fixture(scope="session", params=BACKENDS)
def shared_served(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per backend for the whole run (each test makes its own community)."""
    folder = tmp_path_factory.mktemp("served")
    with (backend_database(request.param, folder, "linli_r_", request) as url,
          Served(url, folder / "serve.log") as running):
        yield running
