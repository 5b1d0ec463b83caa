"""The columns an import reads: their Chinese and English headers, which kind needs which,
and how a cell becomes a text, a whole number or a date."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from operator import itemgetter

from ledger.errors import ImportFileRefused
from ledger.imports.source import Cell


class Kind(StrEnum):
    MEMBERS = "members"
    AWARDS = "awards"
    OPENING_BALANCES = "opening_balances"


# Header (Chinese or English, any case) -> field.
HEADERS: dict[str, str] = {
    "姓名": "name", "name": "name",
    "存折号": "passbook_no", "passbook": "passbook_no", "passbook_no": "passbook_no",
    "户": "household", "household": "household",
    "网格": "grid", "grid": "grid",
    "楼栋": "building", "building": "building",
    "规则": "rule", "rule": "rule", "rule_code": "rule",
    "数量": "quantity", "quantity": "quantity",
    "分钟": "minutes", "minutes": "minutes",
    "积分": "points", "points": "points",
    "日期": "date", "date": "date",
    "事由": "note", "note": "note", "reason": "note",
}

FIELDS: dict[Kind, frozenset[str]] = {
    Kind.MEMBERS: frozenset({"name", "passbook_no", "household", "grid", "building"}),
    Kind.AWARDS: frozenset({"name", "passbook_no", "rule", "quantity", "minutes", "date",
                            "note"}),
    Kind.OPENING_BALANCES: frozenset({"name", "passbook_no", "points", "minutes", "date",
                                      "note"}),
}

# Columns a kind cannot do without: one of each tuple.
NEEDS: dict[Kind, list[tuple[str, ...]]] = {
    Kind.MEMBERS: [("name",)],
    Kind.AWARDS: [("name", "passbook_no"), ("rule",)],
    Kind.OPENING_BALANCES: [("name", "passbook_no"), ("points", "minutes")],
}

KIND_NAMES = {Kind.MEMBERS: "居民名单", Kind.AWARDS: "历史积分发放",
              Kind.OPENING_BALANCES: "期初余额"}


@dataclass(frozen=True)
class Header:
    """Where each field is in a row, and the header text each column had (for problems)."""

    index: dict[str, int]
    label: dict[str, str]

    def cell(self, row: list[Cell], field: str) -> Cell:
        at = self.index.get(field)
        return row[at] if at is not None and at < len(row) else None

    def cells(self, fields: Sequence[str]) -> Callable[[list[Cell]], tuple[Cell, ...]]:
        """A function that gives a row's cells of those `fields` the header has, in one
        tuple (None for a cell past the row's end), as `cell` would one by one."""
        at = [self.index[f] for f in fields if f in self.index]
        if not at:
            return lambda row: ()
        whole = itemgetter(*at) if len(at) > 1 else lambda row: (row[at[0]],)
        last = max(at)

        def cells(row: list[Cell]) -> tuple[Cell, ...]:
            if len(row) > last:
                found: tuple[Cell, ...] = whole(row)
                return found
            return tuple(row[i] if i < len(row) else None for i in at)

        return cells


def read_header(cells: list[Cell], kind: Kind) -> Header:
    """The header row read for `kind`; `ImportFileRefused` for unknown or repeated headers, or
    one the kind needs that is missing."""
    index: dict[str, int] = {}
    label: dict[str, str] = {}
    unknown: list[str] = []
    for at, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        field = HEADERS.get(text.lower()) or HEADERS.get(text)
        if field is None or field not in FIELDS[kind]:
            unknown.append(text)
            continue
        if field in index:
            raise ImportFileRefused("import-header-repeated", header=text, first=label[field])
        index[field], label[field] = at, text
    if unknown:
        known = "、".join(h for h, f in HEADERS.items()
                         if f in FIELDS[kind] and not h.isascii())
        raise ImportFileRefused("import-header-unknown", headers="、".join(unknown),
                                kind=KIND_NAMES[kind], known=known)
    if not index:
        raise ImportFileRefused("import-no-header")
    needs = NEEDS[kind]
    names = {"name": "姓名", "passbook_no": "存折号", "rule": "规则", "points": "积分",
             "minutes": "分钟"}
    for options in needs:
        if not any(o in index for o in options):
            raise ImportFileRefused("import-header-missing",
                                    headers="或".join(names[o] for o in options))
    return Header(index, label)


def is_blank(row: list[Cell]) -> bool:
    if row and type(first := row[0]) is str and first.strip():  # the usual row, at once
        return False
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def all_text(cells: tuple[Cell, ...]) -> bool:
    """Whether every cell is a text or blank: cells that equal only cells of their own kind
    (where a number 1 equals a 1.0 and a True, which read otherwise)."""
    return all(c is None or type(c) is str for c in cells)


class CellProblem(ValueError):
    """A cell that cannot be read; its text says why, in Chinese."""


def text(cell: Cell) -> str:
    if type(cell) is str:  # the usual cell, at once
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def whole_number(cell: Cell) -> int | None:
    """A whole number of zero or more (None when blank)."""
    if type(cell) is str and cell.isdigit() and cell.isascii():  # the usual cell, at once
        return int(cell)
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, (bool, date, datetime)):
        raise CellProblem("应当是整数")
    if isinstance(cell, float):
        if not cell.is_integer():
            raise CellProblem(f"应当是整数，不能是小数 {cell:g}")
        value = int(cell)
    elif isinstance(cell, int):
        value = cell
    else:
        raw = cell.strip().replace(",", "")
        if not re.fullmatch(r"[+-]?\d+(\.0*)?", raw):
            if re.fullmatch(r"[+-]?\d*\.\d+", raw):
                raise CellProblem(f"应当是整数，不能是小数 {raw}")
            raise CellProblem(f"“{raw[:20]}”不是整数")
        value = int(raw.split(".")[0])
    if value < 0:
        raise CellProblem(f"不能是负数 {value}")
    return value


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def when(cell: Cell) -> date | datetime | None:
    """A date (or date and time) as a sheet writes it: 2024-03-05, 2024/3/5, 2024年3月5日,
    with an optional time; or a date cell of an XLSX."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, datetime):
        return cell if (cell.hour, cell.minute, cell.second) != (0, 0, 0) else cell.date()
    if isinstance(cell, date):
        return cell
    found = _DATE.fullmatch(str(cell).strip())
    if not found:
        raise CellProblem(f"“{str(cell)[:20]}”不是日期（例如 2024-03-05）")
    y, m, d, hh, mm, ss = found.groups()
    try:
        if hh is None:
            return date(int(y), int(m), int(d))
        return datetime(int(y), int(m), int(d), int(hh), int(mm), int(ss or 0))
    except ValueError:
        raise CellProblem(f"没有这一天：{cell}") from None
