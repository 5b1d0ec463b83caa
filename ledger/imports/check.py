"""Checking an import's rows: each row becomes what it will post, or its problems (row,
column, detail in Chinese), against the community as it stands."""

from __future__ import annotations

import copyreg
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO, NamedTuple
from uuid import UUID, SafeUUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import Engine, text

from ledger import ids
from ledger.domain.accounts import cap_keys_for
from ledger.domain.assets import Asset
from ledger.domain.buildings import BuildingRegister
from ledger.domain.registry import ACTIVE, Community
from ledger.domain.rulebook import Rule
from ledger.errors import NotFound
from ledger.imports import columns
from ledger.imports.columns import CellProblem, Header, Kind
from ledger.imports.source import Cell
from ledger.limits import (
    ADJUSTMENT_MAX,
    CAP_HISTORY_DAYS,
    MINUTES_MAX,
    NAME_MAX_CHARS,
    POINTS_MAX,
    QUANTITY_MAX,
    TEXT_MAX_CHARS,
)
from ledger.store import load_aggregates

Problem = dict[str, Any]  # {row, column, detail}
# Members' cap usage of the periods their accounts still remember, asked for many at once.
Usage = Callable[[list[UUID]], dict[UUID, dict[str, int]]]


@dataclass(frozen=True)
class MemberRow:
    row: int
    name: str
    household: str  # an address ("" for none)
    household_id: UUID | None  # an existing household of that address
    grid: str  # a grid's name ("" for none)
    existing: bool  # already registered: nothing to post
    building_id: UUID | None = None  # the building a new household of the row goes in


@dataclass(frozen=True)
class AwardRow:
    # `Checker._award` makes one field by field, as `__init__` would: a field added here
    # goes there too.
    row: int
    member_id: UUID
    rule_code: str
    version: dict[str, Any]
    quantity: int | None
    minutes: int | None
    points: int
    occurred_at: datetime
    caps: tuple[tuple[str, int], ...]
    note: str


@dataclass(frozen=True)
class OpeningRow:
    row: int
    member_id: UUID
    points: int
    minutes: int
    occurred_at: datetime
    note: str


Checked = MemberRow | AwardRow | OpeningRow

# The cells of an award row other than its member's, in this order (those the file has).
PLAN_FIELDS = ("rule", "quantity", "minutes", "date", "note")


class AwardPlan(NamedTuple):
    """What an award row posts but for its member: the same for every row of a file whose
    cells other than the member's are the same."""

    rule_code: str
    version: dict[str, Any]
    quantity: int | None
    minutes: int | None
    points: int
    occurred_at: datetime
    caps: tuple[tuple[str, int], ...]
    note: str
    column: str  # the column a cap's problem names
    recent: bool  # dated late enough to count the cap usage stored before the file


@dataclass
class Registry:
    """The community as an import sees it: members by name and passbook number, households by
    address, grids, rules by code and name."""

    community: Community
    by_name: dict[str, list[tuple[UUID, str, UUID | None]]]  # name -> [(id, status, household)]
    by_passbook: dict[str, tuple[UUID, str, str]]  # passbook no -> (id, status, name)
    households: dict[str, UUID]  # address -> id
    rules: dict[str, Rule]  # code and names -> rule
    buildings: dict[str, tuple[UUID, UUID]] = field(default_factory=dict)  # name -> (id, grid)

    @classmethod
    def load(cls, app: Any, engine: Engine, community_id: UUID) -> Registry:
        try:
            community = app.repository.get(community_id)
        except AggregateNotFoundError:
            raise NotFound("not-found", thing="community") from None
        if not isinstance(community, Community):
            raise NotFound("not-found", thing="community")
        by_name: dict[str, list[tuple[UUID, str, UUID | None]]] = {}
        by_passbook: dict[str, tuple[UUID, str, str]] = {}
        households: dict[str, UUID] = {}
        key = str(community_id)
        with engine.connect() as conn:  # the registry view's tables (see projections.tables)
            members = conn.execute(text(
                "SELECT member_id, name, passbook_no, status, household_id "
                "FROM registry_members WHERE community_id = :community"), {"community": key})
            for member_id, name, passbook_no, status, household in members:
                uuid = UUID(member_id)
                by_name.setdefault(name, []).append(
                    (uuid, status, UUID(household) if household else None))
                by_passbook[passbook_no] = (uuid, status, name)
            for household_id, address in conn.execute(text(
                    "SELECT household_id, address FROM registry_households "
                    "WHERE community_id = :community"), {"community": key}):
                households.setdefault(address, UUID(household_id))
        rules: dict[str, Rule] = {}
        for code in community.rule_codes:
            rule = app.repository.get(ids.rule_id(community_id, code))
            if not rule.versions:
                continue
            for version in rule.versions:
                rules.setdefault(version["name"], rule)
            rules[rule.current["name"]] = rule
            rules[code] = rule
        buildings: dict[str, tuple[UUID, UUID]] = {}
        try:
            register = app.repository.get(BuildingRegister.create_id(community_id))
        except AggregateNotFoundError:
            register = None
        if isinstance(register, BuildingRegister):
            for entry in register.buildings.values():
                buildings.setdefault(entry["name"], (UUID(str(entry["id"])),
                                                     UUID(str(entry["grid_id"]))))
        return cls(community, by_name, by_passbook, households, rules, buildings)


