"""Finding members for the pages: by passbook number, or by a piece of name or number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, or_, select

from projections.tables import registry_members

SEARCH_MAX = 50


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


def search_members(engine: Engine, community_id: str, text: str,
                   limit: int = SEARCH_MAX) -> list[dict[str, Any]]:
    """Members of the community whose name or passbook number holds `text` (all when empty),
    the latest registered first."""
    m = registry_members.c
    query = select(m.member_id, m.name, m.passbook_no, m.household_id, m.grid_id).where(
        m.community_id == community_id)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(m.name.like(pattern, escape="\\"),
                                m.passbook_no.like(pattern, escape="\\")))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(m.position.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in rows]


def member_names(engine: Engine, member_ids: list[str]) -> dict[str, str]:
    if not member_ids:
        return {}
    m = registry_members.c
    with engine.connect() as conn:
        rows = conn.execute(select(m.member_id, m.name)
                            .where(m.member_id.in_(sorted(set(member_ids))))).all()
    return {row.member_id: row.name for row in rows}
