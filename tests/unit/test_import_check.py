"""The checking of an import's rows without a database: rows that repeat their cells are each
checked as their own, caps counted member by member, and the spooled rows load back equal."""

from __future__ import annotations

import io
import pickle
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.domain.registry import ACTIVE, Community
from ledger.domain.rulebook import Rule
from ledger.imports.check import AwardRow, Checker, Registry, dump_rows
from ledger.imports.columns import Kind, read_header
from ledger.imports.source import Cell

STAFF = Actor("test:staff", Role.ADMIN)
NOW = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)


def _registry() -> tuple[Registry, list[str], list[UUID]]:
    """A community of three residents and a rule worth 2 points a deed, 5 a day at most."""
    community = Community.register("幸福社区", 7, STAFF)
    rule = Rule.create(community.id, "GIFT", STAFF)
    rule.revise(name="捐物", points=2, unit="each", daily_cap=5, monthly_cap=None,
                requires_approval=False, by=STAFF)
    members = [uuid.uuid4() for _ in range(3)]
    passbooks = [f"{community.code}-{n:06d}" for n in range(1, 4)]
    by_passbook = {p: (m, ACTIVE, f"居民{n}")
                   for n, (p, m) in enumerate(zip(passbooks, members, strict=True))}
    by_name: dict[str, list[tuple[UUID, str, UUID | None]]] = {
        name: [(m, status, None)] for m, status, name in by_passbook.values()}
    return (Registry(community, by_name, by_passbook, {}, {"GIFT": rule, "捐物": rule}),
            passbooks, members)


def _check(registry: Registry, header: list[Cell], rows: list[list[Cell]],
           usage: dict[UUID, dict[str, int]] | None = None) -> list[Any]:
    """Checks `rows` (the first is row 2) as one block, the cap usage stored being `usage`."""
    stored = usage or {}
    checker = Checker(Kind.AWARDS, read_header(header, Kind.AWARDS), registry, NOW,
                      lambda ids: {m: dict(stored.get(m, {})) for m in ids})
    block = list(enumerate(rows, start=2))
    checker.ask_usage(block)
    return [checker.check(n, cells) for n, cells in block]


def test_rows_with_the_same_cells_count_each_member_s_cap_apart() -> None:
    registry, passbooks, members = _registry()
    one, two, _ = passbooks
    answers = _check(registry, ["存折号", "规则", "日期"],
                     [[one, "GIFT", "2026-03-19"], [two, "GIFT", "2026-03-19"],
                      [one, "GIFT", "2026-03-19"], [one, "GIFT", "2026-03-19"],
                      [two, "GIFT", "2026-03-19"]],
                     usage={members[1]: {"GIFT|D|2026-03-19": 2}})
    first, second, third, fourth, fifth = answers
    assert isinstance(first, AwardRow) and isinstance(third, AwardRow)
    assert (first.member_id, third.member_id, first.points) == (members[0], members[0], 2)
    assert isinstance(second, AwardRow) and second.member_id == members[1]
    assert fourth == [{"row": 5, "column": "quantity",  # no quantity column: its field
                       "detail": "超过规则“捐物”每日上限 5 积分"
                                 "（该居民这期已有 4 积分，本行 2 积分）"}]
    assert isinstance(fifth, list) and "已有 4 积分" in fifth[0]["detail"]


def test_cells_equal_as_numbers_are_read_as_what_they_are() -> None:
    registry, passbooks, _ = _registry()
    one, two, three = passbooks
    answers = _check(registry, ["存折号", "规则", "数量", "事由"],
                     [[one, "GIFT", 1, 1], [two, "GIFT", True, 1.0], [three, "GIFT", 1.0, True]])
    first, second, third = answers
    assert isinstance(first, AwardRow) and (first.quantity, first.note) == (1, "1")
    assert second == [{"row": 3, "column": "数量", "detail": "应当是整数"}]
    assert isinstance(third, AwardRow) and (third.quantity, third.note) == (1, "True")


def test_spooled_rows_load_back_equal() -> None:
    registry, passbooks, _ = _registry()
    rows = _check(registry, ["存折号", "规则"], [[p, "捐物"] for p in passbooks])
    # A UUID that knows whether it was made safely keeps knowing it.
    rows.append(replace(rows[0], row=5, member_id=uuid.uuid1()))
    spool = io.BytesIO()
    dump_rows(rows, spool)
    spool.seek(0)
    loaded = pickle.load(spool)
    assert loaded == rows and all(type(row.member_id) is UUID for row in loaded)
    assert [r.member_id.is_safe for r in loaded] == [r.member_id.is_safe for r in rows]
