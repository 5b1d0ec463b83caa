"""Test databases, migrated once a run: SQLite files copied from a migrated file, PostgreSQL
databases cloned from a migrated template and emptied again between tests.

Cloning a PostgreSQL database costs about 0.4 s (it writes the whole template through the WAL);
emptying one that a test wrote to costs a few milliseconds. A database goes back to the pool
only when its schema, grants and settings are still the template's (its fingerprint says so);
one a test changed in any other way than by rows is dropped, and the next test gets a clone.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from ledger.settings import Settings
from projections.schema import migrate

Connect = Callable[[str], psycopg.Connection]

# Everything about a database but its rows: relations, columns, constraints, indexes,
# triggers, functions, grants, settings and the migration it is at.
FINGERPRINT = """
SELECT md5(string_agg(part, '|' ORDER BY part)) FROM (
  SELECT concat_ws(':', n.nspname, c.relname, c.relkind, c.relacl, c.reloptions,
                   c.relrowsecurity) AS part
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT concat_ws(':', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT concat_ws(':', conname, pg_get_constraintdef(oid)) FROM pg_constraint
   WHERE connamespace NOT IN (SELECT oid FROM pg_namespace
                              WHERE nspname IN ('pg_catalog', 'information_schema'))
  UNION ALL
  SELECT concat_ws(':', tgname, tgenabled) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT concat_ws(':', p.proname, md5(p.prosrc), p.proacl)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT concat_ws(':', nspname, nspacl) FROM pg_namespace
  UNION ALL
  SELECT concat_ws(':', datacl, datconnlimit) FROM pg_database
   WHERE datname = current_database()
  UNION ALL
  SELECT concat_ws(':', setconfig) FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT 'at ' || version_num FROM alembic_version
) AS parts
"""

USER_TABLES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables
 WHERE relname <> 'alembic_version'
"""
TERMINATE_OTHERS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
"""
USER_SEQUENCES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""


def sqlite_template(folder: Path) -> Path:
    """Migrate a SQLite file in `folder`, its WAL folded in, to be copied; its path."""
    path = folder / "linli.db"
    migrate(Settings(database_url=f"sqlite:///{path}"))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    """Copy the migrated `template` into `folder`; the copy's URL."""
    path = folder / "linli.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


class PostgresPool:
    """Databases cloned from one migrated template, emptied and handed out again."""

    def __init__(self, admin: Callable[[], psycopg.Connection], connect: Connect,
                 template: str) -> None:
        self._admin = admin
        self._connect = connect
        self._template = template
        self._idle: list[str] = []
        self._made: set[str] = set()
        with connect(template) as conn:
            self._fingerprint = self._fingerprint_of(conn)
            # The same fingerprint, the same tables and sequences: emptied in one statement.
            self._empty = "".join(
                [f"DELETE FROM {table};" for (table,) in conn.execute(USER_TABLES)]
                + [f"ALTER SEQUENCE {seq} RESTART;" for (seq,) in conn.execute(USER_SEQUENCES)])

    @contextmanager
    def database(self, prefix: str) -> Iterator[str]:
        """An empty migrated database (its name) for the `with` block; emptied afterwards, or
        dropped when the block changed more than rows."""
        name = self._idle.pop() if self._idle else self._clone(prefix)
        try:
            yield name
        finally:
            if self._emptied(name):
                self._idle.append(name)
            else:
                self._drop(name)

    def close(self) -> None:
        """Drop every database the pool made."""
        for name in list(self._made):
            self._drop(name)
        self._idle.clear()

    def _clone(self, prefix: str) -> str:
        name = f"{prefix}{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        self._made.add(name)
        return name

    def _drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.discard(name)

    def _emptied(self, name: str) -> bool:
        """Empty `name` if only its rows changed; whether it is like the template again."""
        try:
            with self._connect(name) as conn:
                conn.execute(TERMINATE_OTHERS)
                if self._fingerprint_of(conn) != self._fingerprint:
                    return False
                with conn.transaction():
                    conn.execute(self._empty)
            return True
        except psycopg.Error:
            return False

    @staticmethod
    def _fingerprint_of(conn: psycopg.Connection) -> str:
        row = conn.execute(FINGERPRINT).fetchone()
        return str(row[0]) if row else ""
