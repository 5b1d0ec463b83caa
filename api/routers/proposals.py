"""Residents' voice (民意 → 民生清单): any member posts a proposal or complaint (optionally
for a building); staff list it with a priority, move it through in progress to done or
decline it, with a reply the resident reads; an adopted one (金点子) may earn points.

Residents see their own proposals and the community's list (listed, in progress, done) with
the authors' names masked; staff and auditors export the list for the street office."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api import exports
from api.access_log import PersonalReadsDep
from api.bootstrap import Linli
from api.deps import (
    LinliDep,
    StaffActor,
    StaffAuditorOrMember,
    StaffOrAuditor,
    StaffOrMember,
    load,
    readable_community,
    sees_public_only,
)
from api.exports import FORMATS, Format, Sheet
from api.idempotency import WriteDep
from api.schemas_voice import (
    ProposalIn,
    ProposalOut,
    ProposalPatch,
    ProposalsOut,
    ProposalStatus,
    ProposalStepOut,
)
from ledger.actor import Actor, Role
from ledger.commands import proposals as commands
from ledger.commands.proposals import ProposalState
from ledger.domain.proposals import PUBLIC, Proposal, ProposalList
from ledger.domain.registry import Member
from ledger.errors import NotFound
from ledger.limits import PAGE_MAX
from ledger.privacy.masking import masked

router = APIRouter(prefix="/v1/proposals", tags=["proposals"])
UNRANKED = 9  # a proposal without a priority sorts after the ranked ones


def proposal_out(state: ProposalState, linli: Linli, actor: Actor,
             public_view: bool = False) -> ProposalOut:
    public = ((public_view or sees_public_only(actor))
              and (public_view or actor.member_id != state.member_id))
    name = load(linli, Member, state.member_id).name
    return ProposalOut(
        id=state.id, community_id=state.community_id,
        member_id=None if public else state.member_id, name=masked(name) if public else name,
        kind=state.kind, text=state.text,  # type: ignore[arg-type]
        building_id=state.building_id, status=state.status,  # type: ignore[arg-type]
        priority=state.priority, reply=state.reply, posted_at=state.posted_at,
        updated_at=state.updated_at, points=state.points, award_status=state.award_status,
        history=[ProposalStepOut(status=s["status"], at=s["at"]) for s in state.history])


def _render(linli: Linli, actor: Actor) -> Any:
    return lambda state: proposal_out(state, linli, actor)


@router.post("", status_code=201, response_model=ProposalOut)
def submit(body: ProposalIn, actor: StaffOrMember, linli: LinliDep, write: WriteDep
           ) -> Response:
    """Post a proposal or complaint (民意): a member's own token, or staff naming the member."""
    member_id = actor.member_id if actor.role is Role.MEMBER else body.member_id
    if member_id is None:
        raise NotFound("not-found", thing="member")
    return write.execute(commands.submit(body.community_id, member_id, body.kind, body.text,
                                         body.building_id, actor, linli.clock()),
                         _render(linli, actor), body)


# A proposal's id is a UUID in the path itself, so that `/export` is never taken for one (other
# methods on it answer 405).
@router.patch("/{proposal_id:uuid}", response_model=ProposalOut)
def move(proposal_id: UUID, body: ProposalPatch, actor: StaffActor, linli: LinliDep,
         write: WriteDep) -> Response:
    """Staff list a proposal (priority 1–3), move it to in progress and done, or decline it,
    with a reply; a step out of order → 409 `invalid-transition`."""
    return write.execute(commands.move(proposal_id, body.status, body.priority, body.reply,
                                       body.award_rule_code, actor, linli.clock()),
                         _render(linli, actor), body)


