"""Least privilege on PostgreSQL: the serving role cannot UPDATE, DELETE or TRUNCATE events,
and Linli still works when it connects as that role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from api.bootstrap import open_linli
from projections.verify import verify
from tests.conftest import ADMIN_TOKEN, _admin_connection
from tests.integration.test_cli import run
from tests.scenario import Town

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def app_role(database_url: str) -> Iterator[str]:
    role = f"linli_app_{uuid.uuid4().hex[:8]}"
    result = run(database_url, "db", "roles", "--app-role", role, "--apply")
    assert result.returncode == 0, result.stderr
    yield role
    database = make_url(database_url).database
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def as_role(database_url: str, role: str) -> str:
    return make_url(database_url).set(username=role).render_as_string(hide_password=False)


class TestTheServingRole:
    def test_can_append_and_read_but_not_change_events(self, database_url, settings, app_role):
        url = as_role(database_url, app_role)
        linli = open_linli(settings.model_copy(update={"database_url": url}))
        with TestClient(create_app(linli=linli)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            world = Town.standard(client)
            world.award(30)
            assert world.redeem(12).status_code == 201
            assert world.balance()["points"] == 18
            assert linli.sealer is not None and linli.sealer.seal() is not None
            assert verify(linli.app, linli.engine).ok
        linli.close()

        target = make_url(url)
        with psycopg.connect(host=target.host, port=target.port, user=app_role,
                             dbname=target.database, autocommit=True) as conn:
            count = "SELECT count(*) FROM linli_events"
            stored = conn.execute(count).fetchone()
            for statement in ("UPDATE linli_events SET topic = topic",
                              "DELETE FROM linli_events",
                              "TRUNCATE linli_events"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            assert conn.execute(count).fetchone() == stored

    def test_the_script_is_printed_for_review(self, database_url):
        result = run(database_url, "db", "roles", "--app-role", "linli_app")
        assert result.returncode == 0
        assert "REVOKE UPDATE, DELETE ON linli_events FROM linli_app;" in result.stdout
