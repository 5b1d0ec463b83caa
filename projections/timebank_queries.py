"""Reads of the time bank's views: service orders, service records, pools, positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, func, or_, select

from ledger import ids
from ledger.domain.assets import Asset
from projections.tables import (
    balances,
    registry_members,
    service_deposits,
    service_orders,
    service_timings,
    team_members,
    timebank_interchange,
)


@dataclass(frozen=True)
class OrderFilter:
    community_id: UUID | None = None
    status: str | None = None
    requester_id: UUID | None = None
    volunteer_id: UUID | None = None
    party_id: UUID | None = None  # requester or volunteer (a member's own orders)
    with_teams: bool = False  # the volunteer's (or party's) teams' orders waiting for one


def _waiting_for_teams_of(member_id: UUID) -> ColumnElement[bool]:
    """Orders dispatched to a team `member_id` is in, not yet taken by any member."""
    c, st, tm = service_orders.c, service_timings.c, team_members.c
    return (c.service_request_id.in_(
        select(st.service_request_id).join(team_members, tm.team_id == st.team_id)
        .where(tm.member_id == str(member_id)))
        & (c.status == "dispatched") & c.volunteer_id.is_(None))


def orders(engine: Engine, where: OrderFilter, *, limit: int,
           before: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """Service orders newest first; `before` is where the previous page ended."""
    c = service_orders.c
    conditions: list[ColumnElement[bool]] = []
    if where.community_id is not None:
        conditions.append(c.community_id == str(where.community_id))
    if where.status is not None:
        conditions.append(c.status == where.status)
    if where.requester_id is not None:
        conditions.append(c.requester_id == str(where.requester_id))
    if where.volunteer_id is not None:
        conditions.append(or_(c.volunteer_id == str(where.volunteer_id),
                              *([_waiting_for_teams_of(where.volunteer_id)]
                                if where.with_teams else [])))
    if where.party_id is not None:
        conditions.append(or_(c.requester_id == str(where.party_id),
                              c.volunteer_id == str(where.party_id),
                              *([_waiting_for_teams_of(where.party_id)]
                                if where.with_teams else [])))
    if before is not None:
        conditions.append(c.requested_position < before)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            select(service_orders).where(*conditions)
            .order_by(c.requested_position.desc()).limit(limit + 1))]
    page = rows[:limit]
    return page, page[-1]["requested_position"] if len(rows) > limit else None


def pending_minutes(engine: Engine, volunteer_id: UUID) -> int:
    """Minutes of services completed and not yet rated, confirmed or dismissed."""
    c = service_orders.c
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.coalesce(func.sum(c.minutes), 0))
            .where(c.volunteer_id == str(volunteer_id),
                   c.status.in_(("completed", "under_review")))).scalar_one())


def due_for_confirmation(engine: Engine) -> list[dict[str, Any]]:
    """Completed orders still waiting for a rating (the sweeper checks which are due)."""
    c = service_orders.c
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(c.service_request_id, c.community_id, c.completed_at)
            .where(c.status == "completed").order_by(c.completed_at).limit(1000))]


@dataclass(frozen=True)
class ServiceRecord:
    services: int
    minutes: int
    lines: list[dict[str, Any]]
    next_before: int | None


def service_record(engine: Engine, volunteer_id: UUID, *, limit: int,
                   before: int | None) -> ServiceRecord:
    """Every service a volunteer gave (志愿服务记录), newest first, with totals."""
    d = service_deposits.c
    recipient = registry_members.alias("recipient")
    mine = d.volunteer_id == str(volunteer_id)
    query = (select(d.deposit_id, d.occurred_at, d.recipient_id, d.service_type, d.minutes,
                    d.stars, d.team, d.service_request_id, d.position,
                    recipient.c.name.label("recipient_name"))
             .outerjoin(recipient, recipient.c.member_id == d.recipient_id)
             .where(mine).order_by(d.position.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(d.position < before)
    with engine.connect() as conn:
        count, minutes = conn.execute(
            select(func.count(), func.coalesce(func.sum(d.minutes), 0)).where(mine)).one()
        rows = [dict(r._mapping) for r in conn.execute(query)]
    page = rows[:limit]
    return ServiceRecord(int(count), int(minutes), page,
                         page[-1]["position"] if len(rows) > limit else None)


def pool_minutes(engine: Engine, community_id: UUID) -> int:
    account = str(ids.account_id(ids.pool_id(community_id), Asset.MINUTES.value))
    with engine.connect() as conn:
        return int(conn.execute(select(balances.c.balance)
                                .where(balances.c.account_id == account)).scalar() or 0)


def interchange_rows(engine: Engine, community_id: UUID) -> list[dict[str, Any]]:
    t = timebank_interchange.c
    mine = str(community_id)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(timebank_interchange).where(or_(t.first_id == mine, t.second_id == mine))
            .order_by(t.interchange_id))]
