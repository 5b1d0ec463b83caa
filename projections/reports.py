"""The quarterly review (季度积分评议) and the dashboard figures a street office reports upward.

Both read only the views' sums (`leaderboard_totals`, `monthly_postings`,
`monthly_rule_points`, the registry): never the passbooks.

Definitions (the same everywhere):
- *earned* points or minutes in a period: what the leaderboards count (awards less reversals,
  by when the award occurred, in the community's time zone). Points *issued* are points earned.
- *participants* / *active volunteers*: members who earned points or minutes in the period
  (a total above zero once reversals are taken off).
- *members*: members registered before the period ended, and any who earned in it.
- redeemed, refunded, expired, withdrawn: postings of those kinds on members' accounts, by
  when they were recorded (in the community's time zone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, func, or_, select, true

from ledger import ids
from ledger.domain.assets import Asset, PostingKind
from projections.leaderboard_ranking import Standing, ranking
from projections.leaderboards import HOUSEHOLD, MEMBER, WHOLE_COMMUNITY
from projections.periods import Quarter, month_end, month_of, year_months
from projections.registry_view import grid_names, rule_names
from projections.tables import (
    leaderboard_totals,
    monthly_postings,
    monthly_rule_points,
    passbook_lines,
    registry_households,
    registry_members,
)

# Posting kinds by name, so kinds added later by other features are counted once they exist.
REDEMPTION_KINDS = frozenset({PostingKind.REDEMPTION.value})
REFUND_KINDS = frozenset({PostingKind.REFUND.value})
EXPIRY_KINDS = frozenset({"expiry", "expiration", "expired"})
WITHDRAWAL_KINDS = frozenset({"withdrawal"})
NO_GRID = "未分网格"


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


# --- the quarterly review -------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    points_earned: int
    banked_minutes: int
    participants: int
    members: int

    @property
    def participation_percent(self) -> float:
        return percent(self.participants, self.members)


@dataclass(frozen=True)
class Share:
    """Points earned under one rule, or in one grid, this quarter and the one before."""

    key: str | None
    name: str
    points: int
    previous_points: int
    awards: int | None = None


@dataclass(frozen=True)
class Review:
    community_id: str
    quarter: str
    previous_quarter: str
    time_zone: str
    summary: Summary
    previous: Summary
    top_members: list[Standing]
    top_households: list[Standing]
    by_rule: list[Share]
    by_grid: list[Share]
    public: bool


def _earned_sum(conn: Connection, community_id: str, asset: str, periods: list[str]) -> int:
    t = leaderboard_totals.c
    return int(conn.execute(
        select(func.coalesce(func.sum(t.earned), 0))
        .where(t.community_id == community_id, t.grid_key == WHOLE_COMMUNITY,
               t.subject_kind == MEMBER, t.asset == asset, t.period.in_(periods))
    ).scalar_one())


def _active(conn: Connection, community_id: str, period: str) -> int:
    t = leaderboard_totals.c
    return int(conn.execute(
        select(func.count(func.distinct(t.subject_id)))
        .where(t.community_id == community_id, t.grid_key == WHOLE_COMMUNITY,
               t.subject_kind == MEMBER, t.period == period, t.earned > 0)
    ).scalar_one())


def _summary(conn: Connection, community_id: str, quarter: Quarter, zone: ZoneInfo) -> Summary:
    _, end = quarter.bounds(zone)
    m = registry_members.c
    t = leaderboard_totals.c
    # A member who earned in the quarter was a resident then, even when registered later
    # (an award may be dated up to 90 days back).
    earned_then = (select(t.subject_id)
                   .where(t.community_id == community_id, t.grid_key == WHOLE_COMMUNITY,
                          t.subject_kind == MEMBER, t.period == quarter.key, t.earned > 0,
                          t.subject_id == m.member_id))
    members = int(conn.execute(
        select(func.count()).select_from(registry_members)
        .where(m.community_id == community_id,
               or_(m.registered_at < end, earned_then.exists()))
    ).scalar_one())
    return Summary(
        points_earned=_earned_sum(conn, community_id, Asset.POINTS.value, [quarter.key]),
        banked_minutes=_earned_sum(conn, community_id, Asset.MINUTES.value, [quarter.key]),
        participants=_active(conn, community_id, quarter.key),
        members=members,
    )


def _rule_points(conn: Connection, community_id: str, months: list[str]) -> dict[str, Any]:
    r = monthly_rule_points.c
    rows = conn.execute(
        select(r.rule_code, func.sum(r.points).label("points"), func.sum(r.awards).label("awards"))
        .where(r.community_id == community_id, r.month.in_(months))
        .group_by(r.rule_code)
    ).all()
    return {row.rule_code: row for row in rows}


def _grid_points(conn: Connection, community_id: str, period: str) -> dict[str, int]:
    t = leaderboard_totals.c
    rows = conn.execute(
        select(t.grid_key, func.sum(t.earned).label("points"))
        .where(t.community_id == community_id, t.grid_key != WHOLE_COMMUNITY,
               t.subject_kind == MEMBER, t.asset == Asset.POINTS.value, t.period == period)
        .group_by(t.grid_key)
    ).all()
    return {row.grid_key: int(row.points) for row in rows}


def quarterly_review(
    engine: Engine, community: dict[str, Any], quarter: Quarter, *, top: int, public: bool
) -> Review:
    community_id = community["community_id"]
    zone = ZoneInfo(community["time_zone"])
    before = quarter.previous()
    rules = rule_names(engine, community_id)
    grids = grid_names(engine, community_id)
    with engine.connect() as conn:
        summary = _summary(conn, community_id, quarter, zone)
        previous = _summary(conn, community_id, before, zone)
        now_rules = _rule_points(conn, community_id, quarter.months)
        then_rules = _rule_points(conn, community_id, before.months)
        now_grids = _grid_points(conn, community_id, quarter.key)
        then_grids = _grid_points(conn, community_id, before.key)
    by_rule = [
        Share(code, rules.get(code, code),
              int(now_rules[code].points) if code in now_rules else 0,
              int(then_rules[code].points) if code in then_rules else 0,
              int(now_rules[code].awards) if code in now_rules else 0)
        for code in set(now_rules) | set(then_rules)
    ]
    by_rule = [s for s in by_rule if s.points or s.previous_points or s.awards]
    by_rule.sort(key=lambda s: (-s.points, -s.previous_points, s.key or ""))
    by_grid = [Share(grid_id, name, now_grids.get(grid_id, 0), then_grids.get(grid_id, 0))
               for grid_id, name in grids.items()]
    ungridded = Share(None, NO_GRID, summary.points_earned - sum(now_grids.values()),
                      previous.points_earned - sum(then_grids.values()))
    if ungridded.points or ungridded.previous_points:
        by_grid.append(ungridded)

    def top_of(subject: str) -> list[Standing]:
        return ranking(engine, community_id, period=quarter.key, subject=subject,
                       asset=Asset.POINTS.value, grid_id=None, limit=top, public=public)

    return Review(
        community_id=community_id, quarter=quarter.key, previous_quarter=before.key,
        time_zone=community["time_zone"], summary=summary, previous=previous,
        top_members=top_of(MEMBER), top_households=top_of(HOUSEHOLD),
        by_rule=by_rule, by_grid=by_grid, public=public,
    )


# --- the dashboard --------------------------------------------------------------------------
@dataclass
class Month:
    month: str
    points_issued: int = 0
    points_redeemed: int = 0
    points_refunded: int = 0
    points_expired: int = 0
    minutes_deposited: int = 0
    minutes_withdrawn: int = 0
    active_volunteers: int = 0
    members: int = 0
    by_rule: list[Share] = field(default_factory=list)
    postings_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Dashboard:
    community_id: str
    year: int
    time_zone: str
    months: list[Month]
    total: Month


def _residents_postings(conn: Connection, members: Any, months: list[str], zone: ZoneInfo
                        ) -> list[Any]:
    """The postings on the accounts of `members` (a select of their ids) in `months`, summed
    by month (of the deed, in `zone`), asset and kind, as `monthly_postings` holds them."""
    accounts = {str(ids.account_id(UUID(member_id), asset.value)): asset.value
                for (member_id,) in conn.execute(members) for asset in Asset}
    if not accounts:
        return []
    at = func.coalesce(passbook_lines.c.occurred_at, passbook_lines.c.at)
    start = datetime(int(months[0][:4]), int(months[0][5:7]), 1, tzinfo=zone)
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for line in conn.execute(
            select(passbook_lines.c.account_id, passbook_lines.c.kind,
                   passbook_lines.c.amount, at.label("at"))
            .where(passbook_lines.c.account_id.in_(list(accounts)), at >= start,
                   at < month_end(months[-1], zone))):
        month = month_of(line.at, zone)
        if month in months:
            sums[(month, accounts[line.account_id], line.kind)] += int(line.amount)
    return [_Posting(month, asset, kind, amount)
            for (month, asset, kind), amount in sums.items()]


@dataclass(frozen=True)
class _Posting:
    month: str
    asset: str
    kind: str
    amount: int


def dashboard(engine: Engine, community: dict[str, Any], year: int,
              building_id: str | None = None) -> Dashboard:
    """The community's figures by month. Of one building (一楼栋一账本): what its residents
    (those whose household is in it now) earned, banked, redeemed, had refunded, lost to
    expiry and withdrew, how many were active and registered; points by rule are kept by
    community only, so a building's stay empty."""
    community_id = community["community_id"]
    zone = ZoneInfo(community["time_zone"])
    months = year_months(year)
    by_month = {key: Month(key) for key in months}
    total = Month(f"{year:04d}")
    rules = rule_names(engine, community_id)
    t = leaderboard_totals.c
    p = monthly_postings.c
    r = monthly_rule_points.c
    m = registry_members.c
    h = registry_households.c
    residents: ColumnElement[bool] = true()
    registered_where: ColumnElement[bool] = true()
    if building_id is not None:
        in_building = select(h.household_id).where(h.building_id == building_id)
        residents = t.subject_id.in_(select(m.member_id).where(m.household_id.in_(in_building)))
        registered_where = m.household_id.in_(in_building)
    with engine.connect() as conn:
        earned = conn.execute(
            select(t.period, t.asset, func.sum(t.earned).label("earned"))
            .where(t.community_id == community_id, t.grid_key == WHOLE_COMMUNITY,
                   t.subject_kind == MEMBER, t.period.in_([*months, total.month]), residents)
            .group_by(t.period, t.asset)
        ).all()
        active: dict[str, int] = dict(conn.execute(  # type: ignore[arg-type]
            select(t.period, func.count(func.distinct(t.subject_id)))
            .where(t.community_id == community_id, t.grid_key == WHOLE_COMMUNITY,
                   t.subject_kind == MEMBER, t.period.in_([*months, total.month]),
                   t.earned > 0, residents)
            .group_by(t.period)
        ).all())
        postings = conn.execute(
            select(p.month, p.asset, p.kind, p.amount)
            .where(p.community_id == community_id, p.month.in_(months))
        ).all() if building_id is None else _residents_postings(
            conn, select(m.member_id).where(registered_where), months, zone)
        rule_rows = [] if building_id is not None else conn.execute(
            select(r.month, r.rule_code, r.points, r.awards)
            .where(r.community_id == community_id, r.month.in_(months))
        ).all()
        registered = [conn.execute(
            select(func.count()).select_from(registry_members)
            .where(m.community_id == community_id, m.registered_at < month_end(key, zone),
                   registered_where)
        ).scalar_one() for key in months]
    for figure in earned:
        target = total if figure.period == total.month else by_month[figure.period]
        if figure.asset == Asset.POINTS.value:
            target.points_issued += int(figure.earned)
        elif figure.asset == Asset.MINUTES.value:
            target.minutes_deposited += int(figure.earned)
    for period, count in active.items():
        target = total if period == total.month else by_month[period]
        target.active_volunteers = int(count)
    for posting in postings:
        amount = int(posting.amount)
        asset, kind = posting.asset, posting.kind
        for target in (by_month[posting.month], total):
            kinds = target.postings_by_kind.setdefault(asset, {})
            kinds[kind] = kinds.get(kind, 0) + amount
            if asset == Asset.POINTS.value:
                if kind in REDEMPTION_KINDS:
                    target.points_redeemed -= amount
                elif kind in REFUND_KINDS:
                    target.points_refunded += amount
                elif kind in EXPIRY_KINDS:
                    target.points_expired -= amount
            elif asset == Asset.MINUTES.value and kind in WITHDRAWAL_KINDS:
                target.minutes_withdrawn -= amount
    rule_sums: dict[str | None, dict[str, list[int]]] = defaultdict(dict)
    for rule in rule_rows:
        for key in (rule.month, None):
            sums = rule_sums[key].setdefault(rule.rule_code, [0, 0])
            sums[0] += int(rule.points)
            sums[1] += int(rule.awards)
    for key, target in [*by_month.items(), (None, total)]:
        target.by_rule = sorted(
            (Share(code, rules.get(code, code), v[0], 0, v[1])
             for code, v in rule_sums.get(key, {}).items() if v != [0, 0]),
            key=lambda s: (-s.points, s.key or ""))
    for key, count in zip(months, registered, strict=True):
        by_month[key].members = int(count)
    total.members = by_month[months[-1]].members
    return Dashboard(community_id, year, community["time_zone"], list(by_month.values()),
                     total)
