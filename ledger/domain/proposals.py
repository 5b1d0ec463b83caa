"""Residents' voice (民意 → 民生清单): a member posts a proposal or complaint; staff list it
with a priority and move it through in progress to done, or decline it, with a reply the
resident sees. An adopted proposal (金点子) may earn its author points once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidRequest, InvalidTransition


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"
    LISTED = "listed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"


S = ProposalStatus
ALLOWED_FROM: dict[str, frozenset[ProposalStatus]] = {
    S.LISTED: frozenset({S.SUBMITTED}),
    S.IN_PROGRESS: frozenset({S.LISTED}),
    S.DONE: frozenset({S.IN_PROGRESS}),
    S.DECLINED: frozenset({S.SUBMITTED, S.LISTED, S.IN_PROGRESS}),
}
OPEN = frozenset({S.SUBMITTED, S.LISTED, S.IN_PROGRESS})
ADOPTED = frozenset({S.LISTED, S.IN_PROGRESS, S.DONE})
PUBLIC = ADOPTED  # what the 民生清单 shows every resident


class Proposal(LedgerAggregate):
    """One proposal or complaint and each step staff took on it."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Submitted")
    def __init__(self, community_id: UUID, member_id: UUID, kind: str, text: str,
                 building_id: UUID | None, at: datetime, actor_id: str, actor_role: str
                 ) -> None:
        self.community_id = community_id
        self.member_id = member_id
        self.kind = kind
        self.text = text
        self.building_id = building_id
        self.posted_at = at
        self.status = ProposalStatus.SUBMITTED.value
        self.priority: int | None = None
        self.reply = ""
        self.updated_at = at
        self.award_id: UUID | None = None
        self.points = 0
        self.history: list[dict[str, Any]] = [{"status": self.status, "at": at,
                                               "actor": actor_id, "role": actor_role}]

    def move(self, status: str | None, priority: int | None, reply: str | None, at: datetime,
             by: Actor) -> None:
        """Change the status (in order), the priority or the reply; a closed one stays."""
        if self.status not in OPEN:
            raise InvalidTransition("proposal-closed", status=self.status)
        if status is not None and status != self.status:
            if ProposalStatus(self.status) not in ALLOWED_FROM[status]:
                raise InvalidTransition("proposal-step", status=self.status, to=status)
            if status == S.DECLINED and not (reply or self.reply):
                raise InvalidRequest("reply-required")
        new_status = status or self.status
        new_priority = priority if priority is not None else self.priority
        if new_status == S.LISTED and new_priority is None:
            new_priority = 2
        self._moved(status=new_status, priority=new_priority,
                    reply=reply if reply is not None else self.reply, at=at, actor_id=by.id,
                    actor_role=by.role_value)

    def check_awardable(self) -> None:
        if self.status not in ADOPTED:
            raise InvalidTransition("proposal-not-adopted", status=self.status)
        if self.award_id is not None:
            raise InvalidTransition("proposal-awarded")

    def awarded(self, award_id: UUID, points: int, by: Actor) -> None:
        self.check_awardable()
        self._awarded(award_id=award_id, points=points, actor_id=by.id,
                      actor_role=by.role_value)

    @event("Moved")
    def _moved(self, status: str, priority: int | None, reply: str, at: datetime,
               actor_id: str, actor_role: str) -> None:
        if status != self.status:
            self.history.append({"status": status, "at": at, "actor": actor_id,
                                 "role": actor_role})
        self.status, self.priority, self.reply, self.updated_at = status, priority, reply, at

    @event("Awarded")
    def _awarded(self, award_id: UUID, points: int, actor_id: str, actor_role: str) -> None:
        self.award_id, self.points = award_id, points


class ProposalList(LedgerAggregate):
    """A community's proposals, in the order they were posted."""

    @staticmethod
    def create_id(community_id: UUID) -> UUID:
        return uuid5(ids.LINLI_NAMESPACE, f"proposal-list:{community_id}")

    @event("Opened")
    def __init__(self, community_id: UUID, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.proposal_ids: list[UUID] = []

    def add(self, proposal_id: UUID, by: Actor) -> None:
        self._added(proposal_id=proposal_id, actor_id=by.id, actor_role=by.role_value)

    @event("Added")
    def _added(self, proposal_id: UUID, actor_id: str, actor_role: str) -> None:
        self.proposal_ids.append(proposal_id)
