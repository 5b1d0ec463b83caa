"""Drive a local high-availability cluster (scripts/ha-up) from tests.

`Cluster` starts etcd and three PostgreSQL 15 members under Patroni in a directory of its own
(a fresh temporary one by default) on ports no other `Cluster` of this machine holds, kills the
primary's postmaster, and waits for Patroni to promote the synchronous standby and for the old
primary to come back as a streaming standby. State is read from Patroni's REST API
(`GET /cluster`) and from the leader's `pg_stat_replication`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
PG_BIN = Path(os.environ.get("LINLI_HA_PG_BIN", "/usr/lib/postgresql/15/bin"))
MEMBERS = ("member1", "member2", "member3")
# Port bases tried for clusters started here, 100 ports apart; scripts/ha-up's default (25430)
# is left to whoever runs it by hand.
_BASES = range(25530, 27530, 100)
# Offsets from the base: members, Patroni REST APIs, etcd, and a spare for a restored backup.
_OFFSETS = (1, 2, 3, 11, 12, 13, 20, 21, 30)


def ha_available() -> bool:
    """Tell whether Patroni, etcd and PostgreSQL 15 are installed here."""
    programs = ("patroni", "patronictl", "etcd", "etcdctl")
    return all(shutil.which(p) for p in programs) and (PG_BIN / "postgres").exists()


UNAVAILABLE = "needs patroni, etcd-server and etcd-client (scripts/setup --test installs them)"
# Skipped where Patroni is missing, except under CI=true: there the tests run and fail.
requires_ha = pytest.mark.skipif(
    not ha_available() and os.environ.get("CI", "").lower() != "true", reason=UNAVAILABLE)


@dataclass(frozen=True)
class Member:
    """One member as Patroni reports it."""

    name: str
    role: str  # leader, sync_standby or replica
    state: str  # running, stopped, starting, ...
    port: int
    timeline: int | None
    lag: int | str | None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _claim_port_base() -> tuple[int, IO[str]]:
    """Return a port base whose ports are free, with the open lock file that holds it."""
    for base in _BASES:
        lock = open(Path(tempfile.gettempdir()) / f"linli-ha-ports-{base}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        if all(_port_free(base + offset) for offset in _OFFSETS):
            return base, lock
        lock.close()
    raise RuntimeError("no free port base for a test cluster")


def as_cluster_user(command: list[str]) -> list[str]:
    """Prefix a command so it runs as the cluster's user (postgres when we are root)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]


