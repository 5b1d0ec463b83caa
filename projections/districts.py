"""A district's (街道) figures across its communities: the dashboard by community and month,
what the communities owe each other now (通存通兑), and the redemption guarantee: the minutes
residents hold against the communities' reserve (their pools, 公益池).

They read the views' sums (`monthly_postings`, `leaderboard_totals`, `balances`,
`timebank_interchange`) and the registry, one grouped query per figure for all the district's
communities together: the district's size moves the rows summed, not the queries sent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, or_, select

from ledger.domain.assets import EARNING_KINDS, Asset, OwnerKind, PostingKind
from projections.leaderboards import MEMBER, WHOLE_COMMUNITY
from projections.periods import month_end, year_months
from projections.tables import (
    balances,
    leaderboard_totals,
    monthly_postings,
    registry_communities,
    registry_members,
    timebank_interchange,
)

POINTS, MINUTES = Asset.POINTS.value, Asset.MINUTES.value
T = TypeVar("T")
ISSUING = frozenset(kind.value for kind in EARNING_KINDS)


@dataclass
class Figures:
    """One community's (or the district's) figures for a month or the year."""

    month: str
    members: int = 0
    volunteers: int = 0  # members who banked minutes in the period
    minutes_deposited: int = 0
    minutes_withdrawn: int = 0
    points_issued: int = 0
    points_redeemed: int = 0

    def add(self, other: Figures) -> None:
        self.volunteers += other.volunteers
        self.minutes_deposited += other.minutes_deposited
        self.minutes_withdrawn += other.minutes_withdrawn
        self.points_issued += other.points_issued
        self.points_redeemed += other.points_redeemed


@dataclass
class CommunityFigures:
    community_id: str
    name: str
    months: list[Figures]
    total: Figures


@dataclass
class DistrictDashboard:
    year: int
    time_zone: str
    communities: list[CommunityFigures]
    months: list[Figures] = field(default_factory=list)  # the district, month by month
    total: Figures = field(default_factory=lambda: Figures(""))


def community_names(engine: Engine, community_ids: list[str]) -> dict[str, str]:
    c = registry_communities.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.community_id, c.name)
                            .where(c.community_id.in_(community_ids))).all()
    return {row.community_id: row.name for row in rows}


def dashboard(engine: Engine, community_ids: list[str], year: int,
              time_zone: str) -> DistrictDashboard:
    """Members, volunteers, minutes banked and used, points issued and redeemed: per
    community and month, the district's per month, and the year's."""
    zone = ZoneInfo(time_zone)
    months = year_months(year)
    year_key = f"{year:04d}"
    names = community_names(engine, community_ids)
    figures = {c: {m: Figures(m) for m in [*months, year_key]} for c in community_ids}
    t, p, m = leaderboard_totals.c, monthly_postings.c, registry_members.c
    start = datetime(year, 1, 1, tzinfo=zone)
    with engine.connect() as conn:
        postings = conn.execute(
            select(p.community_id, p.month, p.asset, p.kind, p.amount)
            .where(p.community_id.in_(community_ids), p.month.in_(months))).all()
        volunteers = conn.execute(
            select(t.community_id, t.period, func.count())
            .where(t.community_id.in_(community_ids), t.grid_key == WHOLE_COMMUNITY,
                   t.subject_kind == MEMBER, t.asset == MINUTES,
                   t.period.in_([*months, year_key]), t.earned > 0)
            .group_by(t.community_id, t.period)).all()
        before: dict[str, int] = {row[0]: int(row[1]) for row in conn.execute(
            select(m.community_id, func.count())
            .where(m.community_id.in_(community_ids), m.registered_at < start)
            .group_by(m.community_id)).all()}
        # Each month's registrations: a count over one range of the (community, registered
        # at) index, the year's rows read once in all.
        joined: dict[str, list[int]] = {c: [0] * len(months) for c in community_ids}
        for n, month in enumerate(months):
            since = start if n == 0 else month_end(months[n - 1], zone)
            for community_id, count in conn.execute(
                    select(m.community_id, func.count())
                    .where(m.community_id.in_(community_ids), m.registered_at >= since,
                           m.registered_at < month_end(month, zone))
                    .group_by(m.community_id)).all():
                joined[community_id][n] = int(count)
    for row in postings:
        target = (figures[row.community_id][row.month], figures[row.community_id][year_key])
        amount = int(row.amount)
        for f in target:
            if row.asset == POINTS and row.kind in ISSUING:
                f.points_issued += amount
            elif row.asset == POINTS and row.kind == PostingKind.REDEMPTION.value:
                f.points_redeemed -= amount
            elif row.asset == MINUTES and row.kind == PostingKind.DEPOSIT.value:
                f.minutes_deposited += amount
            elif row.asset == MINUTES and row.kind == PostingKind.WITHDRAWAL.value:
                f.minutes_withdrawn -= amount
    for community_id, period, count in volunteers:
        figures[community_id][period].volunteers = int(count)
    for community_id in community_ids:
        count = int(before.get(community_id, 0))
        for month, joined_in in zip(months, joined[community_id], strict=True):
            count += joined_in
            figures[community_id][month].members = count
        figures[community_id][year_key].members = count
    district_months = {month: Figures(month) for month in [*months, year_key]}
    rows = []
    for community_id in community_ids:
        own = figures[community_id]
        for month, f in own.items():
            district_months[month].add(f)
            district_months[month].members += f.members
        rows.append(CommunityFigures(community_id, names.get(community_id, ""),
                                     [own[month] for month in months], own[year_key]))
    # A district's volunteers are each community's added: a member belongs to one community.
    return DistrictDashboard(year, time_zone, rows, [district_months[m] for m in months],
                             district_months[year_key])


@dataclass(frozen=True)
class Guarantee:
    """What residents hold in minutes, against the pools that back it (兑付保障)."""

    community_id: str
    name: str
    owed_minutes: int  # the minutes the community's residents hold
    holders: int  # residents holding any
    reserve_minutes: int  # the community's pool (公益池)


def guarantee(engine: Engine, community_ids: list[str]) -> list[Guarantee]:
    b = balances.c
    names = community_names(engine, community_ids)
    with engine.connect() as conn:
        rows = conn.execute(
            select(b.community_id, b.owner_kind, func.sum(b.balance),
                   func.count().filter(b.balance > 0))
            .where(b.community_id.in_(community_ids), b.asset == MINUTES,
                   b.owner_kind.in_([OwnerKind.MEMBER.value, OwnerKind.POOL.value]))
            .group_by(b.community_id, b.owner_kind)).all()
    owed: dict[str, tuple[int, int]] = {}
    reserve: dict[str, int] = {}
    for community_id, kind, total, holders in rows:
        if kind == OwnerKind.MEMBER.value:
            owed[community_id] = (int(total or 0), int(holders or 0))
        else:
            reserve[community_id] = int(total or 0)
    return [Guarantee(c, names.get(c, ""), owed.get(c, (0, 0))[0], owed.get(c, (0, 0))[1],
                      reserve.get(c, 0)) for c in community_ids]


def positions(engine: Engine, community_ids: list[str]) -> dict[str, dict[str, int]]:
    """What each community owes each partner now (negative: is owed), from the pairs either
    of which is one of `community_ids`."""
    t = timebank_interchange.c
    owes: dict[str, dict[str, int]] = {c: {} for c in community_ids}
    with engine.connect() as conn:
        rows = conn.execute(select(t.first_id, t.second_id, t.due).where(
            or_(t.first_id.in_(community_ids), t.second_id.in_(community_ids)))).all()
    for first, second, due in rows:
        if first in owes:
            owes[first][second] = int(due)
        if second in owes:
            owes[second][first] = -int(due)
    return owes


class ByPosition:
    """Answers of a district's reads kept until the views move on: a dashboard or a board
    over 50 communities sums hundreds of thousands of rows, and between two changes of the
    views every reader gets the same answer. Keyed by what was asked and the position the
    views held (`ProjectionRunner.position`), so a read after a write never gets an answer
    from before it; the oldest of `most` answers is forgotten first."""

    def __init__(self, most: int = 256) -> None:
        self.most = most
        self._answers: OrderedDict[tuple[object, ...], tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], position: int, compute: Callable[[], T]) -> T:
        with self._lock:
            found = self._answers.get(key)
            if found is not None and found[0] == position:
                self._answers.move_to_end(key)
                return cast(T, found[1])
        answer = compute()
        with self._lock:
            self._answers[key] = (position, answer)
            self._answers.move_to_end(key)
            while len(self._answers) > self.most:
                self._answers.popitem(last=False)
        return answer

    def clear(self) -> None:
        """Forget every answer (a benchmark measures the reads that compute)."""
        with self._lock:
            self._answers.clear()


ANSWERS = ByPosition()
