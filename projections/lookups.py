"""Finding members for the pages: by passbook number, and their names by id (the members' list
and search is in `registry_lists`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from projections.tables import registry_households, registry_members


def member_by_passbook(engine: Engine, passbook_no: str,
                       community_id: str | None) -> dict[str, Any] | None:
    """The member holding the passbook, within the community when one is given."""
    m = registry_members.c
    query = select(m.member_id, m.community_id, m.name, m.passbook_no, m.household_id).where(
        m.passbook_no == passbook_no)
    if community_id is not None:
        query = query.where(m.community_id == community_id)
    with engine.connect() as conn:
        row = conn.execute(query.limit(1)).first()
    return dict(row._mapping) if row else None


def member_names(engine: Engine, member_ids: list[str]) -> dict[str, str]:
    if not member_ids:
        return {}
    m = registry_members.c
    with engine.connect() as conn:
        rows = conn.execute(select(m.member_id, m.name)
                            .where(m.member_id.in_(sorted(set(member_ids))))).all()
    return {row.member_id: row.name for row in rows}


def member_by_id(engine: Engine, member_id: str) -> dict[str, Any] | None:
    """A member's community, name and passbook number."""
    m = registry_members.c
    with engine.connect() as conn:
        row = conn.execute(select(m.member_id, m.community_id, m.name, m.passbook_no)
                           .where(m.member_id == member_id)).first()
    return dict(row._mapping) if row else None


def names_and_addresses(engine: Engine, member_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Members' names and their households' addresses ("" without a household), by id."""
    if not member_ids:
        return {}
    m, h = registry_members.c, registry_households.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.member_id, m.name, h.address)
            .select_from(registry_members.outerjoin(
                registry_households, m.household_id == h.household_id))
            .where(m.member_id.in_(sorted(set(member_ids))))).all()
    return {row.member_id: (row.name, row.address or "") for row in rows}
