"""The database dies under load and comes back: `linli serve` rides it out by itself.

A PostgreSQL server of the test's own is killed -9 (postmaster and backends: a power cut as
the database sees it) twice while clients send keyed redemptions and awards, and started again
a few seconds later. Requests meanwhile are answered 503 with Retry-After, never 500; the
writer, the projection process and the periodic jobs reconnect without a restart; every 201 is
in the log once, every retry with its key settles, balances are as acknowledged, verify passes.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.failover import ADMIN, writes_through_failures
from harness.pg_instance import PostgresInstance, postgres_bin
from harness.scenarios import populate_over_http
from harness.served import Served, run_cli

DOWN_SECONDS = 3.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def database() -> Iterator[PostgresInstance]:
    if postgres_bin() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true and PostgreSQL's server programs (initdb) are not installed")
        pytest.skip("PostgreSQL's server programs (initdb) are not installed")
    # Not under pytest's folder: the server runs as `postgres`, which may not enter it.
    instance = PostgresInstance(Path(tempfile.mkdtemp(prefix="linli-pg-")), _free_port())
    instance.create()
    try:
        yield instance
    finally:
        instance.destroy()


def test_a_primary_killed_and_restarted_loses_nothing_and_answers_no_500(database, tmp_path):
    with Served(database.url, tmp_path / "serve.log") as served:

        def restart() -> None:
            time.sleep(DOWN_SECONDS)
            database.start()

        figures = writes_through_failures(served, database.kill, restart, failures=2,
                                          writes=240, clients=6, seed=11)
        print(figures.line("primary restarted"))
        assert figures.problems == []
        assert figures.failures == 2
        assert figures.writes >= 240
        # Every failure was felt, then got over: a 201 after each, within seconds of its end.
        assert len(figures.recoveries) == 2
        assert all(r < DOWN_SECONDS + 10 for r in figures.recoveries), figures.line("restart")
        with httpx.Client(base_url=served.url) as http:
            ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text  # the projection process lived through it
    assert run_cli(database.url, "verify").returncode == 0


def test_while_the_database_is_down_reads_and_writes_get_503_with_retry_after(database,
                                                                              tmp_path):
    with Served(database.url, tmp_path / "serve.log") as served:
        population = populate_over_http(served.url, members=1, merchants=1, points_each=10)
        member = population.members[0]
        with httpx.Client(base_url=served.url, headers=ADMIN, timeout=30) as http:
            database.kill()
            read = http.get(f"/v1/members/{member}/balance")
            award = {"member_id": member, "rule_code": "GIFT", "quantity": 5}
            key = {"Idempotency-Key": "award-while-down"}
            first = http.post("/v1/awards", json=award, headers=key)
            for response in (read, first):
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"].isdigit()
                assert response.headers["content-type"] == "application/problem+json"
                problem = response.json()
                assert problem["type"].endswith("/unavailable")
                assert "数据库" in problem["detail"]  # Chinese by default
            assert http.get("/readyz").status_code == 503
            database.start()
            deadline = time.monotonic() + 30
            while (again := http.post("/v1/awards", json=award, headers=key)).status_code \
                    == 503 and time.monotonic() < deadline:
                time.sleep(float(again.headers["retry-after"]))
            assert again.status_code == 201, again.text
            assert http.post("/v1/awards", json=award, headers=key).json() == again.json()
            assert http.get(f"/v1/members/{member}/balance").json()["points"] == 15
