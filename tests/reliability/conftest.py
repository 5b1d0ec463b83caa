"""A `linli serve` subprocess on each backend's fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.served import Served


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with Served(database_url, tmp_path / "serve.log") as running:
        yield running
