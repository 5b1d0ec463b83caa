"""Reads of balances, passbooks and boards from a read replica (`LINLI_READ_DATABASE_URL`),
each still seeing the caller's own writes.

A replica that holds them serves the read; one that lags behind them (here: a database the
views never reach) or is out of reach (a closed port) leaves it to the primary after a short
wait, and the answer is the same.
The failover test (tests/ha/) reads from a real streaming standby.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.bootstrap import Linli
from projections.replica import RETRY_SECONDS
from tests.conftest import admin_client, backend_database, running_linli, settings_for
from tests.scenario import Town


def _served_with_replica(database_url: str, replica_url: str) -> Iterator[tuple[Linli, Town]]:
    settings = settings_for(database_url).model_copy(
        update={"read_database_url": replica_url, "replica_wait_seconds": 0.2})
    with running_linli(settings) as linli, admin_client(linli) as client:
        yield linli, Town.standard(client)


@pytest.fixture
def caught_up_replica(database_url: str) -> Iterator[tuple[Linli, Town]]:
    """The primary itself named as the replica: one that always holds every write."""
    yield from _served_with_replica(database_url, database_url)


@pytest.fixture
def lagging_replica(database_url: str, backend: str, tmp_path: Path,
                    request: pytest.FixtureRequest) -> Iterator[tuple[Linli, Town]]:
    """A replica whose views never reach the primary's writes."""
    folder = tmp_path / "replica"
    folder.mkdir()
    with backend_database(backend, folder, "linli_replica_", request) as stale:
        yield from _served_with_replica(database_url, stale)


@pytest.fixture
def unreachable_replica(database_url: str) -> Iterator[tuple[Linli, Town]]:
    """A replica on a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield from _served_with_replica(database_url,
                                    f"postgresql://linli@127.0.0.1:{port}/linli_replica")


def test_a_replica_holding_the_writes_serves_the_reads(caught_up_replica):
    linli, town = caught_up_replica
    town.award(30)
    assert town.client.get(f"/v1/members/{town.member_id}/balance").json()["points"] == 30
    lines = town.client.get(f"/v1/members/{town.member_id}/passbook").json()["items"]
    assert [line["amount"] for line in lines] == [30]
    assert linli.replica is not None
    assert linli.replica.reads >= 2 and linli.replica.fallbacks == 0
    metrics = town.client.get("/metrics").text
    assert "linli_replica_reads" in metrics


def test_a_lagging_replica_leaves_the_read_to_the_primary_and_the_caller_sees_its_write(
        lagging_replica):
    linli, town = lagging_replica
    town.award(30)
    assert town.client.get(f"/v1/members/{town.member_id}/balance").json()["points"] == 30
    board = town.client.get("/v1/leaderboards", params={
        "community_id": town.community_id, "period": "all"}).json()["items"]
    assert [item["earned"] for item in board] == [30]
    assert linli.replica is not None
    assert linli.replica.fallbacks >= 2 and linli.replica.reads == 0


def test_a_replica_out_of_reach_is_logged_once_and_again_once_it_is_reached(
        unreachable_replica, caplog, monkeypatch):
    """Found out of reach, the replica is left alone for `RETRY_SECONDS` (every read served
    by the primary at once, not after a wait each), then tried again."""
    linli, town = unreachable_replica
    replica = linli.replica
    assert replica is not None
    now = [0.0]
    monkeypatch.setattr(replica, "clock", lambda: now[0])
    tries: list[int] = []
    reaches = replica._refresh_reaches
    monkeypatch.setattr(replica, "_refresh_reaches",
                        lambda position: tries.append(position) or reaches(position))
    town.award(30)
    balance = f"/v1/members/{town.member_id}/balance"
    with caplog.at_level(logging.INFO, logger="projections.replica"):
        for _ in range(5):
            assert town.client.get(balance).json()["points"] == 30
        assert len(tries) == 1 and replica.fallbacks >= 5
        replica.engine = linli.engine  # the replica comes back
        assert town.client.get(balance).json()["points"] == 30
        assert len(tries) == 1  # not tried again yet
        now[0] += RETRY_SECONDS
        assert town.client.get(balance).json()["points"] == 30
    said = [r.getMessage() for r in caplog.get_records("setup") + caplog.records
            if r.name == "projections.replica"]
    assert len(said) == 2, said
    assert "out of reach" in said[0] and said[1] == "the read replica is reached again"
    assert len(tries) == 2 and replica.reads >= 1
