"""Leaderboards (公益达人榜) and members' choice to be left off public display (公示)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.access_log import PersonalReadsDep
from api.bootstrap import Linli
from api.deps import (
    AnyRoleActor,
    LinliDep,
    StaffOrMember,
    caught_up,
    check_building,
    readable_community,
    sees_public_only,
    visible_district,
)
from api.errors import ApiProblem
from api.idempotency import WriteDep
from api.schemas_reports import DisplayChoiceOut, LeaderboardOut, StandingOut
from ledger.actor import Actor
from ledger.commands import registry as registry_commands
from ledger.commands.registry import DisplayChoice
from ledger.domain.assets import Asset
from ledger.errors import NotFound
from ledger.limits import PAGE_DEFAULT, PAGE_MAX
from projections import districts as district_views
from projections import periods, registry_view, services
from projections.leaderboard_ranking import district_ranking, ranking

router = APIRouter(prefix="/v1", tags=["leaderboards"])


@router.get("/leaderboards", response_model=LeaderboardOut)
def get_leaderboard(
    actor: AnyRoleActor,
    linli: LinliDep,
    reads: PersonalReadsDep,
    community_id: UUID | None = None,
    period: Annotated[str, Query(max_length=8, description="all, YYYY, YYYY-Qn or YYYY-MM, "
                                 "in the community's time zone")] = periods.ALL,
    subject: Annotated[Literal["member", "household", "team"], Query(
        description="team: teams by the minutes deposited for the orders their members took "
        "for them")] = "member",
    asset: Asset = Asset.POINTS,
    grid_id: UUID | None = None,
    building_id: Annotated[UUID | None, Query(description="one building's board (一楼栋一账本):"
                                              " its households and their members")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    public: Annotated[bool, Query(description="mask names (张*明) and leave off members who "
                                  "opted out; always so for members and merchants")] = False,
    district_id: Annotated[UUID | None, Query(description=(
        "a district's board across its communities (members or households)"))] = None,
) -> LeaderboardOut:
    """Ranked by what was earned in the period (spending never lowers a rank; a reversed award
    does); of equal totals, the one that reached its total first ranks first."""
    if not periods.is_period(period):
        raise ApiProblem(422, "invalid-period", "period", period=period)
    if district_id is not None:
        if subject == "team" or any(scope is not None for scope in (
                grid_id, building_id, community_id)):
            raise ApiProblem(422, "invalid-request", "district-board-options")
        return _district_board(linli, actor, district_id, period, subject, asset, limit,
                               public or sees_public_only(actor))
    community = readable_community(linli, actor, community_id)
    if grid_id is not None and str(grid_id) not in registry_view.grid_names(
            linli.engine, community["community_id"]):
        raise NotFound("grid-not-in-community")
    if building_id is not None:
        check_building(linli, UUID(community["community_id"]), building_id)
    shown_public = public or sees_public_only(actor)
    if subject == "team":
        return _team_board(linli, community, period, limit, shown_public)
    standings = ranking(linli.read_engine(), community["community_id"], period=period,
                        subject=subject, asset=asset.value,
                        grid_id=str(grid_id) if grid_id else None, limit=limit,
                        public=shown_public,
                        building_id=str(building_id) if building_id else None)
    if subject == "member" and not shown_public:
        reads.record("姓名（排行榜）", [s.subject_id for s in standings],
                     community["community_id"])
    return LeaderboardOut(
        items=[StandingOut(rank=s.rank, subject_id=UUID(s.subject_id), name=s.name,
                           earned=s.earned) for s in standings],
        period=period, community_id=UUID(community["community_id"]), subject=subject,
        asset=asset, grid_id=grid_id, public=shown_public,
    )


def _district_board(linli: Linli, actor: Actor, district_id: UUID, period: str, subject: str,
                    asset: Asset, limit: int, public: bool) -> LeaderboardOut:
    """Members or households ranked across the district's communities."""
    district = visible_district(linli, actor, district_id)
    caught_up(linli)
    ids = [str(c) for c in district.communities]
    standings = district_views.ANSWERS.get(
        ("board", str(linli.engine.url), *ids, period, subject, asset.value, limit, public),
        linli.projections.position,
        lambda: district_ranking(linli.engine, ids, period=period, subject=subject,
                                 asset=asset.value, limit=limit, public=public))
    return LeaderboardOut(
        items=[StandingOut(rank=s.rank, subject_id=UUID(s.subject_id), name=s.name,
                           earned=s.earned, community_id=UUID(s.community_id or ""))
               for s in standings],
        period=period, community_id=None, subject=subject,  # type: ignore[arg-type]
        asset=asset, grid_id=None, public=public, district_id=district_id)


def _team_board(linli: Linli, community: dict[str, Any], period: str, limit: int,
                public: bool) -> LeaderboardOut:
    """Teams ranked by the minutes deposited in the period for orders dispatched to them."""
    bounds = services.period_bounds(period, community["time_zone"])
    rows = services.team_board(linli.engine, community["community_id"], bounds, limit)
    return LeaderboardOut(
        items=[StandingOut(rank=rank, subject_id=UUID(team_id), name=name, earned=minutes)
               for rank, (team_id, name, minutes) in enumerate(rows, 1)],
        period=period, community_id=UUID(community["community_id"]), subject="team",
        asset=Asset.MINUTES, grid_id=None, public=public)


@router.post("/members/{member_id}/opt-out", response_model=DisplayChoiceOut)
def opt_out(member_id: UUID, actor: StaffOrMember, linli: LinliDep, write: WriteDep
            ) -> Response:
    """Leave the member off public leaderboards and reviews (公示). Staff, or the member."""
    return write.execute(registry_commands.set_public_display(member_id, True, actor),
                         _choice_out)


def _choice_out(choice: DisplayChoice) -> DisplayChoiceOut:
    return DisplayChoiceOut(member_id=choice.member_id, opted_out=choice.opted_out)


@router.post("/members/{member_id}/opt-in", response_model=DisplayChoiceOut)
def opt_in(member_id: UUID, actor: StaffOrMember, linli: LinliDep, write: WriteDep
           ) -> Response:
    """Show the member on public leaderboards and reviews again."""
    return write.execute(registry_commands.set_public_display(member_id, False, actor),
                         _choice_out)
