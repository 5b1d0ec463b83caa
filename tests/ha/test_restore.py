"""A restore from a base backup and the WAL archive: pg_basebackup of the leader, a row written
after it, and the copy started as a standalone server on another port replays the archive up
to that row (docs/operations.md#backups)."""

from __future__ import annotations

import time

import psycopg
import pytest

from harness.patroni import PG_BIN, Cluster, ha_available, requires_ha

pytestmark = requires_ha


def test_base_backup_and_archive_restore_to_a_standalone_server() -> None:
    if not ha_available():
        pytest.fail("CI=true and Patroni is not installed")
    cluster = Cluster()
    restored = cluster.directory / "restored"
    port = cluster.spare_port
    try:
        url = cluster.up()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table points (id serial primary key, what text not null)")
            conn.execute("insert into points (what) values ('before the backup')")
        cluster.basebackup(restored)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("insert into points (what) values ('after the backup')")
        cluster.archive_current_wal()

        # The copy recovers from the archive to its end, then runs alone: no archiving into the
        # cluster's archive, no synchronous standby to wait for.
        cluster.run_as_cluster_user("touch", str(restored / "recovery.signal"))
        options = " ".join([
            f"-c port={port}", "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={cluster.directory / 'run'}",
            "-c archive_mode=off", "-c synchronous_standby_names=''",
            f"-c restore_command='cp {cluster.archive}/%f %p'",
            "-c logging_collector=off", "-c cluster_name=restored",
        ])
        log = cluster.directory / "restored.log"
        cluster.run_as_cluster_user(
            str(PG_BIN / "pg_ctl"), "-D", str(restored), "-l", str(log), "-o", options,
            "-w", "-t", "60", "start",
        )
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            deadline = time.monotonic() + 30
            while conn.execute("select pg_is_in_recovery()").fetchone() != (False,):
                assert time.monotonic() < deadline, "the restored copy is still recovering"
                time.sleep(0.2)
            whats = [r[0] for r in conn.execute("select what from points order by id")]
        assert whats == ["before the backup", "after the backup"]
        # The second row came from the archive, not from the backup's own WAL.
        assert "restored log file" in log.read_text()
    finally:
        if (restored / "postmaster.pid").exists():
            cluster.run_as_cluster_user(
                str(PG_BIN / "pg_ctl"), "-D", str(restored), "-m", "immediate", "-w", "stop")
        cluster.down()