def _listed(linli: Linli, actor: Actor, community_id: UUID | None,
            status: str | None, public: bool = False) -> tuple[UUID, list[ProposalState]]:
    """The community's proposals the actor may see, by priority (1 first), then oldest."""
    if actor.role is Role.MEMBER:
        assert actor.member_id is not None
        own = load(linli, Member, actor.member_id).community_id
        if community_id is not None and community_id != own:
            raise NotFound("not-found", thing="community")
        chosen = own
    else:
        chosen = UUID(readable_community(linli, actor, community_id)["community_id"])
    try:
        listing = load(linli, ProposalList, ProposalList.create_id(chosen))
    except NotFound:
        return chosen, []
    states = [ProposalState.of(load(linli, Proposal, i)) for i in listing.proposal_ids]
    if public:
        states = [s for s in states if s.status in PUBLIC]
    elif actor.role is Role.MEMBER:
        states = [s for s in states if s.status in PUBLIC or s.member_id == actor.member_id]
    if status is not None:
        states = [s for s in states if s.status == status]
    states.sort(key=lambda s: (s.priority or UNRANKED, s.posted_at))
    return chosen, states


@router.get("", response_model=ProposalsOut)
def list_proposals(actor: StaffAuditorOrMember, linli: LinliDep,
                   community_id: UUID | None = None, status: ProposalStatus | None = None,
                   limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
                   public: Annotated[bool, Query(description="The hall screen's list: listed, "
                                                 "in progress and done, every author "
                                                 "masked.")] = False) -> ProposalsOut:
    """The 民生清单: staff and auditors see every proposal; residents the listed, in progress
    and done ones (authors masked) and their own."""
    _, states = _listed(linli, actor, community_id, status, public)
    return ProposalsOut(items=[proposal_out(s, linli, actor, public) for s in states[:limit]])


COLUMNS = ["proposal_number", "proposal_priority", "proposal_kind", "proposal_text",
           "proposal_author", "proposal_status", "proposal_reply", "proposal_posted_at",
           "proposal_updated_at", "proposal_points"]


@router.get("/export", responses={200: FORMATS})
def export(request: Request, actor: StaffOrAuditor, linli: LinliDep,
           reads: PersonalReadsDep, community_id: UUID | None = None,
           status: ProposalStatus | None = None,
           output: Annotated[Format | None, Query(alias="format")] = None) -> Response:
    """The 民生清单 for the street office: CSV (the default) or XLSX (`?format=` or the
    Accept header), headers in the reader's language (Chinese by default)."""
    chosen, states = _listed(linli, actor, community_id, status)
    community = readable_community(linli, actor, chosen)
    sheet = Sheet(exports.word("proposal_list"), COLUMNS, time_zone=community["time_zone"])
    for number, s in enumerate(states, start=1):
        sheet.rows.append([
            number, s.priority, exports.word(f"proposal.{s.kind}"), s.text,
            load(linli, Member, s.member_id).name, exports.word(f"proposal.{s.status}"),
            s.reply, s.posted_at, s.updated_at, s.points])
    reads.record_export("提议人姓名（民生清单导出）", [str(s.member_id) for s in states],
                        community["community_id"])
    picked = exports.chosen_format(output, request)
    return exports.export(sheet, Format.CSV if picked is Format.JSON else picked,
                          "proposals")


@router.get("/{proposal_id:uuid}", response_model=ProposalOut)
def get_proposal(proposal_id: UUID, actor: StaffAuditorOrMember, linli: LinliDep
                 ) -> ProposalOut:
    """One proposal with its steps and reply: staff and auditors of its community, its
    author, and (once listed) any resident of the community."""
    proposal = load(linli, Proposal, proposal_id)
    if actor.role is Role.MEMBER:
        assert actor.member_id is not None
        own = load(linli, Member, actor.member_id).community_id
        if own != proposal.community_id or (
                proposal.status not in PUBLIC and proposal.member_id != actor.member_id):
            raise NotFound("not-found", thing="proposal")
    else:
        actor.check_community(proposal.community_id, "proposal", proposal_id)
    return proposal_out(ProposalState.of(proposal), linli, actor)
