"""A PostgreSQL server of a test's own (initdb in a temporary directory, its own port) that
the test may kill -9 and start again: a primary's crash and restart, without touching the
machine's server the other tests share."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob(
    "*/bin"), reverse=True)]


def postgres_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), if installed."""
    for directory in BIN_DIRS:
        if (directory / "initdb").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    """`command` run as the `postgres` user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresInstance:
    """One PostgreSQL server in `directory`, listening on 127.0.0.1:`port`, trust auth."""

    def __init__(self, directory: Path, port: int) -> None:
        found = postgres_bin()
        if found is None:
            raise RuntimeError("PostgreSQL's server programs (initdb) are not installed")
        self.bin = found
        self.directory = directory
        self.data = directory / "data"
        self.port = port

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(self.bin / args[0]), *args[1:]]), check=True,
                       capture_output=True, timeout=120)

    def create(self) -> None:
        """initdb (trust auth, fsync on as in production) and start."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.directory}'\n"
                       "max_connections = 200\nshared_buffers = 64MB\n")
        self.start()

    def start(self) -> None:
        """Start the server (crash recovery first, after a kill) and wait until it answers."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"),
                  "-w", "-t", "60", "start")

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def kill(self) -> None:
        """kill -9 of the postmaster and every backend: the machine's power cut, as the
        database sees it (what was committed is on disk; everything in flight is lost)."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        subprocess.run(["pkill", "-9", "-P", str(pid)], check=False)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)

    def destroy(self) -> None:
        """Stop the server (immediately) and delete its directory."""
        if self.postmaster_pid() is not None:
            subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data),
                                         "-m", "immediate", "stop"]),
                           capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
