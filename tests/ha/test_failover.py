"""Linli on the Patroni cluster: its primary killed -9 twice under HTTP load, nothing
acknowledged is lost.

`linli serve` connects with the multi-host URL (`target_session_attrs=read-write`) and reads
balances, passbooks and boards from the standbys (`LINLI_READ_DATABASE_URL` with
`target_session_attrs=prefer-standby`). Clients send keyed redemptions and awards; the
primary's postmaster is killed, Patroni promotes the synchronous standby, the old primary is
rewound and rejoins, and the primary is killed again. Every 201 is in the new primary's log
exactly once, every unanswered request retried with its key settles exactly once, no answer
is a 500, balances equal the acknowledged history, and `linli verify` passes on the promoted
primary.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.failover import writes_through_failures
from harness.patroni import Cluster, ha_available, requires_ha
from harness.served import Served, run_cli

pytestmark = requires_ha

NEW_LEADER_WITHIN = 30.0  # seconds from a kill to a promoted primary (measured: 2 to 4)


def standby_url(url: str) -> str:
    """The cluster's URL for reads that prefer a standby."""
    return url.replace("target_session_attrs=read-write", "target_session_attrs=prefer-standby")


def test_a_primary_killed_twice_under_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    if not ha_available():
        pytest.fail("CI=true and Patroni is not installed")
    cluster = Cluster()
    try:
        url = cluster.up()  # the keys are the test run's (tests/conftest.py)
        with Served(url, tmp_path / "serve.log",
                    LINLI_READ_DATABASE_URL=standby_url(url)) as served:
            old_leaders: list[str] = []

            def kill_primary() -> None:
                old_leaders.append(cluster.kill_primary_postmaster())

            def promoted_and_rejoined() -> None:
                cluster.wait_for_new_leader(old_leaders[-1], timeout=NEW_LEADER_WITHIN)
                cluster.wait_until_healthy(timeout=90)  # the next kill has a standby to promote

            figures = writes_through_failures(served, kill_primary, promoted_and_rejoined,
                                              failures=2, writes=300, clients=8, seed=37)
            print(figures.line("failover"))
            assert figures.problems == []
            assert figures.failures == 2 and figures.writes >= 300
            assert len(figures.recoveries) == 2, figures.line("failover")
            with httpx.Client(base_url=served.url) as http:
                assert http.get("/readyz").status_code == 200
                metrics = http.get("/metrics", headers={
                    "Authorization": f"Bearer {served.env['LINLI_ADMIN_TOKEN']}"}).text
            assert "linli_replica_reads" in metrics
        new, _ = cluster.leader()
        assert new != old_leaders[-1]
        # The old primaries stream from the new one again (rewound where their WAL had run
        # past the promotion).
        cluster.wait_until_healthy(timeout=90)
        print("rewound:", {old: cluster.rewound(old) for old in old_leaders})
        done = run_cli(url, "verify")
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        cluster.down()
