"""The sweeper: expires unused holds and due points, and confirms services left unrated for
their community's number of days, even when no request arrives.

It asks the read side what is due (`Due`) and sends commands to the writer; each command checks
the aggregate again, so a hold captured a moment ago (and not yet in the views) is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar
from uuid import UUID

from ledger.commands.merchants import expire_hold, expire_points
from ledger.commands.service_orders import auto_confirm
from ledger.domain.registry import Community
from ledger.periodic import Periodic
from ledger.write.writer import Writer

log = logging.getLogger(__name__)

BATCH = 1_000  # holds, and members with points, expired in one pass

T = TypeVar("T")
F = TypeVar("F")


def _result(future: Future[T], failed: F) -> T | F:
    try:
        return future.result(timeout=60)
    except Exception:
        log.warning("sweeper command failed", exc_info=True)
        return failed


class Due(Protocol):
    """What the views say is due; the sweeper's commands check each aggregate again."""

    def expiries(self, now: datetime, most: int) -> tuple[Sequence[str], Sequence[str]]:
        """Up to `most` ids of held holds expired by `now`, and up to `most` ids of members
        with points due to expire by `now` and not all held."""
        ...

    def services_awaiting_rating(self) -> Sequence[Mapping[str, Any]]:
        """Completed service orders still unrated: `service_request_id`, `community_id` and
        `completed_at` of each."""
        ...


class Sweeper(Periodic):
    """Sends the commands that expire and confirm what is due, every `interval_seconds`."""

    thread_name = "linli-sweeper"

    def __init__(self, writer: Writer, due: Due, clock: Callable[[], datetime],
                 interval_seconds: float = 1.0) -> None:
        super().__init__(interval_seconds)
        self.writer = writer
        self.due = due
        self.clock = clock

    def tick(self) -> None:
        self.run_once()
        self.confirm_due_services()

    def run_once(self) -> tuple[int, int]:
        """Expire what is due now: returns (holds expired, points expired)."""
        now = self.clock()
        hold_ids, owners = self.due.expiries(now, BATCH)
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
        for row in self.due.services_awaiting_rating():
            community_id = row["community_id"]
            if community_id not in days:
                community: Community = self.writer.app.repository.get(UUID(community_id))
                days[community_id] = community.timebank.auto_confirm_days
            wait = days[community_id]
            if wait is not None and row["completed_at"] + timedelta(days=wait) <= now:
                due.append(row["service_request_id"])
        futures = [self.writer.submit(auto_confirm(UUID(i), now)) for i in due]
        return sum(1 for f in futures if _result(f, None) is not None)

