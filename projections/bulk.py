"""Many rows in one statement: what the views write a batch with.

On PostgreSQL each column travels as one array and the statement reads the rows from
`unnest`: one round trip and one parse a batch, however many rows (psycopg2 runs an
executemany a row at a time). On SQLite `executemany` runs in-process. Either way the SQL is
built once per table and set of columns, and the rows skip SQLAlchemy's per-row work: only
the columns' own bind processors run (the same ones SQLAlchemy would run).

Rows of one insert or merge set the same columns; an update or a merge names a key once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, DateTime, Dialect, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import ColumnElement

Row = dict[str, Any]
# From the table and the `excluded` row of an upsert, what to set on a conflict.
Changes = Callable[[Table, Any], dict[str, ColumnElement[Any]]]


def insert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """INSERT every row."""
    if rows:
        _run(conn, table, rows, _insert_sql, ())


def update(conn: Connection, table: Table, key: str, rows: Sequence[Row]) -> None:
    """UPDATE the row whose `key` is each row's, setting the row's other columns (rows that
    set different columns go in one statement for each set)."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for group in groups.values():
        _run(conn, table, group, _update_sql, (key,))


def merge(conn: Connection, table: Table, keys: tuple[str, ...], changes: Changes,
          rows: Sequence[Row]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET `changes` (a module-level function: the SQL
    is cached by it)."""
    if rows:
        _run(conn, table, rows, _merge_sql, (keys, changes))


def upsert(conn: Connection, table: Table) -> Any:
    """An INSERT that can take ON CONFLICT, in the connection's dialect."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """`values` in slices of `size`: for `IN (…)` lists of a bounded length."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _run(conn: Connection, table: Table, rows: Sequence[Row],
         build: Callable[..., str], extra: tuple[Any, ...]) -> None:
    names = tuple(rows[0])
    plan = _plan(conn.dialect, table, names, build, extra)
    columns = [[row[name] for row in rows] if process is None
               else [process(row[name]) for row in rows]
               for name, process in zip(names, plan.processors, strict=True)]
    if plan.postgres:
        conn.exec_driver_sql(plan.sql, tuple(
            encode(column) for column, encode in zip(columns, plan.encoders, strict=True)))
    else:
        conn.exec_driver_sql(plan.sql, list(zip(*columns, strict=True)))


@dataclass(frozen=True)
class _Plan:
    """A statement's SQL and, for each column, its bind processor and array encoder."""

    sql: str
    postgres: bool
    processors: list[Callable[[Any], Any] | None]
    encoders: list[Callable[[list[Any]], str]]


_PLANS: dict[tuple[Any, ...], _Plan] = {}


def _plan(dialect: Dialect, table: Table, names: tuple[str, ...], build: Callable[..., str],
          extra: tuple[Any, ...]) -> _Plan:
    """Made once for each statement and class of dialect."""
    key = (type(dialect), table, names, build, extra)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _make_plan(dialect, table, names, build, extra)
    return plan


def _make_plan(dialect: Dialect, table: Table, names: tuple[str, ...],
               build: Callable[..., str], extra: tuple[Any, ...]) -> _Plan:
    postgres = dialect.name == "postgresql"
    columns = [table.c[name] for name in names]
    return _Plan(
        sql=build(table, names, postgres, *extra), postgres=postgres,
        processors=[c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns],
        encoders=[_ARRAYS[_array_type(c)][1] for c in columns])


# --- PostgreSQL array literals: one string a column, parsed by the server ------------------
# A JSON array whose brackets become braces is an array literal, provided JSON escaped nothing
# (there is no backslash in it: the two escape differently); `null` is NULL to both.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _texts(values: list[Any]) -> str:
    try:
        encoded = _JSON.encode(values)
    except TypeError:  # not a string: its str() goes
        encoded = "\\"
    if "\\" not in encoded:
        return "{" + encoded[1:-1] + "}"
    return "{" + ",".join(
        "NULL" if v is None
        else '"' + (v if isinstance(v, str) else str(v)).replace("\\", "\\\\")
        .replace('"', '\\"') + '"'
        for v in values) + "}"


def _plain(values: list[Any]) -> str:
    """Integers or booleans."""
    return "{" + _JSON.encode(values)[1:-1] + "}"


def _instants(values: list[Any]) -> str:
    return "{" + _JSON.encode([None if v is None else v.isoformat() for v in values])[1:-1] + "}"


_ARRAYS: dict[str, tuple[type[Any], Callable[[list[Any]], str]]] = {
    "bigint[]": (BigInteger, _plain), "boolean[]": (Boolean, _plain),
    "timestamptz[]": (DateTime, _instants), "text[]": (String, _texts),
}


def _array_type(column: Column[Any]) -> str:
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator's underlying type
    for name, (base, _) in _ARRAYS.items():
        if isinstance(kind, base):
            return name
    raise TypeError(f"no array type for {column}")


def _source(table: Table, names: tuple[str, ...], postgres: bool) -> str:
    """Where the rows come from: unnest of one array a column, or one row of parameters."""
    if postgres:
        arrays = ", ".join(f"%s::{_array_type(table.c[name])}" for name in names)
        return f"SELECT * FROM unnest({arrays})"
    return f"VALUES ({', '.join('?' for _ in names)})"


@lru_cache(maxsize=256)
def _insert_sql(table: Table, names: tuple[str, ...], postgres: bool) -> str:
    return f"INSERT INTO {table.name} ({', '.join(names)}) {_source(table, names, postgres)}"


@lru_cache(maxsize=256)
def _update_sql(table: Table, names: tuple[str, ...], postgres: bool, key: str) -> str:
    changed = [name for name in names if name != key]
    if postgres:
        assignments = ", ".join(f"{name} = v.{name}" for name in changed)
        return (f"UPDATE {table.name} SET {assignments} "
                f"FROM ({_source(table, names, postgres)}) AS v ({', '.join(names)}) "
                f"WHERE {table.name}.{key} = v.{key}")
    # numbered parameters: a row's values come in the order of its columns
    assignments = ", ".join(f"{name} = ?{names.index(name) + 1}" for name in changed)
    return f"UPDATE {table.name} SET {assignments} WHERE {key} = ?{names.index(key) + 1}"


@lru_cache(maxsize=256)
def _merge_sql(table: Table, names: tuple[str, ...], postgres: bool, keys: tuple[str, ...],
               changes: Changes) -> str:
    dialect = (postgresql.dialect() if postgres  # type: ignore[no-untyped-call]
               else sqlite.dialect())  # type: ignore[no-untyped-call]
    excluded = postgresql.insert(table).excluded
    assignments = ", ".join(
        f"{name} = "
        f"{expression.compile(dialect=dialect, compile_kwargs={'literal_binds': True})}"
        for name, expression in changes(table, excluded).items())
    return (f"{_insert_sql(table, names, postgres)} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}")