@dataclass
class Checker:
    """Checks the rows of one file of one kind, in order; counts what earlier rows of the same
    file used of each cap. `existing_usage(member_ids)` gives accounts' cap usage of the
    periods they still remember (None: caps are not checked, as when posting), asked for the
    members of many rows at once (`ask_usage`)."""

    kind: Kind
    header: Header
    registry: Registry
    now: datetime
    existing_usage: Usage | None = None
    _zone: ZoneInfo = field(init=False)
    # A member's cap usage by the file's rows so far, by cap key (one small dict a member: a
    # long history's monthly keys would otherwise each cost a tuple too), by the member's
    # UUID as a number (hashed in C, a UUID in Python).
    _usage: dict[int, dict[str, int]] = field(default_factory=dict, init=False)
    _loaded: dict[UUID, dict[str, int]] = field(default_factory=dict, init=False)
    _keys: dict[tuple[str, date], tuple[str, str]] = field(default_factory=dict, init=False)
    _seen_members: set[tuple[str, str]] = field(default_factory=set, init=False)
    _dates: dict[str, datetime | str] = field(default_factory=dict, init=False)
    _versions: dict[tuple[str, datetime], dict[str, Any]] = field(default_factory=dict,
                                                                  init=False)
    _days: dict[datetime, date] = field(default_factory=dict, init=False)
    _usage_since: datetime = field(init=False)
    _passbook_prefix: str = field(init=False)  # this community's passbook numbers' start
    # The (cap key, cap) pairs of a rule's version on a day: one tuple shared by its rows.
    _cap_pairs: dict[tuple[str, date, int], tuple[tuple[str, int], ...]] = field(
        default_factory=dict, init=False)
    # Whether a time counts the cap usage stored before the file (`_recent`).
    _recent_at: dict[datetime, bool] = field(default_factory=dict, init=False)
    # The members that rows' passbook and name cells named, and the award plans of rows'
    # other cells, where those cells were texts or blank and the row had no problem.
    _members: dict[tuple[Cell, ...], UUID] = field(default_factory=dict, init=False)
    _plans: dict[tuple[Cell, ...], AwardPlan] = field(default_factory=dict, init=False)
    _member_cells: Callable[[list[Cell]], tuple[Cell, ...]] = field(init=False)
    _plan_cells: Callable[[list[Cell]], tuple[Cell, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.registry.community.time_zone)
        # Rows dated before this use no cap usage stored before the file (`_recent`).
        self._usage_since = self.now - timedelta(days=CAP_HISTORY_DAYS)
        self._passbook_prefix = self.registry.community.code + "-"
        self._member_cells = self.header.cells(("passbook_no", "name"))
        self._plan_cells = self.header.cells(PLAN_FIELDS)

    def ask_usage(self, rows: list[tuple[int, list[Cell]]]) -> None:
        """Asks in one go the cap usage of the members `rows` name by passbook number or by a
        name one resident has, where a row is dated late enough to count it and it is not
        known yet: one look-up for many rows, where `_award` would ask member by member."""
        if self.existing_usage is None or self.kind is not Kind.AWARDS:
            return
        registry = self.registry
        wanted: dict[UUID, None] = {}  # in the order first named
        for number, cells in rows:
            at = self._occurred_at(cells, [], number)
            if at is None or not self._recent(at):
                continue
            member_id = self._members.get(self._member_cells(cells))
            if member_id is None:
                passbook_no = columns.text(self.header.cell(cells, "passbook_no"))
                if passbook_no:
                    found = registry.by_passbook.get(passbook_no)
                    member_id = found[0] if found is not None else None
                else:
                    matches = registry.by_name.get(columns.text(self.header.cell(cells,
                                                                                 "name")))
                    member_id = matches[0][0] if matches and len(matches) == 1 else None
            if member_id is not None and member_id not in self._loaded:
                wanted[member_id] = None
        if wanted:
            self._loaded.update(self.existing_usage(list(wanted)))

    def check(self, number: int, row: list[Cell]) -> Checked | list[Problem]:
        """What row `number` will post, or its problems."""
        problems: list[Problem] = []
        if self.kind is Kind.MEMBERS:
            return self._member(number, row, problems) or problems
        if self.kind is Kind.AWARDS:
            return self._award(number, row, problems) or problems
        return self._opening(number, row, problems) or problems

    # --- helpers ---------------------------------------------------------------------------
    def _problem(self, problems: list[Problem], number: int, fld: str, detail: str) -> None:
        problems.append({"row": number, "column": self.header.label.get(fld, fld),
                         "detail": detail})

    def _text(self, row: list[Cell], fld: str, problems: list[Problem], number: int,
              most: int) -> str:
        value = columns.text(self.header.cell(row, fld))
        if len(value) > most:
            self._problem(problems, number, fld, f"超过 {most} 个字")
        return value

    def _number(self, row: list[Cell], fld: str, problems: list[Problem],
                number: int) -> int | None:
        try:
            return columns.whole_number(self.header.cell(row, fld))
        except CellProblem as error:
            self._problem(problems, number, fld, str(error))
            return None

    def _occurred_at(self, row: list[Cell], problems: list[Problem], number: int
                     ) -> datetime | None:
        """When the row's deed was done (now if blank); None with a problem."""
        cell = self.header.cell(row, "date")
        known = self._dates.get(cell) if isinstance(cell, str) else None
        if known is None:
            found: list[Problem] = []
            known = self._read_date(cell, found, number) or found[0]["detail"]
            if isinstance(cell, str) and len(self._dates) < 100_000:
                self._dates[cell] = known
        if isinstance(known, str):
            self._problem(problems, number, "date", known)
            return None
        return known

    def _read_date(self, cell: Cell, problems: list[Problem], number: int
                   ) -> datetime | None:
        try:
            given = columns.when(cell)
        except CellProblem as error:
            self._problem(problems, number, "date", str(error))
            return None
        if given is None:
            return self.now
        if isinstance(given, datetime):
            at = given.replace(tzinfo=self._zone) if given.tzinfo is None else given
        else:  # a day: noon there, or now if that is still to come today
            at = datetime.combine(given, time(12), tzinfo=self._zone)
            if given == self.now.astimezone(self._zone).date():
                at = min(at, self.now)
        if at > self.now + timedelta(minutes=5):
            self._problem(problems, number, "date",
                          f"日期 {at.astimezone(self._zone):%Y-%m-%d} 在将来")
            return None
        return at

    def _recent(self, at: datetime) -> bool:
        """Whether a row dated `at` counts the cap usage stored before the file."""
        recent = self._recent_at.get(at)
        if recent is None:
            recent = at >= self._usage_since
            if len(self._recent_at) < 100_000:
                self._recent_at[at] = recent
        return recent

    def _member_of(self, row: list[Cell], problems: list[Problem], number: int
                   ) -> UUID | None:
        """The resident a row names by passbook number, or by a name only one resident has
        (found once for the same cells, where they are texts or blank)."""
        cells = self._member_cells(row)
        member_id = self._members.get(cells)
        if member_id is not None:
            return member_id
        member_id = self._find_member(row, problems, number)
        if member_id is not None and len(self._members) < 100_000 and columns.all_text(cells):
            self._members[cells] = member_id
        return member_id

    def _find_member(self, row: list[Cell], problems: list[Problem], number: int
                     ) -> UUID | None:
        passbook_no = columns.text(self.header.cell(row, "passbook_no"))
        name = columns.text(self.header.cell(row, "name"))
        registry = self.registry
        if passbook_no:
            if not passbook_no.startswith(self._passbook_prefix):
                self._problem(problems, number, "passbook_no",
                              f"存折号 {passbook_no} 不是本社区的存折号")
                return None
            found = registry.by_passbook.get(passbook_no)
            if found is None:
                self._problem(problems, number, "passbook_no", f"本社区没有存折号 {passbook_no}")
                return None
            member_id, status, registered_name = found
            if name and name != registered_name:
                self._problem(problems, number, "name",
                              f"存折号 {passbook_no} 登记的不是这一行的姓名（请核对姓名或存折号）")
                return None
        elif name:
            matches = registry.by_name.get(name, [])
            if not matches:
                self._problem(problems, number, "name",
                              "本社区没有这个姓名的居民（请核对姓名，或填写存折号）")
                return None
            if len(matches) > 1:
                self._problem(problems, number, "name",
                              f"本社区有 {len(matches)} 位同名居民，请填写存折号")
                return None
            member_id, status, _household = matches[0]
        else:
            self._problem(problems, number, "name", "没有填写姓名或存折号")
            return None
        if status != ACTIVE:
            column = "passbook_no" if passbook_no else "name"
            self._problem(problems, number, column, "该居民已迁出或去世，不能再记入积分或时长")
            return None
        return member_id

    # --- each kind -------------------------------------------------------------------------
    def _member(self, number: int, row: list[Cell], problems: list[Problem]
                ) -> MemberRow | None:
        name = self._text(row, "name", problems, number, NAME_MAX_CHARS)
        household = self._text(row, "household", problems, number, NAME_MAX_CHARS)
        grid = self._text(row, "grid", problems, number, NAME_MAX_CHARS)
        building_name = self._text(row, "building", problems, number, NAME_MAX_CHARS)
        building = self.registry.buildings.get(building_name) if building_name else None
        if building_name and building is None:
            self._problem(problems, number, "building",
                          f"本社区没有楼栋“{building_name}”（请先在工作台添加楼栋）")
        elif building is not None and grid and self.registry.community.grids.get(
                str(building[1])) != grid:
            self._problem(problems, number, "grid", f"楼栋“{building_name}”不在网格“{grid}”里")
        passbook_no = columns.text(self.header.cell(row, "passbook_no"))
        if not name:
            self._problem(problems, number, "name", "没有填写姓名")
        existing = False
        if passbook_no:
            found = self.registry.by_passbook.get(passbook_no)
            if not passbook_no.startswith(self.registry.community.code + "-"):
                self._problem(problems, number, "passbook_no",
                              f"存折号 {passbook_no} 不是本社区的存折号")
            elif found is None:
                self._problem(problems, number, "passbook_no", f"本社区没有存折号 {passbook_no}"
                              "（新居民的存折号由系统编发，请留空）")
            elif name and found[2] != name:
                self._problem(problems, number, "name",
                              f"存折号 {passbook_no} 登记的不是这一行的姓名（请核对姓名或存折号）")
            existing = True
        household_id = self.registry.households.get(household) if household else None
        if not passbook_no and name and (household_id is not None or not household):
            # The same name in the same household (or both in none) is already registered.
            existing = any(h == household_id for _m, _s, h in self.registry.by_name.get(name, []))
        if not passbook_no and name:
            if (name, household) in self._seen_members:
                self._problem(problems, number, "name",
                              "这个姓名在同一户中出现了两次（见本表前面的行）")
            self._seen_members.add((name, household))
        if problems:
            return None
        return MemberRow(number, name, household, household_id, grid, existing,
                         building[0] if building is not None else None)

    def _award(self, number: int, row: list[Cell], problems: list[Problem]
               ) -> AwardRow | None:
        member_id = self._member_of(row, problems, number)
        cells = self._plan_cells(row)
        plan = None if problems else self._plans.get(cells)
        if plan is None:
            plan = self._plan(number, row, problems)
            if plan is None:
                return None
            if len(self._plans) < 10_000 and columns.all_text(cells):  # ~0.5 kB each
                self._plans[cells] = plan
        assert member_id is not None
        code, version, quantity, minutes, points, occurred_at, caps, note, column, recent = plan
        if caps and self.existing_usage is not None:
            usage = self._usage.get(member_id.int)
            stored = self._stored_usage(member_id) if recent else None
            for key, cap in caps:
                used = usage.get(key, 0) if usage is not None else 0
                if stored is not None:
                    used += stored.get(key, 0)
                if used + points > cap:
                    period = "每日" if "|D|" in key else "每月"
                    self._problem(problems, number, column,
                                  f"超过规则“{version['name']}”{period}上限 {cap} 积分"
                                  f"（该居民这期已有 {used} 积分，本行 {points} 积分）")
                    return None
            if usage is None:
                usage = self._usage[member_id.int] = {}
            for key, _cap in caps:
                usage[key] = usage.get(key, 0) + points
        # As `AwardRow(...)` makes it, but quicker: a frozen dataclass's `__init__` sets each
        # field by a call of `object.__setattr__`.
        award: AwardRow = object.__new__(AwardRow)
        award.__dict__.update(row=number, member_id=member_id, rule_code=code, version=version,
                              quantity=quantity, minutes=minutes, points=points,
                              occurred_at=occurred_at, caps=caps, note=note)
        return award

    def _plan(self, number: int, row: list[Cell], problems: list[Problem]
              ) -> AwardPlan | None:
        """What an award row posts but for its member, or None with its problems (added to
        those of its member, if any)."""
        code = columns.text(self.header.cell(row, "rule"))
        rule = self.registry.rules.get(code) if code else None
        if not code:
            self._problem(problems, number, "rule", "没有填写规则")
        elif rule is None:
            self._problem(problems, number, "rule", f"本社区的积分细则中没有“{code}”")
        elif rule.retired:
            self._problem(problems, number, "rule", f"规则“{code}”已停用")
            rule = None
        quantity = self._number(row, "quantity", problems, number)
        minutes = self._number(row, "minutes", problems, number)
        occurred_at = self._occurred_at(row, problems, number)
        note = self._text(row, "note", problems, number, TEXT_MAX_CHARS)
        if rule is None or occurred_at is None or problems:
            return None
        version = self._versions.get((rule.code, occurred_at))
        if version is None:
            version = rule.in_force_at(occurred_at)
            if len(self._versions) < 100_000:
                self._versions[(rule.code, occurred_at)] = version
        if version["unit"] == "hour":
            if minutes is None:
                self._problem(problems, number, "minutes",
                              f"规则“{version['name']}”按小时计，请填写分钟")
                return None
            if quantity is not None:
                self._problem(problems, number, "quantity", "按小时计的规则只填分钟，不填数量")
            if minutes > MINUTES_MAX:
                self._problem(problems, number, "minutes", f"一次最多 {MINUTES_MAX} 分钟")
            points = int(version["points"]) * minutes // 60
            column = "minutes"
        else:
            if minutes is not None:
                self._problem(problems, number, "minutes",
                              f"规则“{version['name']}”按次计，请填写数量，不填分钟")
            quantity = 1 if quantity is None else quantity
            if quantity > QUANTITY_MAX:
                self._problem(problems, number, "quantity", f"一次最多 {QUANTITY_MAX} 次")
            points = int(version["points"]) * quantity
            column = "quantity"
        if problems:
            return None
        if points < 1:
            self._problem(problems, number, column, "不足 1 积分")
            return None
        if points > POINTS_MAX:
            self._problem(problems, number, column, f"一笔最多 {POINTS_MAX} 积分")
            return None
        return AwardPlan(rule.code, version, quantity if column == "quantity" else None,
                         minutes if column == "minutes" else None, points, occurred_at,
                         self._caps(version, rule.code, occurred_at), note, column,
                         self._recent(occurred_at))

    def _caps(self, version: dict[str, Any], code: str, at: datetime
              ) -> tuple[tuple[str, int], ...]:
        day = self._days.get(at)
        if day is None:
            day = at.astimezone(self._zone).date()
            if len(self._days) < 100_000:
                self._days[at] = day
        pairs = self._cap_pairs.get((code, day, version["version"]))
        if pairs is not None:
            return pairs
        keys = self._keys.get((code, day))
        if keys is None:
            keys = self._keys[(code, day)] = cap_keys_for(code, day)
        pairs = tuple((k, c) for k, c in ((keys[0], version["daily_cap"]),
                                          (keys[1], version["monthly_cap"])) if c is not None)
        if len(self._cap_pairs) < 100_000:
            self._cap_pairs[(code, day, version["version"])] = pairs
        return pairs

    def _stored_usage(self, member_id: UUID) -> dict[str, int]:
        """A member's cap usage stored before the file (asked alone if `ask_usage` did not)."""
        usage = self._loaded.get(member_id)
        if usage is None:
            assert self.existing_usage is not None
            usage = self._loaded[member_id] = self.existing_usage([member_id])[member_id]
        return usage

    def _opening(self, number: int, row: list[Cell], problems: list[Problem]
                 ) -> OpeningRow | None:
        member_id = self._member_of(row, problems, number)
        points = self._number(row, "points", problems, number)
        minutes = self._number(row, "minutes", problems, number)
        occurred_at = self._occurred_at(row, problems, number)
        note = self._text(row, "note", problems, number, TEXT_MAX_CHARS)
        for fld, value in (("points", points), ("minutes", minutes)):
            if value is not None and value > ADJUSTMENT_MAX:
                self._problem(problems, number, fld, f"期初余额最多 {ADJUSTMENT_MAX}")
        if not problems and not points and not minutes:
            self._problem(problems, number, "points" if "points" in self.header.index
                          else "minutes", "积分和分钟都是空的或为 0")
        if problems or member_id is None or occurred_at is None:
            return None
        return OpeningRow(number, member_id, points or 0, minutes or 0, occurred_at, note)


_UNKNOWN = SafeUUID.unknown


def _uuid(number: int) -> UUID:
    """The UUID of `number`, made as unpickling makes one (`reduce_uuid`)."""
    made: UUID = object.__new__(UUID)
    object.__setattr__(made, "int", number)
    object.__setattr__(made, "is_safe", _UNKNOWN)
    return made


def reduce_uuid(value: UUID) -> tuple[Any, ...]:
    """How a pickler may pickle a UUID: by its number, quicker to pickle and to load again
    than its state (a dictionary made by `UUID.__getstate__`, read by `__setstate__`); one
    that knows whether it is safe, by its state."""
    if value.is_safe is _UNKNOWN:
        return _uuid, (value.int,)
    reduced = value.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    assert isinstance(reduced, tuple)
    return reduced


_ROW_REDUCERS = {**copyreg.dispatch_table, UUID: reduce_uuid}


def dump_rows(rows: list[Checked | list[Problem]], file: BinaryIO) -> None:
    """Pickles `rows` to `file` as `pickle.dump` would, for `pickle.load` to read back; their
    UUIDs by number (`reduce_uuid`)."""
    pickler = pickle.Pickler(file, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _ROW_REDUCERS
    pickler.dump(rows)


def account_usage(app: Any) -> Usage:
    """How a checker reads members' cap usage: from their points accounts in the store, in
    one query a few hundred of them (`load_aggregates`)."""
    def usage(member_ids: list[UUID]) -> dict[UUID, dict[str, int]]:
        accounts = {m: ids.account_id(m, Asset.POINTS.value) for m in member_ids}
        loaded = load_aggregates(app, list(accounts.values()))
        return {m: dict(getattr(loaded.get(a), "cap_usage", None) or {})
                for m, a in accounts.items()}

    return usage
