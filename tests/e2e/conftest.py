"""The e2e tests' `town`: a community on a fixed clock.

The clock is fixed in 2098: awards are dated by it, while the event store stamps registrations
with the real clock, so every member of `town` was registered before the periods the tests rank.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Linli
from tests.scenario import Town

NOW = datetime(2098, 11, 23, 18, 0, tzinfo=UTC)  # 02:00 on 24 November in Shanghai


@pytest.fixture
def town(client: TestClient, linli: Linli) -> Town:
    """A bare community with the `GIFT` rule, its clock at `NOW`."""
    linli.clock = lambda: NOW
    return Town.found(client)
