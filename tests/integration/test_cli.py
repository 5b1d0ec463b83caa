"""The `linli` command on a real database: migrate, demo, verify, rebuild, and refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from ledger.settings import Settings
from projections.schema import alembic_config

LINLI = [str(Path(sys.executable).parent / "linli")]


def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "LINLI_DATABASE_URL": database_url, **env}
    environment.pop("POSTGRES_ENABLE_DB_FUNCTIONS", None)
    environment.update(env)
    return subprocess.run([*LINLI, *args], env=environment, capture_output=True, text=True,
                          timeout=120, check=False)


class TestCommandLine:
    def test_migrate_is_repeatable(self, database_url):
        for _ in range(2):
            result = run(database_url, "migrate")
            assert result.returncode == 0, result.stderr
        tables = set(inspect(create_engine(Settings(database_url=database_url).sqlalchemy_url))
                     .get_table_names())
        assert {"balances", "passbook_lines", "projection_tracking", "alembic_version"} <= tables

    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    def test_migrate_leaves_room_in_the_pages_of_rows_updated_in_place(self, database_url):
        settings = Settings(database_url=database_url)
        engine = create_engine(settings.sqlalchemy_url)

        def options() -> dict[str, object]:
            with engine.connect() as conn:
                return dict(conn.execute(text(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                    "('balances', 'leaderboard_accounts', 'passbook_lines')")).all())

        assert run(database_url, "migrate").returncode == 0
        assert options() == {"balances": ["fillfactor=50"],
                             "leaderboard_accounts": ["fillfactor=50"], "passbook_lines": None}
        command.downgrade(alembic_config(settings), "0007")
        assert set(options().values()) == {None}
        command.upgrade(alembic_config(settings), "head")
        assert options()["balances"] == ["fillfactor=50"]
        engine.dispose()

    def test_demo_then_verify_then_rebuild(self, database_url):
        demo = run(database_url, "demo")
        assert demo.returncode == 0, demo.stderr
        assert "116社区" in demo.stdout and "staff token: lnl_" in demo.stdout
        assert "district staff token: lnl_" in demo.stdout  # 钢花村街道, settled last month

        verify = run(database_url, "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert verify.stdout.strip().endswith("ok")

        rebuild = run(database_url, "rebuild", "balances", "passbook")
        assert rebuild.returncode == 0, rebuild.stderr
        assert "rebuilt balances, passbook" in rebuild.stdout
        assert run(database_url, "verify").returncode == 0

        # every view, the log read 50 positions at a time: the books still agree
        rebuild = run(database_url, "rebuild", LINLI_REBUILD_BATCH_EVENTS="50")
        assert rebuild.returncode == 0, rebuild.stderr
        assert ("rebuilt balances, registry, passbook, holds, merchants, leaderboards, timebank, "
                "api_keys, pending_awards") in rebuild.stdout
        assert run(database_url, "verify").returncode == 0

    def test_rebuild_of_an_unknown_projection_fails(self, database_url):
        result = run(database_url, "rebuild", "nonsense")
        assert result.returncode == 2
        assert "no such projection: nonsense" in result.stderr

    def test_verify_names_a_tampered_balance(self, database_url):
        assert run(database_url, "demo").returncode == 0
        engine = create_engine(Settings(database_url=database_url).sqlalchemy_url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE balances SET balance = balance + 7 WHERE account_id = "
                "(SELECT account_id FROM balances WHERE owner_kind = 'member' "
                "ORDER BY account_id LIMIT 1)")
        engine.dispose()
        result = run(database_url, "verify")
        assert result.returncode == 1
        assert "the replay gives" in result.stderr
        assert "balances sum to 7, not 0" in result.stderr

    def test_serve_refuses_db_functions(self, database_url):
        result = run(database_url, "migrate", POSTGRES_ENABLE_DB_FUNCTIONS="yes")
        assert result.returncode == 0  # migrate does not open the event store
        result = run(database_url, "verify", POSTGRES_ENABLE_DB_FUNCTIONS="yes")
        assert result.returncode == 2
        assert "POSTGRES_ENABLE_DB_FUNCTIONS" in result.stderr


class TestServe:
    def test_serve_migrates_and_answers(self, database_url, backend):
        import socket
        import time
        import urllib.request

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        environment = {**os.environ, "LINLI_DATABASE_URL": database_url}
        process = subprocess.Popen([*LINLI, "serve", "--port", str(port)], env=environment,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz",
                                                timeout=2) as response:
                        assert response.status == 200
                        break
                except OSError:
                    assert process.poll() is None, process.stderr.read() if process.stderr else ""
                    assert time.monotonic() < deadline, "linli serve did not become ready"
                    time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                assert r.status == 200
        finally:
            process.terminate()
            process.wait(timeout=20)


class TestPostgresSessions:
    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    def test_event_store_sessions_have_timeouts(self, linli):
        datastore = linli.app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute("SHOW idle_in_transaction_session_timeout")
            row = cursor.fetchone()
        value = next(iter(row.values())) if isinstance(row, dict) else row[0]
        assert value not in ("0", "0ms")
        assert datastore.lock_timeout > 0
