"""Teams and the service report's read model (view `services`): teams and their members, the
minutes deposited for orders a team's member took for the team (the teams' board), and each
service order's instants (requested, first dispatched, completed) and stars.

Service orders are few beside redemptions: each event is one statement."""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from ledger.domain.service_orders import ServiceOrder
from ledger.domain.teams import Team
from ledger.domain.timebank import Deposit
from projections import periods
from projections.tables import registry_members, service_timings, team_members, team_minutes, teams
from projections.view import Positioned

FORMED = get_topic(Team.Formed)  # type: ignore[attr-defined]
JOINED = get_topic(Team.MemberJoined)  # type: ignore[attr-defined]
LEFT = get_topic(Team.MemberLeft)  # type: ignore[attr-defined]
REQUESTED = get_topic(ServiceOrder.Requested)  # type: ignore[attr-defined]
DISPATCHED = (get_topic(ServiceOrder.Dispatched),  # type: ignore[attr-defined]
              get_topic(ServiceOrder.DispatchedToTeam))  # type: ignore[attr-defined]
COMPLETED = get_topic(ServiceOrder.Completed)  # type: ignore[attr-defined]
RATED = get_topic(ServiceOrder.Rated)  # type: ignore[attr-defined]
TEAM_ACCEPTED = get_topic(ServiceOrder.TeamMemberAccepted)  # type: ignore[attr-defined]
DEPOSITED = get_topic(Deposit.Recorded)  # type: ignore[attr-defined]


class ServicesView:
    """Teams, their members and minutes; each order's instants."""

    name = "services"
    tables = (teams, team_members, team_minutes, service_timings)
    topics = (FORMED, JOINED, LEFT, REQUESTED, *DISPATCHED, COMPLETED, RATED, TEAM_ACCEPTED,
              DEPOSITED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        for item in events:
            self._apply(conn, item)

    @staticmethod
    def _apply(conn: Connection, item: Positioned) -> None:
        e, key, topic = item.event, item.originator, item.topic
        timing = service_timings.c.service_request_id == key
        if topic == FORMED:
            conn.execute(insert(teams).values(team_id=key, community_id=str(e.community_id),
                                              name=e.name, position=item.position))
        elif topic == JOINED:
            conn.execute(insert(team_members).values(team_id=key, member_id=str(e.member_id)))
        elif topic == LEFT:
            conn.execute(delete(team_members).where(and_(
                team_members.c.team_id == key, team_members.c.member_id == str(e.member_id))))
        elif topic == REQUESTED:
            conn.execute(insert(service_timings).values(
                service_request_id=key, community_id=str(e.community_id), requested_at=e.at))
        elif topic in DISPATCHED:
            conn.execute(update(service_timings).where(
                timing, service_timings.c.dispatched_at.is_(None)).values(dispatched_at=e.at))
            conn.execute(update(service_timings).where(timing).values(
                team_id=str(e.team_id) if hasattr(e, "team_id") else None))
        elif topic == COMPLETED:
            conn.execute(update(service_timings).where(timing).values(completed_at=e.at))
        elif topic == RATED:
            conn.execute(update(service_timings).where(timing).values(stars=e.stars))
        elif topic == DEPOSITED and e.service_request_id is not None:
            team_id = conn.execute(select(service_timings.c.team_id).where(
                service_timings.c.service_request_id == str(e.service_request_id))
            ).scalar_one_or_none()
            if team_id is not None:
                conn.execute(insert(team_minutes).values(
                    deposit_id=key, team_id=team_id, community_id=str(e.community_id),
                    volunteer_id=str(e.volunteer_id), minutes=e.minutes,
                    occurred_at=e.occurred_at, position=item.position))


def period_bounds(period: str, time_zone: str) -> tuple[datetime, datetime] | None:
    """[start, end) of a period key (a year, quarter or month) in the community's time zone;
    None for all time."""
    if period == periods.ALL:
        return None
    zone = periods.zone(time_zone)
    if "Q" in period:
        return periods.Quarter.parse(period).bounds(zone)
    if len(period) == 4:
        return (datetime(int(period), 1, 1, tzinfo=zone),
                datetime(int(period) + 1, 1, 1, tzinfo=zone))
    return datetime(int(period[:4]), int(period[5:7]), 1, tzinfo=zone), periods.month_end(
        period, zone)


# --- queries --------------------------------------------------------------------------------
def community_teams(engine: Engine, community_id: UUID) -> list[dict[str, Any]]:
    """The community's teams, oldest first, each with its members' ids and names."""
    m = registry_members
    with engine.connect() as conn:
        rows = conn.execute(select(teams.c.team_id, teams.c.name).where(
            teams.c.community_id == str(community_id)).order_by(teams.c.position)).all()
        members = conn.execute(
            select(team_members.c.team_id, team_members.c.member_id, m.c.name)
            .join(m, m.c.member_id == team_members.c.member_id)
            .join(teams, teams.c.team_id == team_members.c.team_id)
            .where(teams.c.community_id == str(community_id))
            .order_by(m.c.passbook_no)).all()
    by_team: dict[str, list[dict[str, str]]] = {}
    for team_id, member_id, name in members:
        by_team.setdefault(team_id, []).append({"member_id": member_id, "name": name})
    return [{"id": team_id, "community_id": str(community_id), "name": name,
             "members": by_team.get(team_id, [])} for team_id, name in rows]


def team_board(engine: Engine, community_id: str, bounds: tuple[datetime, datetime] | None,
               limit: int) -> list[tuple[str, str, int]]:
    """Teams ranked by the minutes deposited for their orders in the period: (id, name,
    minutes); of equal minutes, the team that reached its total first ranks first."""
    where = [team_minutes.c.community_id == community_id]
    if bounds is not None:
        where += [team_minutes.c.occurred_at >= bounds[0],
                  team_minutes.c.occurred_at < bounds[1]]
    total = func.sum(team_minutes.c.minutes)
    query = (select(team_minutes.c.team_id, teams.c.name, total)
             .join(teams, teams.c.team_id == team_minutes.c.team_id).where(*where)
             .group_by(team_minutes.c.team_id, teams.c.name)
             .order_by(total.desc(), func.max(team_minutes.c.position)).limit(limit))
    with engine.connect() as conn:
        return [(team_id, name, int(minutes)) for team_id, name, minutes in conn.execute(query)]


def service_report(engine: Engine, community_id: str,
                   bounds: tuple[datetime, datetime] | None) -> dict[str, Any]:
    """Orders requested in the period: how many, completed, rated, the share of 4–5 stars
    among the rated, and the median minutes from request to dispatch and to completion."""
    t = service_timings
    where = [t.c.community_id == community_id]
    if bounds is not None:
        where += [t.c.requested_at >= bounds[0], t.c.requested_at < bounds[1]]
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.requested_at, t.c.dispatched_at, t.c.completed_at,
                                   t.c.stars).where(*where)).all()
    rated = [r.stars for r in rows if r.stars is not None]
    return {
        "requests": len(rows),
        "completed": sum(r.completed_at is not None for r in rows),
        "rated": len(rated),
        "satisfaction_percent": (round(100 * sum(s >= 4 for s in rated) / len(rated), 1)
                                 if rated else None),
        "median_dispatch_minutes": _median_minutes(
            [(r.dispatched_at - r.requested_at) for r in rows if r.dispatched_at]),
        "median_completion_minutes": _median_minutes(
            [(r.completed_at - r.requested_at) for r in rows if r.completed_at]),
    }


def _median_minutes(spans: list[Any]) -> int | None:
    return round(median(s.total_seconds() for s in spans) / 60) if spans else None
