"""Start-up configuration: the event store's settings come from LINLI_DATABASE_URL."""

from __future__ import annotations

import pytest

from ledger.settings import Settings, UnsafeConfiguration, event_store_env


class TestEventStoreEnvironment:
    def test_sqlite_file_is_the_default(self):
        env = event_store_env(Settings(database_url="sqlite:///./linli.db"))
        assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
        assert env["SQLITE_DBNAME"] == "./linli.db"

    def test_postgres_sets_timeouts_and_leaves_tables_to_alembic(self):
        env = event_store_env(Settings(database_url="postgresql://u:pw@db.local:6543/linli",
                                       postgres_lock_timeout_seconds=3))
        assert env["PERSISTENCE_MODULE"] == "ledger.pg_recorder:PostgresFactory"
        assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_USER"],
                env["POSTGRES_PASSWORD"], env["POSTGRES_DBNAME"]) == (
            "db.local", "6543", "u", "pw", "linli")
        assert env["POSTGRES_LOCK_TIMEOUT"] == "3"
        assert int(env["POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"]) > 0
        assert env["CREATE_TABLE"] == "n"
        assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"

    @pytest.mark.parametrize("value", ["y", "true", "1", "yes"])
    def test_refuses_db_functions(self, monkeypatch, value):
        monkeypatch.setenv("POSTGRES_ENABLE_DB_FUNCTIONS", value)
        with pytest.raises(UnsafeConfiguration, match="POSTGRES_ENABLE_DB_FUNCTIONS"):
            event_store_env(Settings(database_url="postgresql://postgres@127.0.0.1/x"))

    @pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x@y/z"])
    def test_refuses_what_cannot_work(self, url):
        with pytest.raises(UnsafeConfiguration):
            event_store_env(Settings(database_url=url))

    def test_sqlalchemy_uses_psycopg2_on_postgres(self):
        settings = Settings(database_url="postgresql://postgres@127.0.0.1:5432/test")
        assert settings.sqlalchemy_url.startswith("postgresql+psycopg2://")
        assert settings.is_postgres
