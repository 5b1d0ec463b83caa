"""Service orders (点单 → 派单 → 接单 → 评单): a resident asks for care, staff dispatch a
volunteer, the volunteer accepts and completes it, the resident rates it.

The volunteer's minutes are pending from completion until the order is rated 3–5 stars,
confirmed by staff, or confirmed automatically after the community's number of days; a rating
of 1–2 sends it to staff review, where it is confirmed or dismissed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidRequest, InvalidTransition

LOW_STARS = 2  # this many stars or fewer sends an order to review


class OrderStatus(StrEnum):
    REQUESTED = "requested"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    RATED = "rated"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    CANCELLED = "cancelled"


S = OrderStatus
ALLOWED_FROM: dict[str, frozenset[OrderStatus]] = {
    "dispatch": frozenset({S.REQUESTED, S.DISPATCHED, S.ACCEPTED}),
    "accept": frozenset({S.DISPATCHED}),
    "complete": frozenset({S.ACCEPTED}),
    "rate": frozenset({S.COMPLETED}),
    "confirm": frozenset({S.COMPLETED, S.UNDER_REVIEW}),
    "dismiss": frozenset({S.UNDER_REVIEW}),
    "cancel": frozenset({S.REQUESTED, S.DISPATCHED, S.ACCEPTED}),
}
POSTED_STATUSES = frozenset({S.RATED, S.CONFIRMED})


class ServiceOrder(LedgerAggregate):
    """One request for a service and every step it went through, with actor and time."""

    team_id: UUID | None = None  # dispatched to a team: any of its members may accept

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Requested")
    def __init__(
        self,
        requester_id: UUID,
        community_id: UUID,
        service_type: str,
        description: str,
        minutes_estimate: int | None,
        at: datetime,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.requester_id = requester_id
        self.community_id = community_id
        self.service_type = service_type
        self.description = description
        self.minutes_estimate = minutes_estimate
        self.status = OrderStatus.REQUESTED.value
        self.volunteer_id: UUID | None = None
        self.minutes: int | None = None
        self.stars: int | None = None
        self.completed_at: datetime | None = None
        self.history: list[dict[str, Any]] = []
        self._step(OrderStatus.REQUESTED, at, actor_id, actor_role)

    def _step(self, status: OrderStatus, at: datetime, actor_id: str, actor_role: str,
              **detail: Any) -> None:
        self.status = status.value
        self.history.append({"status": status.value, "at": at.isoformat(),
                             "actor": actor_id, "role": actor_role, **detail})

    def check(self, step: str) -> None:
        if OrderStatus(self.status) not in ALLOWED_FROM[step]:
            raise InvalidTransition("order-state", step=step, status=self.status)

    # --- steps ------------------------------------------------------------------------
    def dispatch(self, volunteer_id: UUID, at: datetime, by: Actor) -> None:
        self.check("dispatch")
        if volunteer_id == self.requester_id:
            raise InvalidRequest("own-request")
        self._dispatched(volunteer_id=volunteer_id, at=at, actor_id=by.id,
                         actor_role=by.role_value)

    def dispatch_to_team(self, team_id: UUID, at: datetime, by: Actor) -> None:
        self.check("dispatch")
        self._dispatched_to_team(team_id=team_id, at=at, actor_id=by.id,
                                 actor_role=by.role_value)

    def accept(self, at: datetime, by: Actor) -> None:
        self.check("accept")
        if self.volunteer_id is None:
            raise InvalidTransition("order-team-accepts")
        self._accepted(at=at, actor_id=by.id, actor_role=by.role_value)

    def accept_for_team(self, volunteer_id: UUID, at: datetime, by: Actor) -> None:
        """The first member of the dispatched team to accept takes the order."""
        self.check("accept")
        if self.volunteer_id is not None:
            raise InvalidTransition("order-taken")
        if volunteer_id == self.requester_id:
            raise InvalidRequest("own-request")
        self._team_member_accepted(volunteer_id=volunteer_id, at=at, actor_id=by.id,
                                   actor_role=by.role_value)

    def complete(self, minutes: int, at: datetime, by: Actor) -> None:
        self.check("complete")
        self._completed(minutes=minutes, at=at, actor_id=by.id, actor_role=by.role_value)

    def rate(self, stars: int, comment: str, at: datetime, by: Actor) -> bool:
        """Record the requester's rating; True when it lets the minutes post."""
        self.check("rate")
        self._rated(stars=stars, comment=comment, at=at, actor_id=by.id,
                    actor_role=by.role_value)
        return self.status == OrderStatus.RATED

    def confirm(self, minutes: int, at: datetime, by: Actor, automatic: bool = False) -> None:
        self.check("confirm")
        self._confirmed(minutes=minutes, automatic=automatic, at=at, actor_id=by.id,
                        actor_role=by.role_value)

    def dismiss(self, reason: str, at: datetime, by: Actor) -> None:
        self.check("dismiss")
        self._dismissed(reason=reason, at=at, actor_id=by.id, actor_role=by.role_value)

    def cancel(self, reason: str, at: datetime, by: Actor) -> None:
        self.check("cancel")
        self._cancelled(reason=reason, at=at, actor_id=by.id, actor_role=by.role_value)

    # --- events -----------------------------------------------------------------------
    @event("Dispatched")
    def _dispatched(self, volunteer_id: UUID, at: datetime, actor_id: str,
                    actor_role: str) -> None:
        self.volunteer_id = volunteer_id
        self.team_id = None
        self._step(OrderStatus.DISPATCHED, at, actor_id, actor_role,
                   volunteer_id=str(volunteer_id))

    @event("DispatchedToTeam")
    def _dispatched_to_team(self, team_id: UUID, at: datetime, actor_id: str,
                            actor_role: str) -> None:
        self.team_id = team_id
        self.volunteer_id = None
        self._step(OrderStatus.DISPATCHED, at, actor_id, actor_role, team_id=str(team_id))

    @event("TeamMemberAccepted")
    def _team_member_accepted(self, volunteer_id: UUID, at: datetime, actor_id: str,
                              actor_role: str) -> None:
        self.volunteer_id = volunteer_id
        self._step(OrderStatus.ACCEPTED, at, actor_id, actor_role,
                   volunteer_id=str(volunteer_id))

    @event("Accepted")
    def _accepted(self, at: datetime, actor_id: str, actor_role: str) -> None:
        self._step(OrderStatus.ACCEPTED, at, actor_id, actor_role)

    @event("Completed")
    def _completed(self, minutes: int, at: datetime, actor_id: str, actor_role: str) -> None:
        self.minutes = minutes
        self.completed_at = at
        self._step(OrderStatus.COMPLETED, at, actor_id, actor_role, minutes=minutes)

    @event("Rated")
    def _rated(self, stars: int, comment: str, at: datetime, actor_id: str,
               actor_role: str) -> None:
        self.stars = stars
        status = OrderStatus.UNDER_REVIEW if stars <= LOW_STARS else OrderStatus.RATED
        self._step(status, at, actor_id, actor_role, stars=stars, comment=comment)

    @event("Confirmed")
    def _confirmed(self, minutes: int, automatic: bool, at: datetime, actor_id: str,
                   actor_role: str) -> None:
        self.minutes = minutes
        self._step(OrderStatus.CONFIRMED, at, actor_id, actor_role, minutes=minutes,
                   automatic=automatic)

    @event("Dismissed")
    def _dismissed(self, reason: str, at: datetime, actor_id: str, actor_role: str) -> None:
        self._step(OrderStatus.DISMISSED, at, actor_id, actor_role, reason=reason)

    @event("Cancelled")
    def _cancelled(self, reason: str, at: datetime, actor_id: str, actor_role: str) -> None:
        self._step(OrderStatus.CANCELLED, at, actor_id, actor_role, reason=reason)
