"""Which of several `linli serve` on one database runs the periodic jobs: the one holding a
lock that lives exactly as long as its holder.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a connection of
  its own. When the process dies or its connection breaks, the database ends the session and
  the lock is free (within about 10 s when the holder's machine just goes silent).
- SQLite: an OS lock (`flock`) on a file beside the database (`linli.db.jobs.lock`). When the
  process dies the system frees it.

A `Leader` tries for its lock every `TRY_SECONDS` on a thread of its own; while it holds it,
`leading()` is true and the jobs gated on it run their passes; another process's `Leader`
keeps trying and takes over within a pass of the holder's end. Each job stays safe if two
processes ran it at once for a moment (a holder whose connection broke learns it at its next
try): the lock spares the database and the log the race, it is not what keeps them right.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from ledger.engines import sql_engine
from ledger.periodic import Periodic
from ledger.settings import Settings

log = logging.getLogger(__name__)

TRY_SECONDS = 1.0
# The server ends the lock's session (and frees the lock) within about 10 s of its holder's
# machine going silent, not after the system's two hours of keepalive: each try's answer
# unacknowledged for 10 s, or the line idle and unanswered for 5 + 2 × 3 s.
DEAD_PEER_SETTINGS = ("SET tcp_user_timeout = 10000; SET tcp_keepalives_idle = 5; "
                      "SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3")
JOBS = "jobs"  # sealer, sweeper, expiry reminders, webhook give-ups, payment codes' sweep
WEBHOOKS = "webhooks"  # the webhook sender, in the projection process


class Lock(Protocol):
    """A lock another process can hold; never waits."""

    def try_hold(self) -> bool:
        """Take the lock if it is free; True while this process holds it (checked)."""
        ...

    def release(self) -> None:
        """Let it go (and whatever keeps it)."""
        ...


def lock_key(name: str) -> int:
    """The advisory lock's 64-bit key for `name` (signed, as PostgreSQL takes it)."""
    digest = hashlib.sha256(f"linli/leader/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection of its own."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.key = lock_key(name)
        self._conn: Connection | None = None
        self._held = False
        self._failing = False

    def try_hold(self) -> bool:
        try:
            if self._conn is None:
                self._held = False
                self._conn = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT")
                self._conn.execute(text(DEAD_PEER_SETTINGS))
            if self._held:  # the session still alive is the lock still held
                self._conn.execute(text("SELECT 1"))
            else:
                self._held = bool(self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
        except Exception as error:
            if not self._failing:  # the database out of reach: said once, not every second
                log.warning("leader lock: the database connection failed (%s); trying "
                            "again every %g s", str(error).split("\n", 1)[0], TRY_SECONDS)
            self._failing = True
            self._drop()
            return False
        self._failing = False
        return self._held

    def release(self) -> None:
        if self._conn is not None and self._held:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # a broken session is not returned to the pool
                conn.close()


class FileLock:
    """An exclusive `flock` on a file (kept open while held)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_hold(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock


def lock_for(settings: Settings, name: str) -> tuple[Lock, Engine | None]:
    """The lock named `name` on the configured database, and the engine it opened (if any)."""
    if settings.is_postgres:
        engine = sql_engine(settings, pool_size=1, max_overflow=0)
        return AdvisoryLock(engine, name), engine
    database = make_url(settings.database_url).database or "linli.db"
    return FileLock(Path(f"{database}.{name}.lock")), None


class Leader(Periodic):
    """Holds the lock named `name` when it can, trying every `TRY_SECONDS`; `on_lead` is
    called each time this process takes it over (to run the jobs' passes at once)."""

    def __init__(self, settings: Settings, name: str,
                 on_lead: Callable[[], None] = lambda: None,
                 interval_seconds: float = TRY_SECONDS) -> None:
        super().__init__(interval_seconds)
        self.thread_name = f"linli-leader-{name}"
        self.name = name
        self.on_lead = on_lead
        self._lock, self._engine = lock_for(settings, name)
        self._leading = False
        self._mutex = threading.Lock()  # one try at a time

    def leading(self) -> bool:
        """Whether this process held the lock at its last try."""
        return self._leading

    def start(self) -> None:
        """Try at once (a lone server leads from its first pass), then every interval."""
        self.tick()
        super().start()

    def tick(self) -> None:
        with self._mutex:
            was, self._leading = self._leading, self._lock.try_hold()
        if self._leading and not was:
            log.info("this process now runs the %s (it holds their lock)", self.name)
            self.on_lead()
        elif was and not self._leading:
            log.warning("this process no longer holds the lock of the %s", self.name)

    def stop(self) -> None:
        """Stop trying and let the lock go (another process takes over at its next try)."""
        super().stop()
        with self._mutex:
            self._leading = False
            self._lock.release()
        if self._engine is not None:
            self._engine.dispose()
