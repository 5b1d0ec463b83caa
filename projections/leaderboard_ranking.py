"""The leaderboards' ranking (公益达人榜): who earned most in a period, with names masked for
public display. It reads the tables `LeaderboardsView` keeps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Row, TextClause, false, select, text

from ledger.privacy.masking import masked
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
    building_id: str | None = None,
) -> list[Standing]:
    """The top `limit` by what was earned in `period`: one range scan of the ranking index.

    Public: names masked, members who opted out left off (a household while any member of
    it is listed, under that member's masked name), ranks counted over who is shown.
    A building's board (一楼栋一账本) ranks the community's totals of the households now in the
    building, and of their members.
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
        if building_id is not None:
            query = query.where(m.household_id.in_(
                select(h.household_id).where(h.building_id == building_id)))
        if public:
            query = query.where(m.opted_out == false())
    else:
        query = query.add_columns(h.address.label("name")).join(
            registry_households, h.household_id == t.subject_id)
        if building_id is not None:
            query = query.where(h.building_id == building_id)
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
    """The top `limit` across communities, by what was earned, then by who reached it first.

    One statement: each community's top `limit` (a range scan of the ranking index each, as
    for one community), and the best `limit` of those. Public: as `ranking` says."""
    if not community_ids:
        return []
    params: dict[str, object] = {f"c{n}": c for n, c in enumerate(community_ids)}
    params.update(grid=WHOLE_COMMUNITY, kind=subject, asset=asset, period=period,
                  limit=limit)
    statement = _district_top(len(community_ids), subject == MEMBER, public)
    with engine.connect() as conn:
        rows = (_run_prepared(conn, statement, params)
                if conn.dialect.name == "postgresql" else conn.execute(statement, params).all())
        names = {row.subject_id: row.name for row in rows}
        if public and subject == MEMBER:
            names = {k: masked(v) for k, v in names.items()}
        elif public:
            names = _household_public_names(conn, list(names))
    return [Standing(rank, row.subject_id, names[row.subject_id], int(row.earned),
                     int(row.reached_position), row.community_id)
            for rank, row in enumerate(rows, start=1)]


@lru_cache(maxsize=256)
def _district_top(communities: int, members: bool, public: bool) -> TextClause:
    """The statement of `district_ranking` for that many communities: plain SQL that both
    databases read alike, made once (building it as SQLAlchemy expressions each time cost
    more than running it; PostgreSQL runs it prepared, see `_run_prepared`). A public board
    of members joins each member as its community's top is read (its name, and whether it
    is shown: one lookup a row, not two); the others name the best after they are
    chosen."""
    inside = members and public
    if inside:
        named, shown = ("JOIN registry_members s ON s.member_id = t.subject_id",
                        " AND s.opted_out = false")
    else:
        named, shown = "", (" AND EXISTS (SELECT 1 FROM registry_members m WHERE "
                            "m.opted_out = false AND m.household_id = t.subject_id)"
                            if public else "")
    tops = " UNION ALL ".join(
        f"SELECT * FROM (SELECT t.community_id, t.subject_id, t.earned, t.reached_position"
        f"{', s.name AS name' if inside else ''} FROM leaderboard_totals t {named} "
        f"WHERE t.community_id = :c{n} AND t.grid_key = :grid AND t.subject_kind = :kind "
        f"AND t.asset = :asset AND t.period = :period AND t.earned > 0{shown} "
        f"ORDER BY t.earned DESC, t.reached_position LIMIT :limit) AS top{n}"
        for n in range(communities))
    if inside:
        named, name = "", "best.name"
    elif members:
        named, name = "JOIN registry_members s ON s.member_id = best.subject_id", "s.name"
    else:
        named = "JOIN registry_households s ON s.household_id = best.subject_id"
        name = "s.address"
    return text(f"SELECT best.community_id, best.subject_id, best.earned, "
                f"best.reached_position, {name} AS name FROM ({tops}) AS best {named} "
                f"ORDER BY best.earned DESC, best.reached_position LIMIT :limit")


def _run_prepared(conn: Connection, statement: TextClause, params: dict[str, object]
                  ) -> Sequence[Row[Any]]:
    """`statement`'s rows on PostgreSQL, through a statement the connection prepared the
    first time (`PREPARE`) with a generic plan: planning the union of 50 communities' tops
    took 10–20 ms, several times what running it takes (the read engine's driver prepares
    nothing itself). What a connection prepared is noted on it (`Connection.info`)."""
    prepared: dict[str, tuple[str, list[str]]] = conn.info.setdefault(PREPARED, {})
    found = prepared.get(statement.text)
    if found is None:
        names: list[str] = []
        for name in _PARAMETER.findall(statement.text):
            if name not in names:
                names.append(name)
        body = _PARAMETER.sub(lambda m: f"${names.index(m.group(1)) + 1}", statement.text)
        found = (f"linli_ranking_{len(prepared) + 1}", names)
        conn.exec_driver_sql(f"PREPARE {found[0]} AS {body}")
        # Only the statements prepared here are planned once for all their parameters (the
        # read engine's driver prepares none); a setting of the session, kept past this
        # transaction.
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.commit()
        prepared[statement.text] = found
    name, names = found
    arguments = ", ".join(f"%({n})s" for n in names)
    return conn.exec_driver_sql(f"EXECUTE {name}({arguments})", params).all()


PREPARED = "linli_prepared"  # the key of what a connection prepared, in its `info`
_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


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
