"""Volunteer teams (志愿服务队), the service catalogue (服务目录) and the service report.

Staff of a community form its teams, add and remove members, and set its services; staff
and auditors read the service report.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api.deps import (
    LinliDep,
    StaffActor,
    StaffAuditorOrMember,
    StaffAuditorOrMemberCommunity,
    StaffOfPathCommunity,
    StaffOrAuditor,
    load,
    readable_community,
)
from api.errors import ApiProblem
from api.idempotency import WriteDep
from api.schemas_teams import (
    ServiceIn,
    ServiceOut,
    ServiceReportOut,
    ServicesOut,
    TeamIn,
    TeamMemberIn,
    TeamMemberOut,
    TeamOut,
    TeamsOut,
)
from ledger.actor import Role
from ledger.commands import teams as commands
from ledger.commands.teams import TeamState
from ledger.domain.registry import Member
from ledger.domain.teams import ServiceCatalogue, Team
from ledger.errors import NotFound
from projections import periods, services

router = APIRouter(prefix="/v1", tags=["teams and services"])

PeriodQuery = Annotated[str, Query(max_length=8, description="all, YYYY, YYYY-Qn or YYYY-MM, "
                                   "in the community's time zone")]


def _team_out(state: TeamState) -> TeamOut:
    return TeamOut(id=state.id, community_id=state.community_id, name=state.name,
                   members=[TeamMemberOut(member_id=UUID(m), name=n) for m, n in state.members])


@router.post("/teams", status_code=201, response_model=TeamOut)
def form_team(body: TeamIn, actor: StaffActor, linli: LinliDep, write: WriteDep) -> Response:
    """Form a volunteer team of a community (staff)."""
    return write.execute(commands.form(body.community_id, body.name, actor), _team_out, body)


@router.get("/teams", response_model=TeamsOut)
def list_teams(actor: StaffAuditorOrMember, linli: LinliDep,
               community_id: UUID | None = None) -> TeamsOut:
    """A community's teams and their members, oldest first."""
    if actor.role is Role.MEMBER and community_id is None:
        assert actor.member_id is not None
        community_id = load(linli, Member, actor.member_id).community_id
    community = readable_community(linli, actor, community_id)
    rows = services.community_teams(linli.engine, UUID(community["community_id"]))
    return TeamsOut(items=[TeamOut(**row) for row in rows])


@router.get("/teams/{team_id}", response_model=TeamOut)
def get_team(team_id: UUID, actor: StaffAuditorOrMember, linli: LinliDep) -> TeamOut:
    """A team and its members."""
    team = load(linli, Team, team_id)
    if actor.role is Role.MEMBER:
        assert actor.member_id is not None
        if load(linli, Member, actor.member_id).community_id != team.community_id:
            raise NotFound("not-found", thing="team")
    else:
        actor.check_community(team.community_id, "team", team_id)
    return TeamOut(id=team.id, community_id=team.community_id, name=team.name,
                   members=[TeamMemberOut(member_id=UUID(m),
                                          name=load(linli, Member, UUID(m)).name)
                            for m in team.members])


@router.post("/teams/{team_id}/members", response_model=TeamOut)
def add_team_member(team_id: UUID, body: TeamMemberIn, actor: StaffActor, linli: LinliDep,
                    write: WriteDep) -> Response:
    """Add a member of the team's community to the team."""
    return write.execute(commands.add_member(team_id, body.member_id, actor), _team_out, body)


@router.delete("/teams/{team_id}/members/{member_id}", response_model=TeamOut)
def remove_team_member(team_id: UUID, member_id: UUID, actor: StaffActor, linli: LinliDep,
                       write: WriteDep) -> Response:
    """Take a member off the team (what they earned for it stays the team's)."""
    return write.execute(commands.remove_member(team_id, member_id, actor), _team_out)


def _service_out(entry: dict[str, Any]) -> ServiceOut:
    return ServiceOut(**entry)


@router.put("/communities/{community_id}/services/{code}", response_model=ServiceOut)
def put_service(community_id: UUID, code: Annotated[str, Path(max_length=200)],
                body: ServiceIn, actor: StaffOfPathCommunity, linli: LinliDep,
                write: WriteDep) -> Response:
    """Add a service to the community's catalogue, or change it. Once a community has a
    catalogue, requests name one of its services."""
    if not code.strip():
        raise ApiProblem(422, "validation-error", "blank-service-code")
    return write.execute(commands.put_service(community_id, code, body.name,
                                              body.default_minutes, body.rule_code, actor),
                         _service_out, body)


@router.get("/communities/{community_id}/services", response_model=ServicesOut)
def list_services(community: StaffAuditorOrMemberCommunity, linli: LinliDep) -> ServicesOut:
    """The community's service catalogue (empty: any service type is taken)."""
    try:
        catalogue = load(linli, ServiceCatalogue, ServiceCatalogue.create_id(community.id))
    except NotFound:
        return ServicesOut(community_id=community.id, items=[])
    return ServicesOut(community_id=community.id,
                       items=[_service_out(e) for e in catalogue.services.values()])


@router.get("/reports/service", response_model=ServiceReportOut)
def service_report(actor: StaffOrAuditor, linli: LinliDep, community_id: UUID | None = None,
                   period: PeriodQuery = periods.ALL) -> ServiceReportOut:
    """Service orders requested in the period: how many, completed, rated, satisfaction (4–5
    stars among the rated), the median minutes from request to dispatch and to completion."""
    check_period(period)
    community = readable_community(linli, actor, community_id)
    bounds = services.period_bounds(period, community["time_zone"])
    return ServiceReportOut(community_id=UUID(community["community_id"]), period=period,
                            **services.service_report(linli.engine, community["community_id"],
                                                      bounds))


def check_period(period: str) -> None:
    """422 `invalid-period` for a period the leaderboards would not take."""
    if not periods.is_period(period):
        raise ApiProblem(422, "invalid-period", "period", period=period)
