"""`linli serve` in a subprocess (real uvicorn, on a port of its own) that a test can kill -9
and restart.

Shared by the reliability tests and the soak benchmarks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import psycopg

from harness.serving import logged_port, port_was_taken, wait_until_up

STARTUP_SECONDS = 30.0
# A restart keeps the port (clients hold the URL); while the server was down another program
# may have bound it for a moment (another server checking a port): tried again this long
# (each try starts the whole server).
PORT_TAKEN_SECONDS = 60.0
ADMIN_TOKEN = "reliability-admin-token"
CLI = "from api.cli import main; main()"
KEY_SETTINGS = ("LINLI_SIGNING_KEY_FILE", "LINLI_MAC_KEY_FILE")


def linli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `linli` subprocess on `database_url` (rate limits out of the way)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LINLI_") or k in KEY_SETTINGS}  # the keys are the caller's
    env.update({
        "LINLI_DATABASE_URL": database_url,
        "LINLI_ADMIN_TOKEN": ADMIN_TOKEN,
        "LINLI_RATE_LIMIT_PER_SECOND": "1000000",
        "LINLI_RATE_LIMIT_BURST": "1000000",
        "LINLI_SWEEP_INTERVAL_SECONDS": "0",
        "LINLI_AUTH_FAILURE_BURST": "1000000",
        "PYTHONUNBUFFERED": "1",  # the log is complete at every instant, even after kill -9
        "LINLI_PROJECTION_POLL_SECONDS": "0.05",
    })
    env.update(extra)
    return env


def run_cli(database_url: str, *args: str, timeout: float = 300.0,
            **env: str) -> subprocess.CompletedProcess[str]:
    """`linli ARGS…` in a subprocess, waited for."""
    return subprocess.run([sys.executable, "-c", CLI, *args], env=linli_env(database_url, **env),
                          capture_output=True, text=True, timeout=timeout, check=False)


class Served:
    """One `linli serve` process at a time; its output goes to `log_path`.

    The first start asks for port 0 and reads the port the server bound from its log; a
    restart asks for that port again, so `url` stays the same."""

    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.env = linli_env(database_url, **env)
        self.port = 0  # the system's choice, until the first start
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self._log: IO[bytes] | None = None
        self.args: list[str] = []  # more options of `linli serve`

    @property
    def url(self) -> str:
        assert self.port, "not started yet"
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        deadline = time.monotonic() + PORT_TAKEN_SECONDS
        while True:
            offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._spawn()
            port = logged_port(self.log_path, offset, self._running, STARTUP_SECONDS)
            if port is not None:
                break
            self.stop()
            if not (self.port and port_was_taken(self.log_path, offset)
                    and time.monotonic() < deadline):
                raise RuntimeError(f"linli serve did not come up; see {self.log_path}")
            time.sleep(0.2)
        self.port = port
        if not wait_until_up(f"{self.url}/readyz", self._running, STARTUP_SECONDS):
            raise RuntimeError(f"linli serve did not come up; see {self.log_path}")

    def _running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _spawn(self) -> subprocess.Popen[bytes]:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop/kill)
        self.process = subprocess.Popen(
            # With the access log, so that the log is checked for secrets too.
            [sys.executable, "-c", CLI, "serve", "--port", str(self.port), "--access-log",
             *self.args],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        return self.process

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flush, in-flight requests cut."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.kills += 1
        self._close_log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Served:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def terminate_backends(database_url: str) -> int:
    """pg_terminate_backend every other connection to the database; how many were cut."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (done,) in rows if done)
