"""The household ledger (家庭文明积分台账): its members' balances and passbook lines, summed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, func, select

from ledger import ids
from ledger.domain.assets import Asset
from projections import queries
from projections.registry_view import household_members
from projections.tables import balances, passbook_lines


@dataclass(frozen=True)
class MemberFigures:
    member_id: str
    name: str
    passbook_no: str
    points: int = 0
    points_held: int = 0
    points_earned: int = 0
    minutes: int = 0
    minutes_earned: int = 0


@dataclass(frozen=True)
class HouseholdFigures:
    members: list[MemberFigures] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(m.points for m in self.members)

    @property
    def points_held(self) -> int:
        return sum(m.points_held for m in self.members)

    @property
    def points_earned(self) -> int:
        return sum(m.points_earned for m in self.members)

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.members)

    @property
    def minutes_earned(self) -> int:
        return sum(m.minutes_earned for m in self.members)


def _account(member_id: str, asset: Asset) -> str:
    return str(ids.account_id(UUID(member_id), asset.value))


def household_figures(engine: Engine, household_id: str) -> HouseholdFigures:
    members = household_members(engine, household_id)
    accounts = {_account(m["member_id"], a): (m["member_id"], a) for m in members for a in Asset}
    found: dict[tuple[str, Asset], Any] = {}
    if accounts:
        with engine.connect() as conn:
            for row in conn.execute(select(balances.c.account_id, balances.c.balance,
                                           balances.c.held, balances.c.earned)
                                    .where(balances.c.account_id.in_(list(accounts)))):
                found[accounts[row.account_id]] = row
    figures = []
    for member in members:
        points = found.get((member["member_id"], Asset.POINTS))
        minutes = found.get((member["member_id"], Asset.MINUTES))
        figures.append(MemberFigures(
            member_id=member["member_id"], name=member["name"],
            passbook_no=member["passbook_no"],
            points=points.balance if points else 0, points_held=points.held if points else 0,
            points_earned=points.earned if points else 0,
            minutes=minutes.balance if minutes else 0,
            minutes_earned=minutes.earned if minutes else 0,
        ))
    return HouseholdFigures(figures)


def household_passbook(
    engine: Engine, household_id: str, asset: Asset, *, limit: int, before: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Every member's lines, newest first, each with who it belongs to and the household's
    balance after it (the sum of all the household's lines up to it)."""
    members = household_members(engine, household_id)
    if not members:
        return [], None
    by_account = {_account(m["member_id"], asset): m for m in members}
    lines = passbook_lines.c
    query = (
        select(lines.position, lines.account_id, lines.at, lines.kind, lines.amount,
               lines.balance_after, lines.reference, lines.description,
               queries.occurred_at(), lines.counterparty)
        .select_from(queries.with_occurrences())
        .where(lines.account_id.in_(list(by_account)))
        .order_by(lines.position.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(lines.position < before)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        page = rows[:limit]
        running = 0
        if page:
            running = int(conn.execute(
                select(func.coalesce(func.sum(lines.amount), 0))
                .where(lines.account_id.in_(list(by_account)),
                       lines.position <= page[0].position)
            ).scalar_one())
    items = []
    for row in page:
        member = by_account[row.account_id]
        items.append({
            "position": row.position, "at": row.at, "kind": row.kind, "amount": row.amount,
            "balance_after": row.balance_after, "household_balance_after": running,
            "reference": row.reference, "description": row.description,
            "occurred_at": row.occurred_at, "counterparty": row.counterparty,
            "member_id": member["member_id"], "name": member["name"],
        })
        running -= row.amount
    next_before = page[-1].position if len(rows) > limit else None
    return items, next_before
