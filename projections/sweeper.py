"""The sweeper: expires unused holds and due points, and confirms services left unrated for
their community's number of days, even when no request arrives.

It reads what is due from the views and sends commands to the writer; each command checks the
aggregate again, so a hold captured a moment ago (and not yet in the view) is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy import Engine, and_, select

from ledger.commands.merchants import expire_hold, expire_points
from ledger.commands.service_orders import auto_confirm
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.holds import HoldStatus
from ledger.domain.registry import Community
from ledger.periodic import Periodic
from ledger.write.writer import Writer
from projections import timebank_queries
from projections.tables import balances, holds

log = logging.getLogger(__name__)

BATCH = 1_000

T = TypeVar("T")
F = TypeVar("F")


def _result(future: Future[T], failed: F) -> T | F:
    try:
        return future.result(timeout=60)
    except Exception:
        log.warning("sweeper command failed", exc_info=True)
        return failed


class Sweeper(Periodic):
    thread_name = "linli-sweeper"

    def __init__(self, writer: Writer, engine: Engine, clock: Callable[[], datetime],
                 interval_seconds: float = 1.0) -> None:
        super().__init__(interval_seconds)
        self.writer = writer
        self.engine = engine
        self.clock = clock

    def tick(self) -> None:
        self.run_once()
        self.confirm_due_services()

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

    def confirm_due_services(self) -> int:
        """Confirm completed services whose requester left them unrated long enough."""
        now = self.clock()
        days: dict[str, int | None] = {}
        due: list[str] = []
        for row in timebank_queries.due_for_confirmation(self.engine):
            community_id = row["community_id"]
            if community_id not in days:
                community: Community = self.writer.app.repository.get(UUID(community_id))
                days[community_id] = community.timebank.auto_confirm_days
            wait = days[community_id]
            if wait is not None and row["completed_at"] + timedelta(days=wait) <= now:
                due.append(row["service_request_id"])
        futures = [self.writer.submit(auto_confirm(UUID(i), now)) for i in due]
        return sum(1 for f in futures if _result(f, None) is not None)

