"""The quarterly review (季度积分评议) and the dashboard, as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api import language
from api.deps import (
    AnyRoleActor,
    LinliDep,
    StaffOrAuditor,
    check_building,
    readable_community,
    sees_public_only,
)
from api.errors import ApiProblem
from api.exports import FORMATS, Cell, Format, Sheet, chosen_format, export, word
from api.schemas_reports import (
    DashboardOut,
    GridShareOut,
    MonthOut,
    ReviewOut,
    RuleMonthOut,
    RuleShareOut,
    ServiceFiguresOut,
    StandingOut,
    SummaryOut,
)
from projections import periods, reports, services
from projections.leaderboard_ranking import Standing
from projections.periods import YEAR_MAX, YEAR_MIN, Quarter
from web.papers import review_html

router = APIRouter(prefix="/v1/communities/{community_id}", tags=["reports"])

FormatQuery = Annotated[Format | None, Query(alias="format", description="json, csv or xlsx "
                                             "(else the Accept header decides)")]
SUMMARY_FIGURES = ["points_earned", "banked_minutes", "banked_hours", "participants",
                   "members", "participation_percent"]
SERVICE_FIGURES = ["requests", "completed", "rated", "satisfaction_percent",
                   "median_dispatch_minutes", "median_completion_minutes"]
TOP_MAX = 100_000  # every member and household that earned in the quarter
REVIEW_COLUMNS = ["section", "rank", "key", "name", "value", "previous", "change"]


def _summary_out(summary: reports.Summary) -> SummaryOut:
    return SummaryOut(points_earned=summary.points_earned,
                      banked_minutes=summary.banked_minutes,
                      banked_hours=round(summary.banked_minutes / 60, 1),
                      participants=summary.participants, members=summary.members,
                      participation_percent=summary.participation_percent)


def _change(now: SummaryOut, before: SummaryOut) -> SummaryOut:
    return SummaryOut(
        points_earned=now.points_earned - before.points_earned,
        banked_minutes=now.banked_minutes - before.banked_minutes,
        banked_hours=round(now.banked_hours - before.banked_hours, 1),
        participants=now.participants - before.participants,
        members=now.members - before.members,
        participation_percent=round(now.participation_percent - before.participation_percent,
                                    1),
    )


def _standings(items: list[Standing]) -> list[StandingOut]:
    return [StandingOut(rank=s.rank, subject_id=UUID(s.subject_id), name=s.name,
                        earned=s.earned) for s in items]


def review_out(review: reports.Review) -> ReviewOut:
    summary, previous = _summary_out(review.summary), _summary_out(review.previous)
    return ReviewOut(
        community_id=UUID(review.community_id), quarter=review.quarter,
        previous_quarter=review.previous_quarter, time_zone=review.time_zone,
        public=review.public, summary=summary, previous=previous,
        change=_change(summary, previous),
        top_members=_standings(review.top_members),
        top_households=_standings(review.top_households),
        points_by_rule=[RuleShareOut(rule_code=s.key or "", name=s.name, points=s.points,
                                     awards=s.awards or 0, previous_points=s.previous_points,
                                     change=s.points - s.previous_points)
                        for s in review.by_rule],
        points_by_grid=[GridShareOut(grid_id=UUID(s.key) if s.key else None, name=s.name,
                                     points=s.points, previous_points=s.previous_points,
                                     change=s.points - s.previous_points)
                        for s in review.by_grid],
        service=None,
    )


def review_sheet(review: ReviewOut) -> Sheet:
    """The review as one table: the summary, the top lists, points by rule and by grid, the
    service figures; sections and figures in the reader's words."""
    sheet = Sheet(f"{review.quarter} {word('review')}", REVIEW_COLUMNS,
                  time_zone=review.time_zone)
    now, before, change = (review.summary.model_dump(), review.previous.model_dump(),
                           review.change.model_dump())
    for figure in SUMMARY_FIGURES:
        sheet.rows.append([word("summary"), None, figure, word(figure), now[figure],
                           before[figure], change[figure]])
    for section, standings in (("top_members", review.top_members),
                               ("top_households", review.top_households)):
        for s in standings:
            sheet.rows.append([word(section), s.rank, str(s.subject_id), s.name, s.earned,
                               None, None])
    for rule in review.points_by_rule:
        sheet.rows.append([word("points_by_rule"), None, rule.rule_code, rule.name,
                           rule.points, rule.previous_points, rule.change])
    for grid in review.points_by_grid:
        sheet.rows.append([word("points_by_grid"), None,
                           str(grid.grid_id) if grid.grid_id else "",
                           grid.name or word("no_grid"), grid.points, grid.previous_points,
                           grid.change])
    if review.service is not None and review.previous_service is not None:
        now_s, then_s = review.service.model_dump(), review.previous_service.model_dump()
        for figure in SERVICE_FIGURES:
            change_s = (None if now_s[figure] is None or then_s[figure] is None
                        else round(now_s[figure] - then_s[figure], 1))
            sheet.rows.append([word("service"), None, figure, word(figure), now_s[figure],
                               then_s[figure], change_s])
    return sheet


