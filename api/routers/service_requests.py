"""Service orders (点单 → 派单 → 接单 → 评单).

Staff (or an admin) may take every step; the dispatched volunteer's member token may accept
and complete; the requester's member token may request, rate and cancel.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.access_log import PersonalReadsDep, RevealQuery
from api.deps import (
    LinliDep,
    PageCursor,
    PageLimit,
    StaffActor,
    StaffAuditorOrMember,
    StaffOrMember,
    caught_up,
    load,
)
from api.errors import ApiProblem
from api.idempotency import WriteDep
from api.schemas import ReasonIn
from api.schemas_timebank import (
    CompleteIn,
    ConfirmIn,
    DispatchIn,
    OrderStatus,
    RateIn,
    ServiceRequestIn,
    ServiceRequestOut,
    ServiceRequestRow,
    ServiceRequestsOut,
    StepOut,
)
from ledger.actor import Role
from ledger.commands import service_orders as orders
from ledger.commands.service_orders import OrderState
from ledger.domain.service_orders import ServiceOrder
from ledger.domain.teams import Team
from ledger.errors import NotFound
from ledger.limits import PAGE_DEFAULT
from projections import lookups, timebank_queries
from projections.timebank_queries import OrderFilter

router = APIRouter(prefix="/v1/service-requests", tags=["service orders"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}
STEP_KEYS = {"status", "at", "actor", "role"}


def _out(state: OrderState) -> ServiceRequestOut:
    return ServiceRequestOut(
        id=state.id, status=state.status,  # type: ignore[arg-type]
        community_id=state.community_id, requester_id=state.requester_id,
        volunteer_id=state.volunteer_id, service_type=state.service_type,
        description=state.description, minutes_estimate=state.minutes_estimate,
        minutes=state.minutes, stars=state.stars, team_id=state.team_id,
        history=[StepOut(status=s["status"], at=s["at"], actor=s["actor"], role=s["role"],
                         detail={k: v for k, v in s.items() if k not in STEP_KEYS})
                 for s in state.history])


@router.post("", status_code=201, response_model=ServiceRequestOut, responses={404: PROBLEM})
def create(body: ServiceRequestIn, actor: StaffOrMember, linli: LinliDep, write: WriteDep
           ) -> Response:
    """A resident asks for a service (群众点单): staff record it, or the resident's own token."""
    return write.execute(orders.request(
        body.requester_id, body.service_type, body.description, body.minutes_estimate, actor,
        now=linli.clock()), _out, body)


@router.get("", response_model=ServiceRequestsOut)
def list_requests(
    actor: StaffAuditorOrMember, linli: LinliDep, reads: PersonalReadsDep,
    community_id: UUID | None = None,
    status: Annotated[OrderStatus | None, Query()] = None,
    requester_id: UUID | None = None,
    volunteer_id: UUID | None = None,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: PageCursor = None,
    reveal: RevealQuery = False,
) -> ServiceRequestsOut:
    """Orders newest first: a community's (staff, auditors) or a member's own, with those
    waiting for a team the member is in."""
    if actor.communities is not None:  # a district's: one of its communities, named
        if community_id is None:
            raise ApiProblem(422, "community-required", "community-required")
        actor.check_community(community_id, "community", community_id)
    elif actor.community_id is not None and actor.role is not Role.MEMBER:
        if community_id is not None:
            actor.check_community(community_id, "community", community_id)
        community_id = actor.community_id
    caught_up(linli)
    rows, next_before = timebank_queries.orders(
        linli.engine,
        OrderFilter(community_id=community_id, status=status, requester_id=requester_id,
                    volunteer_id=volunteer_id,
                    party_id=actor.member_id if actor.role is Role.MEMBER else None,
                    with_teams=actor.role is Role.MEMBER),
        limit=limit, before=cursor)
    people = lookups.names_and_addresses(linli.engine, [r["requester_id"] for r in rows])
    reads.record(reads.what("姓名、住址", reveal), [r["requester_id"] for r in rows])
    return ServiceRequestsOut(
        items=[ServiceRequestRow(
            id=r["service_request_id"],
            requester_name=reads.name(people.get(r["requester_id"], ("", ""))[0], reveal),
            requester_address=reads.address(people.get(r["requester_id"], ("", ""))[1],
                                            reveal), **{
                k: v for k, v in r.items() if k in ServiceRequestRow.model_fields})
            for r in rows],
        next_cursor=str(next_before) if next_before is not None else None)


