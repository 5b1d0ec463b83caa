"""A district's dashboard (街道) reads counts the views keep per community and month: checked
against what the events give (a model of what was recorded), against the sums over every
member the counts stand for, and after a rebuild, on both backends."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.commands import districts, points, timebank
from ledger.commands import registry as reg
from projections.districts import Figures, dashboard
from projections.leaderboard_ranking import district_ranking, ranking
from projections.leaderboards import HOUSEHOLD, MEMBER, WHOLE_COMMUNITY, _Sums
from projections.periods import month_end, year_months
from projections.runner import ProjectionRunner
from projections.tables import leaderboard_totals, registry_members, volunteer_counts

ADMIN = Actor(id="admin-district-counts", role=Role.ADMIN)
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi")  # the last not the district's


class World:
    """Three communities of a district, their members, awards dated over the past 80 days,
    deposits of minutes by a half of them (some twice) and withdrawals; and what that gives,
    month by month in the district's time zone (Asia/Shanghai) and each community's."""

    def __init__(self, linli: Linli, members: int = 40, seed: int = 3) -> None:
        rng = random.Random(seed)
        run = linli.writer.execute
        now = datetime.now(UTC)
        self.district = run(districts.register_district("计数街道", ADMIN)).id
        self.communities: list[UUID] = []
        for n, time_zone in enumerate(ZONES):
            community = run(reg.register_community(f"计数社区{n}", ADMIN, time_zone)).id
            run(districts.add_community(self.district, community, ADMIN))
            run(reg.put_rule(community, "GIFT", name="志愿服务", points=1, unit="each",
                             daily_cap=None, monthly_cap=None, requires_approval=False,
                             by=ADMIN))
            self.communities.append(community)
        self.registered: list[tuple[str, datetime]] = []  # (community, when)
        # (community, month in its zone) -> figures; volunteers as sets of members
        self.issued: dict[tuple[str, str], int] = defaultdict(int)
        self.deposited: dict[tuple[str, str], int] = defaultdict(int)
        self.banked_by: dict[tuple[str, str], set[UUID]] = defaultdict(set)
        households: dict[UUID, UUID] = {}  # a community's household waiting for a second
        for n in range(members):
            community = self.communities[n % len(self.communities)]
            zone = ZoneInfo(ZONES[n % len(ZONES)])
            household = households.pop(community, None)  # members two by two in households
            if household is None and n % 7 != 6:  # and some in none
                household = households[community] = run(reg.register_household(
                    community, None, f"计数路{n}号", ADMIN)).id
            member = run(reg.register_member(community, f"居民{n}", household, None,
                                             ADMIN)).id
            self.registered.append((str(community), now))
            if n % 5 == 4:
                run(reg.set_public_display(member, True, ADMIN))
            when = now - timedelta(days=rng.uniform(0, 80))
            quantity = rng.randint(1, 50)
            run(points.award(member, "GIFT", quantity=quantity, minutes=None, occurred_at=when,
                             note="", now=now, by=ADMIN))
            self.issued[str(community), f"{when.astimezone(zone):%Y-%m}"] += quantity
            for _ in range(rng.choice((0, 1, 1, 2))):
                when = now - timedelta(days=rng.uniform(0, 80))
                minutes = rng.randint(30, 240)
                run(timebank.deposit(member, None, minutes, "助餐", when, None, ADMIN, now))
                local = when.astimezone(zone)
                for period in (f"{local:%Y-%m}", f"{local:%Y}"):
                    self.banked_by[str(community), period].add(member)
                self.deposited[str(community), f"{local:%Y-%m}"] += minutes
                if rng.random() < 0.3:
                    counter = Actor("counter", Role.STAFF,
                                    community_id=rng.choice(self.communities))
                    run(timebank.withdraw(member, 10, "助洁", None, None, counter, now))
        self.year = now.astimezone(ZoneInfo(ZONES[0])).year
        assert linli.read_your_writes()

    def expected(self, community: str, month: str, zone: ZoneInfo) -> dict[str, int]:
        """What the events give for a community and a month (or the year)."""
        own = ZONES[self.communities.index(UUID(community))]
        months = [month] if len(month) == 7 else year_months(int(month))
        last = month if len(month) == 7 else months[-1]
        return {
            "members": sum(1 for c, when in self.registered
                           if c == community and when < month_end(last, zone)),
            "volunteers": len(self.banked_by.get((community, month), set())),
            "minutes_deposited": sum(self.deposited.get((community, m), 0) for m in months),
            "points_issued": sum(self.issued.get((community, m), 0) for m in months),
            "own_zone": own == ZONES[0],
        }


def figures_of(f: Figures) -> dict[str, int]:
    return {"members": f.members, "volunteers": f.volunteers,
            "minutes_deposited": f.minutes_deposited, "points_issued": f.points_issued}


def read(linli: Linli, world: World, year: int) -> dict[str, Any]:
    board = dashboard(linli.engine, [str(c) for c in world.communities], year, ZONES[0])
    return {"communities": {c.community_id: [figures_of(f) for f in [*c.months, c.total]]
                            for c in board.communities},
            "district": [figures_of(f) for f in [*board.months, board.total]],
            "withdrawn": board.total.minutes_withdrawn}


def summed_over_members(linli: Linli, world: World, year: int) -> dict[str, list[int]]:
    """Members and volunteers of each community, month by month then the year, counted over
    every member's row: what the kept counts stand for."""
    zone = ZoneInfo(ZONES[0])
    m, t = registry_members.c, leaderboard_totals.c
    months = year_months(year)
    found: dict[str, list[int]] = {}
    with linli.engine.connect() as conn:
        for community in map(str, world.communities):
            members = [conn.execute(select(func.count()).where(
                m.community_id == community, m.registered_at < month_end(month, zone))
            ).scalar_one() for month in months]
            volunteers = [conn.execute(select(func.count()).where(
                t.community_id == community, t.grid_key == WHOLE_COMMUNITY,
                t.subject_kind == MEMBER, t.asset == "MINUTES", t.period == period,
                t.earned > 0)).scalar_one() for period in [*months, f"{year}"]]
            found[community] = [*members, members[-1], *volunteers]
    return found


