"""`linli serve` subprocesses: one per test on a fresh database, or one per backend per run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.served import Served
from tests.conftest import BACKENDS, _admin_connection, _database_url


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with Served(database_url, tmp_path / "serve.log") as running:
        yield running


@pytest.fixture(scope="session", params=BACKENDS)
def shared_served(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per backend for the whole run (each test makes its own community)."""
    folder = tmp_path_factory.mktemp("served")
    if request.param == "sqlite":
        with Served(f"sqlite:///{folder / 'linli.db'}", folder / "serve.log") as running:
            yield running
        return
    template = request.getfixturevalue("postgres_template")
    name = f"linli_r_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        with Served(_database_url(name), folder / "serve.log") as running:
            yield running
    finally:
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
