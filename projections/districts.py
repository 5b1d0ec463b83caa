"""A district's (街道) figures across its communities: the dashboard by community and month,
what the communities owe each other now (通存通兑), and the redemption guarantee: the minutes
residents hold against the communities' reserve (their pools, 公益池).

They read the views' sums (`monthly_postings`, `monthly_members`, `volunteer_counts`,
`balances`, `timebank_interchange`) and the registry, one grouped query per figure for all the
district's communities together. The dashboard reads counts per community and month, kept as
events arrive: its rows grow with the communities and the months, not with the members. (A
community whose time zone is not the district's has its members counted by the district's
months from the registry, one index range a month.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Connection, Engine, bindparam, func, or_, select

from ledger.domain.assets import EARNING_KINDS, Asset, OwnerKind, PostingKind
from projections.periods import month_end, year_months
from projections.tables import (
    balances,
    monthly_members,
    monthly_postings,
    registry_communities,
    registry_members,
    timebank_interchange,
    volunteer_counts,
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
    return {c: name for c, (name, _zone) in _communities(engine, community_ids).items()}


def _communities(engine: Engine, community_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each community's name and time zone."""
    with engine.connect() as conn:
        rows = conn.execute(_COMMUNITIES, {"ids": community_ids}).all()
    return {row.community_id: (row.name, row.time_zone) for row in rows}


_COMMUNITIES = select(registry_communities.c.community_id, registry_communities.c.name,
                      registry_communities.c.time_zone).where(
    registry_communities.c.community_id.in_(bindparam("ids", expanding=True)))


def dashboard(engine: Engine, community_ids: list[str], year: int,
              time_zone: str) -> DistrictDashboard:
    """Members, volunteers, minutes banked and used, points issued and redeemed: per
    community and month, the district's per month, and the year's."""
    zone = ZoneInfo(time_zone)
    months = year_months(year)
    year_key = f"{year:04d}"
    found = _communities(engine, community_ids)
    names = {c: name for c, (name, _zone) in found.items()}
    # Members are counted by the district's months: from the monthly counts for the
    # communities in its time zone, from the registry for the others.
    elsewhere = [c for c in community_ids if found.get(c, ("", time_zone))[1] != time_zone]
    counted = [c for c in community_ids if c not in elsewhere]
    figures = {c: {m: Figures(m) for m in [*months, year_key]} for c in community_ids}
    before: dict[str, int] = {}
    joined: dict[str, list[int]] = {c: [0] * len(months) for c in community_ids}
    with engine.connect() as conn:
        postings = conn.execute(_POSTINGS, {"ids": community_ids, "months": months}).all()
        volunteers = conn.execute(_VOLUNTEERS, {"ids": community_ids,
                                                "periods": [*months, year_key]}).all()
        if counted:
            before.update((row[0], int(row[1])) for row in conn.execute(
                _JOINED_BEFORE, {"ids": counted, "month": months[0]}).all())
            index = {month: n for n, month in enumerate(months)}
            for community_id, month, count in conn.execute(
                    _JOINED, {"ids": counted, "months": months}).all():
                joined[community_id][index[month]] = int(count)
        if elsewhere:
            _registered(conn, elsewhere, months, zone, before, joined)
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


# The dashboard's statements, made once (building them for each read, with their lists of
# communities and months, cost more than running them).
_p, _v, _j = monthly_postings.c, volunteer_counts.c, monthly_members.c
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
_POSTINGS = select(_p.community_id, _p.month, _p.asset, _p.kind, _p.amount).where(
    _p.community_id.in_(_IDS), _p.month.in_(bindparam("months", expanding=True)))
_VOLUNTEERS = select(_v.community_id, _v.period, _v.volunteers).where(
    _v.community_id.in_(_IDS), _v.period.in_(bindparam("periods", expanding=True)))
_JOINED_BEFORE = (select(_j.community_id, func.sum(_j.joined))
                  .where(_j.community_id.in_(_IDS), _j.month < bindparam("month"))
                  .group_by(_j.community_id))
_JOINED = select(_j.community_id, _j.month, _j.joined).where(
    _j.community_id.in_(_IDS), _j.month.in_(bindparam("months", expanding=True)))


def _registered(conn: Connection, community_ids: list[str], months: list[str], zone: ZoneInfo,
                before: dict[str, int], joined: dict[str, list[int]]) -> None:
    """The members registered before the year, and in each of its months (in `zone`), of
    `community_ids`, from the registry: each month a count over one range of the
    (community, registered at) index."""
    m = registry_members.c
    start = datetime(int(months[0][:4]), 1, 1, tzinfo=zone)
    before.update((row[0], int(row[1])) for row in conn.execute(
        select(m.community_id, func.count())
        .where(m.community_id.in_(community_ids), m.registered_at < start)
        .group_by(m.community_id)).all())
    for n, month in enumerate(months):
        since = start if n == 0 else month_end(months[n - 1], zone)
        for community_id, count in conn.execute(
                select(m.community_id, func.count())
                .where(m.community_id.in_(community_ids), m.registered_at >= since,
                       m.registered_at < month_end(month, zone))
                .group_by(m.community_id)).all():
            joined[community_id][n] = int(count)


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
