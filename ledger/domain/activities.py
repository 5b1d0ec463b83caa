"""Activities (活动) with check-in by QR code: who came, from when to when, and what the
activity gave them once staff closed it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import (
    ActivityClosed,
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    CheckInCodeInvalid,
    CheckInOutsideWindow,
    NotCheckedIn,
)
from ledger.limits import ACTIVITY_EARLY_CHECK_IN_MINUTES

EARLY = timedelta(minutes=ACTIVITY_EARLY_CHECK_IN_MINUTES)


class Activity(LedgerAggregate):
    """One activity of a community: its window, its check-in code and its attendance (each
    member's check-in and check-out instants, ISO text keyed by the member's id)."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Scheduled")
    def __init__(
        self, community_id: UUID, title: str, place: str, starts_at: datetime,
        ends_at: datetime, rule_code: str | None, timebank: bool, check_in_code: str,
        actor_id: str, actor_role: str,
    ) -> None:
        self.community_id = community_id
        self.title = title
        self.place = place
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.rule_code = rule_code
        self.timebank = timebank
        self.check_in_code = check_in_code
        self.attendance: dict[str, dict[str, Any]] = {}
        self.closed = False
        self.outcome: dict[str, Any] | None = None

    # --- checks ---------------------------------------------------------------------------
    def check_open(self) -> None:
        if self.closed:
            raise ActivityClosed("activity-closed", title=self.title)

    def check_code(self, code: str) -> None:
        """A code that is not this activity's (another one's, an old one) is refused."""
        if code != self.check_in_code:
            raise CheckInCodeInvalid("check-in-code-other")

    # --- commands -------------------------------------------------------------------------
    def check_in(self, member_id: UUID, at: datetime, by: Actor) -> None:
        """Record the member's arrival: from 30 minutes before the start to the end."""
        self.check_open()
        if not self.starts_at - EARLY <= at <= self.ends_at:
            raise CheckInOutsideWindow("check-in-window", minutes=ACTIVITY_EARLY_CHECK_IN_MINUTES)
        if str(member_id) in self.attendance:
            raise AlreadyCheckedIn("already-checked-in")
        self._checked_in(member_id=member_id, at=at, actor_id=by.id, actor_role=by.role_value)

    def check_out(self, member_id: UUID, at: datetime, by: Actor) -> None:
        """Record the member's leaving (after the end too: minutes stop at the end)."""
        self.check_open()
        seen = self.attendance.get(str(member_id))
        if seen is None:
            raise NotCheckedIn("not-checked-in")
        if seen["out"] is not None:
            raise AlreadyCheckedOut("already-checked-out")
        self._checked_out(member_id=member_id, at=at, actor_id=by.id, actor_role=by.role_value)

    def close(self, outcome: dict[str, Any], at: datetime, by: Actor) -> None:
        self.check_open()
        self._closed(outcome=outcome, at=at, actor_id=by.id, actor_role=by.role_value)

    # --- reads ----------------------------------------------------------------------------
    def minutes_of(self, member_id: str) -> int | None:
        """Whole minutes the member attended within the window; None without a check-out."""
        seen = self.attendance[member_id]
        if seen["out"] is None:
            return None
        start = max(datetime.fromisoformat(seen["in"]), self.starts_at)
        end = min(datetime.fromisoformat(seen["out"]), self.ends_at)
        return max(0, int((end - start).total_seconds()) // 60)

    # --- events ---------------------------------------------------------------------------
    @event("CheckedIn")
    def _checked_in(self, member_id: UUID, at: datetime, actor_id: str,
                    actor_role: str) -> None:
        self.attendance[str(member_id)] = {"in": at.isoformat(), "out": None,
                                           "by": actor_id}

    @event("CheckedOut")
    def _checked_out(self, member_id: UUID, at: datetime, actor_id: str,
                     actor_role: str) -> None:
        self.attendance[str(member_id)]["out"] = at.isoformat()

    @event("Closed")
    def _closed(self, outcome: dict[str, Any], at: datetime, actor_id: str,
                actor_role: str) -> None:
        self.closed = True
        self.outcome = outcome


class ActivityCalendar(LedgerAggregate):
    """The activities of one community, in the order they were scheduled."""

    @staticmethod
    def create_id(community_id: UUID) -> UUID:
        return uuid5(ids.LINLI_NAMESPACE, f"activity-calendar:{community_id}")

    @event("Opened")
    def __init__(self, community_id: UUID) -> None:
        self.community_id = community_id
        self.activity_ids: list[UUID] = []

    def add(self, activity_id: UUID) -> None:
        self._added(activity_id=activity_id)

    @event("Added")
    def _added(self, activity_id: UUID) -> None:
        self.activity_ids.append(activity_id)