@router.get("/{request_id}", response_model=ServiceRequestOut)
def get_request(request_id: UUID, actor: StaffAuditorOrMember,
                linli: LinliDep) -> ServiceRequestOut:
    """The order and every step it went through, with actor and time."""
    order = load(linli, ServiceOrder, request_id)
    if actor.role is Role.MEMBER:
        if actor.member_id not in (order.requester_id, order.volunteer_id) and not (
                order.team_id is not None and load(linli, Team, order.team_id).has(
                    actor.member_id)):
            raise NotFound("not-found", thing="service request")
    else:
        actor.check_community(order.community_id, "service request", request_id)
    return _out(OrderState.of(order))


@router.post("/{request_id}/dispatch", response_model=ServiceRequestOut,
             responses={409: PROBLEM})
def dispatch(request_id: UUID, body: DispatchIn, actor: StaffActor,
             linli: LinliDep, write: WriteDep) -> Response:
    """Send the order to a volunteer (社区派单), or to a team of the order's community (the
    first of its members to accept takes it); again, until it is completed."""
    if body.team_id is not None:
        return write.execute(orders.dispatch_to_team(request_id, body.team_id, actor,
                                                     now=linli.clock()), _out, body)
    assert body.volunteer_id is not None
    return write.execute(
        orders.dispatch(request_id, body.volunteer_id, actor, now=linli.clock()), _out, body)


@router.post("/{request_id}/accept", response_model=ServiceRequestOut,
             responses={409: PROBLEM})
def accept(request_id: UUID, actor: StaffOrMember, linli: LinliDep, write: WriteDep) -> Response:
    """The volunteer takes the order (志愿者接单)."""
    return write.execute(orders.accept(request_id, actor, now=linli.clock()), _out)


@router.post("/{request_id}/complete", response_model=ServiceRequestOut,
             responses={409: PROBLEM})
def complete(request_id: UUID, body: CompleteIn, actor: StaffOrMember,
             linli: LinliDep, write: WriteDep) -> Response:
    """The service is done, in this many minutes (pending until rated or confirmed)."""
    return write.execute(
        orders.complete(request_id, body.minutes, actor, now=linli.clock()), _out, body)


@router.post("/{request_id}/rate", response_model=ServiceRequestOut, responses={409: PROBLEM})
def rate(request_id: UUID, body: RateIn, actor: StaffOrMember,
         linli: LinliDep, write: WriteDep) -> Response:
    """The requester rates the service (群众评单): 3–5 stars deposit the volunteer's minutes,
    1–2 send the order to staff review."""
    return write.execute(
        orders.rate(request_id, body.stars, body.comment, actor, now=linli.clock()), _out, body)


@router.post("/{request_id}/confirm", response_model=ServiceRequestOut,
             responses={409: PROBLEM})
def confirm(request_id: UUID, body: ConfirmIn, actor: StaffActor,
            linli: LinliDep, write: WriteDep) -> Response:
    """Staff confirm a completed (or reviewed) service; the minutes are deposited."""
    return write.execute(
        orders.confirm(request_id, body.minutes, actor, now=linli.clock()), _out, body)


@router.post("/{request_id}/dismiss", response_model=ServiceRequestOut,
             responses={409: PROBLEM})
def dismiss(request_id: UUID, body: ReasonIn, actor: StaffActor,
            linli: LinliDep, write: WriteDep) -> Response:
    """Staff end a review without minutes."""
    return write.execute(
        orders.dismiss(request_id, body.reason, actor, now=linli.clock()), _out, body)


@router.post("/{request_id}/cancel", response_model=ServiceRequestOut,
             responses={409: PROBLEM})
def cancel(request_id: UUID, body: ReasonIn, actor: StaffOrMember,
           linli: LinliDep, write: WriteDep) -> Response:
    """Cancel before completion (the requester or staff)."""
    return write.execute(
        orders.cancel(request_id, body.reason, actor, now=linli.clock()), _out, body)