class Cluster:
    """A local etcd + Patroni + PostgreSQL 15 cluster of three members, for tests."""

    def __init__(
        self, directory: Path | None = None, port_base: int | None = None,
        database: str = "postgres",
    ) -> None:
        self._lock: IO[str] | None = None
        if port_base is None:
            port_base, self._lock = _claim_port_base()
        self.port_base = port_base
        self.directory = directory or Path(tempfile.mkdtemp(prefix="linli-ha-"))
        self.database = database
        self.url = ""
        self.killed_at: float | None = None
        self._frozen: list[int] = []

    # -- starting and stopping

    def _env(self) -> dict[str, str]:
        return {
            **os.environ, "LINLI_HA_DIR": str(self.directory),
            "LINLI_HA_PORT_BASE": str(self.port_base), "LINLI_HA_DATABASE": self.database,
        }

    def up(self, timeout: float = 120) -> str:
        """Start the cluster (scripts/ha-up), wait until it is healthy; return Linli's URL."""
        done = subprocess.run(
            [str(SCRIPTS / "ha-up")], env={**self._env(), "LINLI_HA_TIMEOUT": str(int(timeout))},
            capture_output=True, text=True, timeout=timeout + 30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/ha-up failed:\n{done.stderr}{self.logs()}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def down(self, clean: bool = True) -> None:
        """Stop every process of the cluster (scripts/ha-down); remove its directory if clean."""
        subprocess.run(
            [str(SCRIPTS / "ha-down"), *(["--clean"] if clean else [])], env=self._env(),
            check=True, capture_output=True, timeout=120,
        )
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Cluster:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- state

    def member_port(self, name: str) -> int:
        """Return the PostgreSQL port of a member."""
        return self.port_base + int(name.removeprefix("member"))

    def data_dir(self, name: str) -> Path:
        """Return the data directory of a member."""
        return self.directory / name / "data"

    def _cluster_json(self) -> dict[str, Any]:
        for name in MEMBERS:
            port = self.port_base + 10 + int(name.removeprefix("member"))
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=2) as r:
                    data: dict[str, Any] = json.load(r)
                    return data
            except OSError:
                continue
        raise RuntimeError("no Patroni REST API answers")

    def members(self) -> list[Member]:
        """Return the members as Patroni's `GET /cluster` reports them."""
        return [
            Member(
                name=m["name"], role=m["role"], state=m.get("state", ""),
                port=int(m.get("port") or self.member_port(m["name"])),
                timeline=m.get("timeline"), lag=m.get("lag"),
            )
            for m in self._cluster_json()["members"]
        ]

    def leader(self) -> tuple[str, int]:
        """Return the leader's name and PostgreSQL port (raises when there is none)."""
        for m in self.members():
            if m.role == "leader":
                return m.name, m.port
        raise RuntimeError("the cluster has no leader")

    def primary(self, timeout: float = 30) -> str:
        """Wait until the member Patroni names leader takes read-write sessions (Patroni's
        view lags a moment behind a promotion); return its name."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(RuntimeError, psycopg.Error):
                name, _ = self.leader()
                with self.connect(name) as conn:
                    if conn.execute("select pg_is_in_recovery()").fetchone() == (False,):
                        return name
            if time.monotonic() > deadline:
                raise TimeoutError(f"no read-write leader within {timeout}s\n{self.status()}")
            time.sleep(0.1)

    def sync_standby(self) -> tuple[str, int] | None:
        """Return the synchronous standby's name and port, or None."""
        for m in self.members():
            if m.role == "sync_standby":
                return m.name, m.port
        return None

    def connect(self, name: str, **kwargs: Any) -> psycopg.Connection[Any]:
        """Open a connection to one member (not through the multi-host URL)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.member_port(name), user="postgres",
            dbname=self.database, connect_timeout=2, autocommit=True, **kwargs,
        )

    def streaming(self) -> dict[str, str]:
        """Return the leader's streaming standbys: name → sync_state (sync, async, ...)."""
        name, _ = self.leader()
        with self.connect(name) as conn:
            rows = conn.execute(
                "select application_name, sync_state from pg_stat_replication"
                " where state = 'streaming'"
            ).fetchall()
        return {row[0]: row[1] for row in rows}

    def healthy(self) -> bool:
        """Tell whether every member runs on the leader's timeline, both standbys streaming
        from it and the one Patroni names synchronous streaming as such."""
        try:
            members = self.members()
            leaders = [m for m in members if m.role == "leader"]
            sync = [m.name for m in members if m.role == "sync_standby"]
            if len(members) != len(MEMBERS) or len(leaders) != 1 or len(sync) != 1:
                return False
            if any(m.state != "running" or m.timeline != leaders[0].timeline for m in members):
                return False
            streaming = self.streaming()
        except (RuntimeError, psycopg.Error):
            return False
        return len(streaming) == len(MEMBERS) - 1 and streaming.get(sync[0]) == "sync"

    def status(self) -> str:
        """Return `patronictl list` of the cluster."""
        return subprocess.run(
            ["patronictl", "-c", str(self.directory / "patronictl.yml"), "list"],
            capture_output=True, text=True, timeout=30,
        ).stdout

    def logs(self, lines: int = 30) -> str:
        """Return the tail of each member's Patroni log, for a failure's message."""
        out = []
        for name in MEMBERS:
            log = self.directory / name / "patroni.log"
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(out)

    def rewound(self, name: str) -> bool:
        """Tell whether Patroni ran pg_rewind successfully on a member."""
        log = self.directory / name / "patroni.log"
        return log.exists() and "pg_rewind exit code=0" in log.read_text(errors="replace")

    # -- backups

    @property
    def archive(self) -> Path:
        """Return the directory the members' `archive_command` copies WAL segments into."""
        return self.directory / "archive"

    @property
    def spare_port(self) -> int:
        """Return a port of this cluster's range that no member uses (for a restored copy)."""
        return self.port_base + 30

    def run_as_cluster_user(self, *command: str, timeout: float = 120) -> str:
        """Run a program as the cluster's OS user; return its output (raises on failure)."""
        done = subprocess.run(
            as_cluster_user(list(command)), capture_output=True, text=True, timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def basebackup(self, target: Path) -> None:
        """Take a base backup of the leader into `target` (pg_basebackup, WAL streamed along)."""
        _, port = self.leader()
        self.run_as_cluster_user(
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(port), "-U", "replicator",
            "-D", str(target), "-X", "stream", "-c", "fast", "--no-password",
        )

    def archive_current_wal(self, timeout: float = 30) -> str:
        """Switch the leader to a new WAL segment and wait until the one holding everything
        written so far is in the archive; return its name."""
        name, _ = self.leader()
        with self.connect(name) as conn:
            row = conn.execute("select pg_walfile_name(pg_current_wal_lsn())").fetchone()
            assert row is not None
            segment = str(row[0])
            conn.execute("select pg_switch_wal()")
            deadline = time.monotonic() + timeout
            while not (self.archive / segment).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{segment} not archived within {timeout}s")
                time.sleep(0.1)
        return segment

    # -- failures

    def postmaster_pid(self, name: str) -> int | None:
        """Return the pid of a member's postmaster (from postmaster.pid), or None."""
        try:
            first = (self.data_dir(name) / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        return int(first) if first.strip().isdigit() else None

    def kill_primary_postmaster(self) -> str:
        """Kill -9 the leader's postmaster (and the WAL senders `freeze_wal_senders` stopped,
        which would never see it die); return the leader's name."""
        name = self.primary()
        pid = self.postmaster_pid(name)
        if pid is None:
            raise RuntimeError(f"{name} has no postmaster.pid")
        for frozen in [pid, *self._frozen]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(frozen, signal.SIGKILL)
        self._frozen = []
        self.killed_at = time.monotonic()
        return name

    def freeze_wal_senders(self) -> list[int]:
        """Stop (SIGSTOP) the leader's WAL senders, so that what it writes next reaches no
        standby: its WAL then diverges from the new leader's, and pg_rewind has work to do."""
        name, _ = self.leader()
        with self.connect(name) as conn:
            pids = [row[0] for row in conn.execute("select pid from pg_stat_replication")]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        self._frozen.extend(pids)
        return pids

    def wait_for_new_leader(self, old: str, timeout: float = 30) -> float:
        """Wait until a member other than `old` is a read-write leader; return the seconds
        since the last kill (or since the call)."""
        start = self.killed_at if self.killed_at is not None else time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError, psycopg.Error):
                name, _ = self.leader()
                if name != old:
                    with self.connect(name) as conn:
                        row = conn.execute("select pg_is_in_recovery()").fetchone()
                    if row is not None and not row[0]:
                        return time.monotonic() - start
            time.sleep(0.1)
        raise TimeoutError(f"no new leader within {timeout}s\n{self.status()}{self.logs()}")

    def wait_until_healthy(self, timeout: float = 60) -> float:
        """Wait until the cluster is healthy again (the old primary streaming as a standby);
        return the seconds since the last kill (or since the call)."""
        start = self.killed_at if self.killed_at is not None else time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return time.monotonic() - start
            time.sleep(0.2)
        raise TimeoutError(f"not healthy within {timeout}s\n{self.status()}{self.logs()}")


def first_write(url: str, timeout: float = 60) -> float:
    """Insert a row through `url` until it commits; return the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                conn.execute("create table if not exists failover_probe (at timestamptz)")
                conn.execute("insert into failover_probe values (now())")
            return time.monotonic()
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def measure(kills: int) -> None:
    """Kill the primary's postmaster `kills` times; print the seconds to each milestone."""
    cluster = Cluster()
    try:
        url = cluster.up()
        first_write(url)
        print("kill  old → new        leader  write  healthy  rewound")
        for i in range(1, kills + 1):
            old = cluster.kill_primary_postmaster()
            leader = cluster.wait_for_new_leader(old)
            assert cluster.killed_at is not None
            write = first_write(url) - cluster.killed_at
            healthy = cluster.wait_until_healthy()
            new, _ = cluster.leader()
            print(f"{i:>4}  {old} → {new}  {leader:6.1f}  {write:5.1f}  {healthy:7.1f}"
                  f"  {cluster.rewound(old)}")
    finally:
        cluster.down()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=measure.__doc__)
    parser.add_argument("--kills", type=int, default=5)
    measure(parser.parse_args().kills)
