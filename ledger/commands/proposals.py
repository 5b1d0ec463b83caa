"""Residents' voice (民意 → 民生清单): members post proposals and complaints, staff list and
work them through, and an adopted one (金点子) may earn its author points under a rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.commands import points
from ledger.commands.buildings import building_of_community
from ledger.domain.proposals import Proposal, ProposalList
from ledger.domain.registry import Member
from ledger.errors import NotFound
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ProposalState:
    """A proposal as a step left it."""

    id: UUID
    community_id: UUID
    member_id: UUID
    kind: str
    text: str
    building_id: UUID | None
    status: str
    priority: int | None
    reply: str
    posted_at: datetime
    updated_at: datetime
    points: int
    award_status: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, proposal: Proposal, award_status: str | None = None) -> ProposalState:
        return cls(proposal.id, proposal.community_id, proposal.member_id, proposal.kind,
                   proposal.text, proposal.building_id, proposal.status, proposal.priority,
                   proposal.reply, proposal.posted_at, proposal.updated_at, proposal.points,
                   award_status, [dict(step) for step in proposal.history])


Command = Callable[[UnitOfWork], ProposalState]


def submit(community_id: UUID, member_id: UUID, kind: str, text: str,
           building_id: UUID | None, by: Actor, now: datetime) -> Command:
    """A member posts a proposal or complaint in their community, for one of its buildings if
    named (staff may post one for a member who tells them in person)."""

    def command(uow: UnitOfWork) -> ProposalState:
        member = uow.get(Member, member_id)
        by.check_member(member_id, "member", member_id)
        by.check_community(member.community_id, "member", member_id)
        if member.community_id != community_id:
            raise NotFound("not-found", thing="community")
        member.check_active()
        if building_id is not None:
            building_of_community(uow, community_id, building_id)
        listing = uow.find(ProposalList, ProposalList.create_id(community_id))
        if listing is None:
            listing = ProposalList(community_id=community_id, actor_id=by.id,
                                   actor_role=by.role_value)
            uow.add(listing)
        proposal = Proposal(community_id=community_id, member_id=member_id, kind=kind,
                            text=text, building_id=building_id, at=now, actor_id=by.id,
                            actor_role=by.role_value)
        uow.add(proposal)
        listing.add(proposal.id, by)
        return ProposalState.of(proposal)

    return command


def proposal_of(uow: UnitOfWork, proposal_id: UUID, by: Actor) -> Proposal:
    proposal = uow.get(Proposal, proposal_id)
    if by.role is Role.MEMBER:
        raise NotFound("not-found", thing="proposal")
    by.check_community(proposal.community_id, "proposal", proposal_id)
    return proposal


def move(proposal_id: UUID, status: str | None, priority: int | None, reply: str | None,
         award_rule_code: str | None, by: Actor, now: datetime) -> Command:
    """Staff change a proposal's status (in order), priority or reply; with
    `award_rule_code`, an adopted proposal earns its author that rule's points once."""

    def command(uow: UnitOfWork) -> ProposalState:
        proposal = proposal_of(uow, proposal_id, by)
        if status is not None or priority is not None or reply is not None:
            proposal.move(status, priority, reply, now, by)
        award_status = None
        if award_rule_code is not None:
            proposal.check_awardable()
            made = points.award(proposal.member_id, award_rule_code, quantity=1, minutes=None,
                                occurred_at=now, note=f"金点子：{proposal.text}"[:500],
                                now=now, by=by)(uow)
            proposal.awarded(made.id, made.points, by)
            award_status = made.status
        return ProposalState.of(proposal, award_status)

    return command
