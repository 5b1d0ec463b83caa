"""Volunteer teams and the service catalogue: staff form teams, add and remove members, and
set the services their community offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.actor import Actor
from ledger.domain.registry import Community, Member
from ledger.domain.teams import ServiceCatalogue, Team
from ledger.errors import NotFound, OfAnotherCommunity
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TeamState:
    """A team as a command left it."""

    id: UUID
    community_id: UUID
    name: str
    members: list[tuple[str, str]]  # (id, name)

    @classmethod
    def of(cls, team: Team, uow: UnitOfWork) -> TeamState:
        return cls(team.id, team.community_id, team.name,
                   [(m, uow.get(Member, UUID(m)).name) for m in team.members])


def team_of(uow: UnitOfWork, team_id: UUID, by: Actor) -> Team:
    """The team, if `by` is staff of its community (or an admin)."""
    team = uow.get(Team, team_id)
    by.check_community(team.community_id, "team", team_id)
    return team


def form(community_id: UUID, name: str, by: Actor) -> Callable[[UnitOfWork], TeamState]:
    def command(uow: UnitOfWork) -> TeamState:
        by.check_community(community_id, "community", community_id)
        uow.get(Community, community_id)
        team = Team(community_id=community_id, name=name, actor_id=by.id,
                    actor_role=by.role_value)
        uow.add(team)
        return TeamState.of(team, uow)

    return command


def add_member(team_id: UUID, member_id: UUID, by: Actor) -> Callable[[UnitOfWork], TeamState]:
    """Add a member of the team's community (an active one)."""

    def command(uow: UnitOfWork) -> TeamState:
        team = team_of(uow, team_id, by)
        member = uow.get(Member, member_id)
        if member.community_id != team.community_id:
            raise OfAnotherCommunity("member-of-another-community", member=member.name,
                                     team=team.name)
        member.check_active()
        team.add(member_id, by)
        return TeamState.of(team, uow)

    return command


def remove_member(team_id: UUID, member_id: UUID, by: Actor
                  ) -> Callable[[UnitOfWork], TeamState]:
    def command(uow: UnitOfWork) -> TeamState:
        team = team_of(uow, team_id, by)
        team.remove(member_id, by)
        return TeamState.of(team, uow)

    return command


def put_service(community_id: UUID, code: str, name: str, default_minutes: int,
                rule_code: str | None, by: Actor) -> Callable[[UnitOfWork], dict[str, Any]]:
    """Add a service to the community's catalogue, or change it; a named rule must be in the
    community's rulebook."""

    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        if rule_code is not None and rule_code not in community.rule_codes:
            raise NotFound("rule-not-in-rulebook", code=rule_code)
        catalogue = uow.find(ServiceCatalogue, ServiceCatalogue.create_id(community_id))
        if catalogue is None:
            catalogue = ServiceCatalogue(community_id=community_id, actor_id=by.id,
                                         actor_role=by.role_value)
            uow.add(catalogue)
        catalogue.put(code, name, default_minutes, rule_code, by)
        return dict(catalogue.services[code])

    return command


def catalogue_of(uow: UnitOfWork, community_id: UUID) -> ServiceCatalogue | None:
    """The community's catalogue; None until its first service is set."""
    return uow.find(ServiceCatalogue, ServiceCatalogue.create_id(community_id))