def _review(linli: LinliDep, actor: AnyRoleActor, community_id: UUID, quarter: str, top: int,
            public: bool) -> tuple[ReviewOut, dict[str, Any]]:
    """The review of `quarter` with its service figures, and the community."""
    try:
        chosen_quarter = Quarter.parse(quarter)
    except ValueError as error:
        raise ApiProblem(422, "invalid-period", "quarter", quarter=quarter) from error
    community = readable_community(linli, actor, community_id)
    review = review_out(reports.quarterly_review(
        linli.engine, community, chosen_quarter, top=top,
        public=public or sees_public_only(actor)))
    zone = periods.zone(community["time_zone"])
    review.service, review.previous_service = (
        ServiceFiguresOut(**services.service_report(linli.engine, community["community_id"],
                                                    q.bounds(zone)))
        for q in (chosen_quarter, chosen_quarter.previous()))
    return review, community


PublicQuery = Annotated[bool, Query(description="for publication (公示): names masked, members "
                                    "who opted out left off; always so for members and "
                                    "merchants")]


@router.get("/reviews/{quarter}", response_model=ReviewOut, responses={200: FORMATS})
def get_review(
    community_id: UUID,
    quarter: str,
    actor: AnyRoleActor,
    linli: LinliDep,
    request: Request,
    output: FormatQuery = None,
    top: Annotated[int, Query(ge=1, le=TOP_MAX, description="how many members and "
                              "households the top lists hold (up to every one that earned)")
                   ] = 10,
    public: PublicQuery = False,
) -> ReviewOut | Response:
    """季度积分评议: top members and households, points by rule and by grid, participation,
    hours banked, and the change from the previous quarter."""
    chosen = chosen_format(output, request)
    review, _ = _review(linli, actor, community_id, quarter, top, public)
    if chosen is Format.JSON:
        return review
    return export(review_sheet(review), chosen, f"review-{review.quarter}")


@router.get("/reviews/{quarter}/print", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
def print_review(
    community_id: UUID,
    quarter: str,
    actor: AnyRoleActor,
    linli: LinliDep,
    top: Annotated[int, Query(ge=1, le=TOP_MAX, description="how many members and "
                              "households to list (default: every one that earned)")
                   ] = TOP_MAX,
    public: PublicQuery = False,
) -> HTMLResponse:
    """The quarterly review, print-ready (A4), in the reader's language."""
    review, community = _review(linli, actor, community_id, quarter, top, public)
    return HTMLResponse(review_html(review, community["name"], language.current()))


def _month_out(month: reports.Month) -> MonthOut:
    return MonthOut(
        month=month.month, points_issued=month.points_issued,
        points_redeemed=month.points_redeemed, points_refunded=month.points_refunded,
        points_expired=month.points_expired, minutes_deposited=month.minutes_deposited,
        minutes_withdrawn=month.minutes_withdrawn, active_volunteers=month.active_volunteers,
        members=month.members,
        by_rule=[RuleMonthOut(rule_code=s.key or "", name=s.name, points=s.points,
                              awards=s.awards or 0) for s in month.by_rule],
        postings_by_kind=month.postings_by_kind,
    )


DASHBOARD_FIGURES = ["points_issued", "points_redeemed", "points_refunded", "points_expired",
                     "minutes_deposited", "minutes_withdrawn", "active_volunteers", "members"]


def dashboard_sheet(dashboard: DashboardOut) -> Sheet:
    """One row a month and one for the year; a column for each rule's points."""
    codes: dict[str, str] = {}
    for month in [*dashboard.months, dashboard.total]:
        for rule in month.by_rule:
            codes.setdefault(rule.rule_code, rule.name)
    sheet = Sheet(f"{dashboard.year} {word('dashboard')}",
                  ["month", *DASHBOARD_FIGURES,
                   *(f"{word('rule')}:{code}" for code in sorted(codes))],
                  time_zone=dashboard.time_zone, totals=1)
    for month in [*dashboard.months, dashboard.total]:
        figures = month.model_dump()
        by_rule = {rule.rule_code: rule.points for rule in month.by_rule}
        row: list[Cell] = [month.month, *(figures[f] for f in DASHBOARD_FIGURES)]
        row.extend(by_rule.get(code, 0) for code in sorted(codes))
        sheet.rows.append(row)
    return sheet


@router.get("/dashboard", response_model=DashboardOut, responses={200: FORMATS})
def get_dashboard(
    community_id: UUID,
    actor: StaffOrAuditor,
    linli: LinliDep,
    request: Request,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)],
    output: FormatQuery = None,
    building_id: Annotated[UUID | None, Query(description="one building's residents: points "
                                              "issued, minutes banked, active, registered")
                           ] = None,
) -> DashboardOut | Response:
    """Per month: points issued, redeemed, refunded, expired; minutes deposited and withdrawn;
    active volunteers; points by rule: the figures a street office reports upward."""
    chosen = chosen_format(output, request)
    community = readable_community(linli, actor, community_id)
    if building_id is not None:
        check_building(linli, community_id, building_id)
    figures = reports.dashboard(linli.engine, community, year,
                                str(building_id) if building_id else None)
    dashboard = DashboardOut(
        community_id=community_id, year=year, time_zone=figures.time_zone,
        months=[_month_out(m) for m in figures.months], total=_month_out(figures.total),
    )
    if chosen is Format.JSON:
        return dashboard
    return export(dashboard_sheet(dashboard), chosen, f"dashboard-{year}")
