"""The sweeper: expires unused holds and due points even when no request arrives.

It reads what is due from the views and sends commands to the writer; each command checks the
aggregate again, so a hold captured a moment ago (and not yet in the view) is left alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from sqlalchemy import Engine, and_, select

from ledger.commands.merchants import expire_hold, expire_points
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.holds import HoldStatus
from ledger.writer import Writer
from projections.tables import balances, holds

log = logging.getLogger(__name__)

BATCH = 1_000

T = TypeVar("T")


def _result(future: Future[T], failed: T) -> T:
    try:
        return future.result(timeout=60)
    except Exception:
        log.warning("sweeper command failed", exc_info=True)
        return failed


class Sweeper:
    def __init__(self, writer: Writer, engine: Engine, clock: Callable[[], datetime],
                 interval_seconds: float = 1.0) -> None:
        self.writer = writer
        self.engine = engine
        self.clock = clock
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> tuple[int, int]:
        """Expire what is due now: returns (holds expired, points expired)."""
        now = self.clock()
        with self.engine.connect() as conn:
            hold_ids = conn.execute(
                select(holds.c.hold_id)
                .where(holds.c.status == HoldStatus.HELD.value, holds.c.expires_at <= now)
                .limit(BATCH)).scalars().all()
            owners = conn.execute(
                select(balances.c.owner_id).where(and_(
                    balances.c.owner_kind == OwnerKind.MEMBER.value,
                    balances.c.asset == Asset.POINTS.value,
                    balances.c.next_expiry_at <= now,
                    balances.c.balance - balances.c.held > 0,
                )).limit(BATCH)).scalars().all()
        hold_futures = [self.writer.submit(expire_hold(UUID(i), now)) for i in hold_ids]
        point_futures = [self.writer.submit(expire_points(UUID(o), now)) for o in owners]
        expired_holds = sum(1 for f in hold_futures if _result(f, False))
        expired_points = sum(_result(f, 0) for f in point_futures)
        return expired_holds, expired_points

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="linli-sweeper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.run_once()
            except Exception:
                log.exception("sweeper pass failed")
