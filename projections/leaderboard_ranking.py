"""The leaderboards' ranking (公益达人榜): who earned most in a period, with names masked for
public display. It reads the tables `LeaderboardsView` keeps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, false, select

from projections import bulk
from projections.leaderboards import MEMBER, WHOLE_COMMUNITY
from projections.tables import leaderboard_totals, registry_households, registry_members


@dataclass(frozen=True)
class Standing:
    rank: int
    subject_id: str
    name: str
    earned: int
    reached_position: int = 0  # where in the log the total was reached (earlier ranks first)
    community_id: str | None = None


def masked(name: str) -> str:
    """A name for public display (公示): 张小明 -> 张*明, 张三 -> 张*, 张 -> *."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" + name[-1]


def ranking(
    engine: Engine,
    community_id: str,
    *,
    period: str,
    subject: str,
    asset: str,
    grid_id: str | None,
    limit: int,
    public: bool,
) -> list[Standing]:
    """The top `limit` by what was earned in `period`: one range scan of the ranking index.

    Public: names masked, members who opted out left off (a household while any member of
    it is listed, under that member's masked name), ranks counted over who is shown.
    """
    t = leaderboard_totals.c
    m = registry_members.c
    h = registry_households.c
    query = (
        select(t.subject_id, t.earned, t.reached_position)
        .where(t.community_id == community_id, t.grid_key == (grid_id or WHOLE_COMMUNITY),
               t.subject_kind == subject, t.asset == asset, t.period == period, t.earned > 0)
        .order_by(t.earned.desc(), t.reached_position)
        .limit(limit)
    )
    if subject == MEMBER:
        query = query.add_columns(m.name).join(registry_members, m.member_id == t.subject_id)
        if public:
            query = query.where(m.opted_out == false())
    else:
        query = query.add_columns(h.address.label("name")).join(
            registry_households, h.household_id == t.subject_id)
        if public:
            listed = (select(m.member_id)
                      .where(m.household_id == t.subject_id, m.opted_out == false()))
            query = query.where(listed.exists())
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        names = {row.subject_id: row.name for row in rows}
        if public and subject == MEMBER:
            names = {k: masked(v) for k, v in names.items()}
        elif public:
            names = _household_public_names(conn, list(names))
    return [Standing(rank, row.subject_id, names[row.subject_id], int(row.earned),
                     int(row.reached_position), community_id)
            for rank, row in enumerate(rows, start=1)]


def district_ranking(engine: Engine, community_ids: list[str], *, period: str, subject: str,
                     asset: str, limit: int, public: bool) -> list[Standing]:
    """The top `limit` across communities: each community's top `limit` (one range scan of
    the ranking index each), merged by what was earned, then by who reached it first."""
    standings = [standing for community_id in community_ids
                 for standing in ranking(engine, community_id, period=period, subject=subject,
                                         asset=asset, grid_id=None, limit=limit, public=public)]
    standings.sort(key=lambda s: (-s.earned, s.reached_position))
    return [Standing(rank, s.subject_id, s.name, s.earned, s.reached_position, s.community_id)
            for rank, s in enumerate(standings[:limit], start=1)]


def _household_public_names(conn: Connection, household_ids: list[str]) -> dict[str, str]:
    """A household shown in public goes by its first listed member's masked name: 张*明家."""
    m = registry_members.c
    names: dict[str, str] = {}
    for chunk in bulk.chunks(household_ids):
        rows = conn.execute(select(m.household_id, m.name)
                            .where(m.household_id.in_(chunk), m.opted_out == false())
                            .order_by(m.household_id, m.position)).all()
        for row in rows:
            names.setdefault(row.household_id, masked(row.name) + "家")
    return names
