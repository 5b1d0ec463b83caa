"""The registry's lists, a page at a time: communities, grids, households, members (with their
prefix search) and merchants.

Each list is ordered by columns that end in a unique one, and a page's `next_cursor` carries
the last item's values of them (opaque to callers: base64 of JSON), so the next page starts
right after it, one range of an index, however deep the page. Member searches compare text
bytewise (code point order; COLLATE "C" on PostgreSQL, SQLite's default), so a prefix is one
range of `registry_members_name_idx` or `registry_members_passbook_idx`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, false, or_, select

from ledger.errors import InvalidRequest
from projections.natural import natural_key
from projections.tables import (
    registry_communities,
    registry_grids,
    registry_households,
    registry_members,
    registry_merchants,
)

PASSBOOK_PREFIX = re.compile(r"^[0-9][0-9-]*$")  # a q of digits reads as a passbook number


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _encode(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values), ensure_ascii=False)
                                    .encode()).decode().rstrip("=")


def _decode(cursor: str, kind: str, types: Sequence[type]) -> list[Any]:
    """The values a cursor of the list `kind` carries; 422 for any other text."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        values = None
    if (not isinstance(values, list) or len(values) != len(types) + 1 or values[0] != kind
            or not all(type(v) is t for v, t in zip(values[1:], types, strict=True))):
        raise InvalidRequest("cursor")
    return values[1:]


def _after(columns: Sequence[ColumnElement[Any]], values: Sequence[Any],
           descending: bool) -> ColumnElement[bool]:
    """Rows after (`values`) in the order of `columns`: a >= x and ((a > x) or (a = x and
    b > y) ...), the first part a range of the index, the rest a filter on its start."""
    clause: ColumnElement[bool] = false()
    for i in reversed(range(len(columns))):
        beyond = columns[i] < values[i] if descending else columns[i] > values[i]
        clause = or_(beyond, and_(columns[i] == values[i], clause)) if i < len(columns) - 1 \
            else beyond
    if len(columns) == 1:
        return clause
    start = columns[0] <= values[0] if descending else columns[0] >= values[0]
    return and_(start, clause)


def _page(engine: Engine, query: Select[Any], order: Sequence[ColumnElement[Any]],
          keys: Sequence[str], cursor: str | None, limit: int, *, kind: str,
          descending: bool = False) -> Page:
    """A page of `query` in the order of `order` (the values of `keys` in its rows), after
    the cursor of the list `kind`."""
    types = [int if c.type.python_type is int else str for c in order]
    if cursor:
        query = query.where(_after(order, _decode(cursor, kind, types), descending))
    query = query.order_by(*(c.desc() if descending else c for c in order)).limit(limit + 1)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    page = rows[:limit]
    more = len(rows) > limit and page
    return Page(page, _encode([kind, *(page[-1][k] for k in keys)]) if more else None)


def _bytewise(engine: Engine, column: ColumnElement[str]) -> ColumnElement[str]:
    """The column compared in code point order (as its index is, on PostgreSQL)."""
    return column.collate("C") if engine.dialect.name == "postgresql" else column


def communities(engine: Engine, community_ids: list[str] | None, cursor: str | None,
                limit: int) -> Page:
    """Every community (or only those of `community_ids`), in the order they were
    registered."""
    c = registry_communities.c
    query = select(c.community_id, c.name, c.time_zone)
    if community_ids is not None:
        query = query.where(c.community_id.in_(community_ids))
    return _page(engine, query, [c.community_id], ["community_id"], cursor, limit,
                 kind="communities")


def grids(engine: Engine, community_id: str, cursor: str | None, limit: int) -> Page:
    """A community's grids in their sort order, then by name in natural order (第二 before
    第十); a community has few, so they are ordered here and the cursor names the last."""
    g = registry_grids.c
    query = select(g.grid_id, g.name, g.sort_order).where(g.community_id == community_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    rows.sort(key=lambda r: (r["sort_order"], natural_key(r["name"]), r["grid_id"]))
    start = 0
    if cursor:
        after = _decode(cursor, "grids", [str])[0]
        start = next((i + 1 for i, r in enumerate(rows) if r["grid_id"] == after), -1)
        if start < 0:
            raise InvalidRequest("cursor")
    page = rows[start:start + limit]
    more = len(rows) > start + limit and page
    return Page(page, _encode(["grids", page[-1]["grid_id"]]) if more else None)


def households(engine: Engine, community_id: str, grid_id: str | None, cursor: str | None,
               limit: int, building_id: str | None = None) -> Page:
    """A community's households (of one grid or building, if named), in the order they were
    registered."""
    h = registry_households.c
    query = select(h.household_id, h.community_id, h.grid_id, h.address, h.building_id).where(
        h.community_id == community_id)
    if grid_id is not None:
        query = query.where(h.grid_id == grid_id)
    if building_id is not None:
        query = query.where(h.building_id == building_id)
    return _page(engine, query, [h.household_id], ["household_id"], cursor, limit,
                 kind="households")


def merchants(engine: Engine, community_id: str, merchant_id: str | None, cursor: str | None,
              limit: int) -> Page:
    """A community's merchants (or only `merchant_id`), in the order they were registered."""
    m = registry_merchants.c
    query = select(m.merchant_id, m.community_id, m.name, m.status).where(
        m.community_id == community_id)
    if merchant_id is not None:
        query = query.where(m.merchant_id == merchant_id)
    return _page(engine, query, [m.merchant_id], ["merchant_id"], cursor, limit,
                 kind="merchants")


def _prefix_range(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """Texts starting with `prefix`: from it up to (not including) the next prefix in code
    point order."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return column >= prefix
    return and_(column >= prefix, column < prefix[:-1] + chr(last + 1))


def members(engine: Engine, community_id: str, q: str, status: str | None,
            cursor: str | None, limit: int) -> Page:
    """A community's members. Without `q`, the latest registered first (passbook numbers
    follow registration); a `q` of digits (and dashes) finds passbook numbers starting with
    it, in their order; any other `q` finds names starting with it, in name order."""
    m = registry_members.c
    name, number = _bytewise(engine, m.name), _bytewise(engine, m.passbook_no)
    query = select(m.member_id, m.name, m.passbook_no, m.household_id, m.grid_id,
                   m.status).where(m.community_id == community_id)
    if status is not None:
        query = query.where(m.status == status)
    if not q:
        return _page(engine, query, [number], ["passbook_no"], cursor, limit,
                     kind="members-latest", descending=True)
    if PASSBOOK_PREFIX.match(q):
        return _page(engine, query.where(_prefix_range(number, q)), [number], ["passbook_no"],
                     cursor, limit, kind="members-by-number")
    return _page(engine, query.where(_prefix_range(name, q)), [name, number],
                 ["name", "passbook_no"], cursor, limit, kind="members-by-name")