def check(linli: Linli, world: World) -> dict[str, Any]:
    answers = {}
    for year in (world.year - 1, world.year):
        answer = read(linli, world, year)
        answers[year] = answer
        zone = ZoneInfo(ZONES[0])
        for community, rows in answer["communities"].items():
            for f, month in zip(rows, [*year_months(year), f"{year}"], strict=True):
                expected = world.expected(community, month, zone)
                if expected.pop("own_zone"):
                    # In the district's zone, months are the community's.
                    assert f == expected, (community, month)
                else:  # members by the district's months; the rest by the community's
                    assert f["members"] == expected["members"], (community, month)
            summed = summed_over_members(linli, world, year)[community]
            assert [f["members"] for f in rows] == summed[:13]
            assert [f["volunteers"] for f in rows] == summed[13:]
        for n, district in enumerate(answer["district"]):
            assert district == {k: sum(rows[n][k] for rows in answer["communities"].values())
                                for k in district}
    assert answers[world.year]["district"][-1]["members"] == len(world.registered)
    assert answers[world.year]["district"][-1]["volunteers"] > 0
    return answers


class TestDistrictCounts:
    def test_the_dashboard_counts_are_what_the_events_give_and_a_rebuild_gives_them_again(
            self, linli):
        world = World(linli)
        answers = check(linli, world)
        linli.projections.rebuild(["registry", "leaderboards"])
        assert check(linli, world) == answers
        # Batches ending anywhere give the same counts.
        ProjectionRunner(linli.app, linli.engine, rebuild_batch_events=7).rebuild()
        assert check(linli, world) == answers

    def test_a_district_board_is_the_best_of_its_communities_boards(self, linli):
        world = World(linli, members=30)
        ids = [str(c) for c in world.communities]
        for subject, period, asset, public in [
                (MEMBER, "all", "POINTS", False), (MEMBER, "all", "POINTS", True),
                (MEMBER, "all", "MINUTES", True), (MEMBER, f"{world.year}", "MINUTES", False),
                (HOUSEHOLD, "all", "POINTS", False), (HOUSEHOLD, "all", "POINTS", True),
                (HOUSEHOLD, f"{world.year}", "MINUTES", True)]:
            each = [s for c in ids for s in ranking(
                linli.engine, c, period=period, subject=subject, asset=asset, grid_id=None,
                limit=7, public=public)]
            best = sorted(each, key=lambda s: (-s.earned, s.reached_position))[:7]
            found = district_ranking(linli.engine, ids, period=period, subject=subject,
                                     asset=asset, limit=7, public=public)
            assert [(s.subject_id, s.name, s.earned, s.community_id) for s in found] == [
                (s.subject_id, s.name, s.earned, s.community_id) for s in best]
            assert len(found) == 7
            if public:
                assert all("*" in s.name for s in found)
        if linli.engine.dialect.name == "postgresql":  # run as a statement prepared once
            one = create_engine(linli.engine.url, pool_size=1, max_overflow=0)
            try:
                for _ in range(3):
                    assert district_ranking(
                        one, ids, period="all", subject=MEMBER, asset="POINTS", limit=7,
                        public=True) == district_ranking(
                        linli.engine, ids, period="all", subject=MEMBER, asset="POINTS",
                        limit=7, public=True)
                with one.connect() as conn:
                    assert conn.execute(text(
                        "SELECT count(*) FROM pg_prepared_statements "
                        "WHERE name LIKE 'linli_ranking_%'")).scalar() == 1
            finally:
                one.dispose()
        assert district_ranking(linli.engine, ids[:1], period="all", subject=MEMBER,
                                asset="POINTS", limit=3, public=False) == ranking(
            linli.engine, ids[0], period="all", subject=MEMBER, asset="POINTS", grid_id=None,
            limit=3, public=False)

    def test_a_member_whose_minutes_go_back_to_nothing_is_no_volunteer(self, linli):
        community, member = "c-volunteers", "m-volunteers"

        def write(delta: int, position: int) -> int:
            sums = _Sums()
            for period in ("all", "2031", "2031-Q1", "2031-01"):
                sums.totals[community, WHOLE_COMMUNITY, MEMBER, "MINUTES", period,
                            member] = [delta, position]
            sums.totals[community, WHOLE_COMMUNITY, MEMBER, "POINTS", "all", member] = [
                delta, position]
            with linli.engine.begin() as conn:
                sums.write(conn)
                rows = dict(conn.execute(select(volunteer_counts.c.period,
                                                volunteer_counts.c.volunteers)
                                         .where(volunteer_counts.c.community_id == community)
                                         ).all())
            assert set(rows) == {"all", "2031", "2031-Q1", "2031-01"}
            assert len(set(rows.values())) == 1
            return rows["2031-01"]

        assert write(30, 1) == 1
        assert write(20, 2) == 1
        assert write(-50, 3) == 0
        assert write(10, 4) == 1
