"""Leaderboards (公益达人榜) and members' choice to be left off public display (公示)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import require_role
from api.bootstrap import Linli
from api.deps import ActorDep, LinliDep
from api.errors import ApiProblem
from api.routers.common import caught_up
from api.schemas_reports import DisplayChoiceOut, LeaderboardOut, StandingOut
from ledger.actor import Actor, Role
from ledger.commands import registry as registry_commands
from ledger.domain.assets import Asset
from ledger.errors import NotFound
from ledger.limits import PAGE_DEFAULT, PAGE_MAX
from projections import periods, registry_view
from projections.leaderboard_ranking import ranking

router = APIRouter(prefix="/v1", tags=["leaderboards"])

READERS = (Role.STAFF, Role.AUDITOR, Role.MEMBER, Role.MERCHANT)
PUBLIC_ONLY = (Role.MEMBER, Role.MERCHANT)


def sees_public_only(actor: Actor) -> bool:
    """Members and merchants see what the community publishes: masked, opt-outs left off."""
    return actor.role in PUBLIC_ONLY


def readable_community(linli: Linli, actor: Actor, community_id: UUID | None) -> dict[str, Any]:
    """The community the actor asks about (its own by default), from the registry view.

    Call after `caught_up`. 404 when it is unknown or outside the actor's scope.
    """
    chosen = community_id or actor.community_id
    if chosen is None:
        raise ApiProblem(422, "community-required", "A community is required",
                         "give community_id")
    actor.check_community(chosen, "community", chosen)
    found = registry_view.community(linli.engine, str(chosen))
    if found is None:
        raise NotFound(f"community {chosen} was not found")
    return found


@router.get("/leaderboards", response_model=LeaderboardOut)
def get_leaderboard(
    actor: ActorDep,
    linli: LinliDep,
    community_id: UUID | None = None,
    period: Annotated[str, Query(max_length=8, description="all, YYYY, YYYY-Qn or YYYY-MM, "
                                 "in the community's time zone")] = periods.ALL,
    subject: Literal["member", "household"] = "member",
    asset: Asset = Asset.POINTS,
    grid_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    public: Annotated[bool, Query(description="mask names (张*明) and leave off members who "
                                  "opted out; always so for members and merchants")] = False,
) -> LeaderboardOut:
    """Ranked by what was earned in the period (spending never lowers a rank; a reversed award
    does); of equal totals, the one that reached its total first ranks first."""
    require_role(actor, *READERS)
    if not periods.is_period(period):
        raise ApiProblem(422, "invalid-period", "The period is not valid",
                         f"period {period!r}: use all, a year (2026), a quarter (2026-Q4) "
                         "or a month (2026-11)")
    caught_up(linli)
    community = readable_community(linli, actor, community_id)
    if grid_id is not None and str(grid_id) not in registry_view.grid_names(
            linli.engine, community["community_id"]):
        raise NotFound(f"grid {grid_id} is not in community {community['community_id']}")
    shown_public = public or sees_public_only(actor)
    standings = ranking(linli.engine, community["community_id"], period=period,
                        subject=subject, asset=asset.value,
                        grid_id=str(grid_id) if grid_id else None, limit=limit,
                        public=shown_public)
    return LeaderboardOut(
        items=[StandingOut(rank=s.rank, subject_id=UUID(s.subject_id), name=s.name,
                           earned=s.earned) for s in standings],
        period=period, community_id=UUID(community["community_id"]), subject=subject,
        asset=asset, grid_id=grid_id, public=shown_public,
    )


@router.post("/members/{member_id}/opt-out", response_model=DisplayChoiceOut)
def opt_out(member_id: UUID, actor: ActorDep, linli: LinliDep) -> DisplayChoiceOut:
    """Leave the member off public leaderboards and reviews (公示). Staff, or the member."""
    require_role(actor, Role.STAFF, Role.MEMBER)
    choice = linli.writer.execute(registry_commands.set_public_display(member_id, True, actor))
    return DisplayChoiceOut(member_id=choice.member_id, opted_out=choice.opted_out)


@router.post("/members/{member_id}/opt-in", response_model=DisplayChoiceOut)
def opt_in(member_id: UUID, actor: ActorDep, linli: LinliDep) -> DisplayChoiceOut:
    """Show the member on public leaderboards and reviews again."""
    require_role(actor, Role.STAFF, Role.MEMBER)
    choice = linli.writer.execute(registry_commands.set_public_display(member_id, False, actor))
    return DisplayChoiceOut(member_id=choice.member_id, opted_out=choice.opted_out)
