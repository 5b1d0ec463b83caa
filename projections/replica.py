"""Reads of the read models from a replica (`LINLI_READ_DATABASE_URL`), each still seeing
every write its process answered before it: the replica is used once it has replayed the
views past that position, waited for a moment; a replica further behind (or out of reach)
leaves the read to the primary. A replica found out of reach is tried again once every
`RETRY_SECONDS`, the primary serving every read meanwhile at once; going out of reach is logged
once, and so is being reached again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, bindparam, func, select

from ledger.engines import sql_engine
from ledger.settings import Settings
from projections.catalogue import all_views
from projections.tables import tracking

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005
RETRY_SECONDS = 5.0  # how often a replica found out of reach is tried again


class Replica:
    """The replica's engine and how far its views have replayed the log."""

    def __init__(self, engine: Engine, wait_seconds: float) -> None:
        self.engine = engine
        self.wait_seconds = wait_seconds
        self.position = 0  # the least position of every view, as last read on the replica
        self.reads = 0  # reads served by the replica
        self.fallbacks = 0  # reads it was too far behind for (or out of reach): the primary's
        self.reachable = True  # as the last try found it
        self.clock: Callable[[], float] = time.monotonic  # when to try it again, by this
        self._retry_at = 0.0
        self._names = [view.name for view in all_views()]
        self._lock = threading.Lock()
        self._query = (select(func.min(tracking.c.position))
                       .where(tracking.c.name.in_(bindparam("names", expanding=True))))

    def engine_for(self, position: int, primary: Engine) -> Engine:
        """The replica's engine if its views hold `position` (waiting up to `wait_seconds`
        for it to replay that far), else `primary` (at once while it is out of reach)."""
        if self.position < position:
            if not self.reachable and self.clock() < self._retry_at:
                return self._fallback(primary)
            until = time.monotonic() + self.wait_seconds
            while not self._refresh_reaches(position):
                if not self.reachable or time.monotonic() >= until:
                    return self._fallback(primary)
                time.sleep(POLL_SECONDS)
        with self._lock:
            self.reads += 1
        return self.engine

    def _fallback(self, primary: Engine) -> Engine:
        with self._lock:
            self.fallbacks += 1
        return primary

    def _refresh_reaches(self, position: int) -> bool:
        try:
            with self.engine.connect() as conn:
                seen = conn.execute(self._query, {"names": self._names}).scalar() or 0
        except Exception as error:  # out of reach: the primary serves meanwhile
            self._reached(False, str(error).split("\n")[0])
            return False
        self._reached(True)
        with self._lock:
            self.position = max(self.position, int(seen))
        return self.position >= position

    def _reached(self, reachable: bool, error: str = "") -> None:
        """Note whether the last try reached the replica; log only when that changes."""
        with self._lock:
            changed, self.reachable = reachable != self.reachable, reachable
            if not reachable:
                self._retry_at = self.clock() + RETRY_SECONDS
        if changed and reachable:
            log.info("the read replica is reached again")
        elif changed:
            log.warning("the read replica is out of reach (reads go to the primary): %s", error)


def open_replica(settings: Settings) -> Replica | None:
    """The replica configured by `LINLI_READ_DATABASE_URL`, if any."""
    url = settings.read_database_url
    if not url:
        return None
    engine = sql_engine(settings.model_copy(update={"database_url": url}), pool_size=8,
                        max_overflow=8)
    return Replica(engine, settings.replica_wait_seconds)
