"""Fixtures: every persistence test runs on SQLite and on PostgreSQL.

PostgreSQL is found through LINLI_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres): a role allowed to create databases. Each test
gets an empty migrated database (tests/databases.py): a copy of a migrated file on SQLite, on
PostgreSQL a clone of a template migrated once per session, emptied for the next test.
Without a reachable server the PostgreSQL tests are skipped, except under CI=true, where that
is a failure.
Every event encoded is compared with the library's JSON, and with its mapper's values
(`LINLI_CHECK_TRANSCODER`).
"""

from __future__ import annotations

import functools
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from api.bootstrap import Linli, open_linli
from ledger import transcoder
from ledger.keys import init_keys
from ledger.privacy.master_key import write_master_key
from ledger.settings import Settings
from projections.schema import migrate
from tests import databases
from tests.databases import PostgresPool
from tests.hostile import STARTING_POINTS, Books
from tests.scenario import Town

# Every event the suite writes is checked against the library's own JSON, here and in the
# servers the tests start.
transcoder.CHECK = True
os.environ["LINLI_CHECK_TRANSCODER"] = "1"

# One signing key and MAC key for the whole run, outside every test database (as
# `linli keys init` makes them), here and in the servers the tests start.
if "LINLI_SIGNING_KEY_FILE" not in os.environ:
    _KEYS = Path(tempfile.mkdtemp(prefix="linli-keys-")) / "signing.pem"
    init_keys(_KEYS, _KEYS.with_suffix(".mac"))
    write_master_key(_KEYS.with_name("signing-master.key"))
    os.environ["LINLI_SIGNING_KEY_FILE"] = str(_KEYS)

ADMIN_TOKEN = "test-admin-token"
POSTGRES_URL = os.environ.get(
    "LINLI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgres"]


def _admin_connection() -> psycopg.Connection:
    url = make_url(POSTGRES_URL)
    return psycopg.connect(
        host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
        password=url.password or None, dbname=url.database or "postgres", autocommit=True,
        connect_timeout=5,
    )


def _database_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated database to clone; skipped (or failed under CI) when there is no server."""
    try:
        conn = _admin_connection()
    except psycopg.OperationalError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} (set LINLI_TEST_POSTGRES_URL)")
    name = f"linli_tpl_{uuid.uuid4().hex[:12]}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        migrate(Settings(database_url=_database_url(name)))
        yield name
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_pool(postgres_template: str) -> Iterator[PostgresPool]:
    """Clones of the template, emptied between tests."""
    pool = PostgresPool(_admin_connection, lambda name: psycopg.connect(
        _database_url(name), autocommit=True), postgres_template)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy."""
    return databases.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def backend_database(backend: str, folder: Path, prefix: str,
                     request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database's URL for `backend`: on SQLite a file in `folder`; on
    PostgreSQL a database of the pool (named `prefix` and a random suffix when cloned)."""
    if backend == "sqlite":
        yield databases.sqlite_copy(request.getfixturevalue("sqlite_template"), folder)
        return
    pool: PostgresPool = request.getfixturevalue("postgres_pool")
    with pool.database(prefix) as name:
        yield _database_url(name)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    with backend_database(backend, tmp_path, "linli_t_", request) as url:
        yield url


@functools.cache
def _test_settings() -> Settings:
    """The tests' settings (read once: the environment's LINLI_* do not change in a run)."""
    return Settings(admin_token=ADMIN_TOKEN, projection_worker="thread",
                    projection_poll_seconds=0.05, sweep_interval_seconds=0,
                    seal_interval_seconds=0,
                    rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000,
                    auth_failure_burst=1_000_000, webhook_allow_private=True)


def settings_for(database_url: str) -> Settings:
    """The tests' settings on `database_url`: no timers, no rate limits."""
    return _test_settings().model_copy(update={"database_url": database_url})


@contextmanager
def running_linli(settings: Settings) -> Iterator[Linli]:
    """Linli started on `settings`' database, a copy of a migrated one (nothing to migrate)."""
    running = open_linli(settings, run_migrations=False)
    running.start()
    try:
        yield running
    finally:
        running.close()


@contextmanager
def admin_client(linli: Linli) -> Iterator[TestClient]:
    """The app over `linli`, in process, sending the admin token."""
    with TestClient(create_app(linli=linli)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield test_client


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url)


@pytest.fixture
def linli(settings: Settings) -> Iterator[Linli]:
    with running_linli(settings) as running:
        yield running


@pytest.fixture
def client(linli: Linli) -> Iterator[TestClient]:
    with admin_client(linli) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient) -> Town:
    """The usual cast, its member holding STARTING_POINTS (what hostile input must not move).
    A module that needs another `world` defines its own."""
    world = Town.standard(client)
    world.award(STARTING_POINTS)
    return world


@pytest.fixture
def books(world: Town, linli: Linli) -> Books:
    return Books(world, linli)


# Files whose tests take seconds each (servers in subprocesses, long scenarios): they start
# first, so that no worker is left running one of them alone at the end of the run.
LONG_FIRST = ("tests/ha/", "tests/reliability/", "tests/integration/test_cli.py",
              "tests/integration/test_import_cli.py",
              "tests/integration/test_projection_process.py",
              "tests/integration/test_bench_commands.py", "tests/integration/test_properties.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the long tests first, each file's tests in their order."""
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))
