"""A primary killed with `kill -9`: Patroni promotes the synchronous standby within seconds,
every synchronously committed row is on the new primary, and the old primary comes back as a
standby after pg_rewind."""

from __future__ import annotations

import time

import psycopg
import pytest

from harness.patroni import Cluster, ha_available, requires_ha

pytestmark = requires_ha

NEW_LEADER_WITHIN = 15  # seconds from the kill to a read-write leader (measured: 2 to 4)


def committed(url: str, sql: str, *params: object, synchronous_commit: str = "on") -> int:
    """Run one insert through `url` with `synchronous_commit`; return the row's id."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"set synchronous_commit = {synchronous_commit}")
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def read_write(url: str, timeout: float = 30) -> psycopg.Connection:
    """Connect through the multi-host URL, retrying until a primary answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=2)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_kill_primary_promotes_sync_standby_and_old_primary_rejoins() -> None:
    if not ha_available():
        pytest.fail("CI=true and Patroni is not installed")
    cluster = Cluster()
    try:
        url = cluster.up()
        assert url.endswith("/postgres?target_session_attrs=read-write")
        old, old_port = cluster.leader()
        assert cluster.sync_standby() is not None
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.info.port == old_port  # the URL found the primary
            conn.execute("create table points (id serial primary key, what text not null)")
        synced = committed(url, "insert into points (what) values (%s) returning id", "synced")

        # A last write the standbys never receive: committed on the primary alone
        # (synchronous_commit = local), so it is not acknowledged by the cluster and the old
        # primary's WAL runs past the point where the new one takes over.
        cluster.freeze_wal_senders()
        local = committed(url, "insert into points (what) values (%s) returning id", "local only",
                          synchronous_commit="local")
        assert cluster.kill_primary_postmaster() == old

        seconds = cluster.wait_for_new_leader(old, timeout=NEW_LEADER_WITHIN + 10)
        new, new_port = cluster.leader()
        print(f"kill -9 of {old}'s postmaster → {new} leads after {seconds:.1f} s")
        assert seconds < NEW_LEADER_WITHIN
        with read_write(url) as conn:
            assert conn.info.port == new_port
            rows: dict[int, str] = dict(conn.execute("select id, what from points").fetchall())
            assert rows == {synced: "synced"}, rows  # not the local-only row (id local)
            conn.execute("insert into points (what) values ('after the failover')")
        assert local not in rows

        healthy = cluster.wait_until_healthy(timeout=60)
        print(f"{old} streams again {healthy:.1f} s after the kill")
        roles = {m.name: m.role for m in cluster.members()}
        assert roles[old] in ("replica", "sync_standby")
        assert cluster.rewound(old), cluster.logs()
        with cluster.connect(old) as conn:
            assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
            # What it had alone is gone; what the new primary wrote has arrived.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                whats = [r[0] for r in conn.execute("select what from points order by id")]
                if "after the failover" in whats:
                    break
                time.sleep(0.2)
            assert whats == ["synced", "after the failover"]
    finally:
        cluster.down()
