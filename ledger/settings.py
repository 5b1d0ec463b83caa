"""Settings, read from LINLI_* environment variables, and the event store's configuration."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

TRUTHY = {"y", "yes", "t", "true", "on", "1"}


class Settings(BaseSettings):
    """Everything configurable. Build it once (in `create_app` or the CLI) and pass it on."""

    model_config = SettingsConfigDict(env_prefix="LINLI_", extra="ignore")

    database_url: str = "sqlite:///./linli.db"
    admin_token: str | None = None
    # Group commit: at most this many commands share one transaction.
    batch_max_commands: int = 256
    # A snapshot of an aggregate every this many events keeps cold loads cheap: a load replays
    # the events after the latest snapshot, about 19 us each (`python -m bench.snapshots`).
    snapshot_interval_events: int = 20
    # Aggregates kept in the writer's memory: a member and an account take about 5 KB once
    # commands churn the cache (`python -m bench.http --members 100000 --seconds 30`). 20,000
    # (10,000 members) keep `linli serve` with its projection process under 300 MB however
    # many members there are (25,000: 296 MB; 60,000: 356 MB, though it served a community of
    # 100,000 members 1.6 times as fast: each member not in memory is loaded from the database).
    cache_max_aggregates: int = 20_000
    # At start, before it takes commands, the writer loads the accounts posted to last, their
    # owners and their communities, until its cache is full or this long has passed (0: it
    # does not): the first requests after a restart are then as fast as before it.
    warm_up_seconds: float = 10.0
    # Responses to keyed requests kept in memory apart from those aggregates, so that a
    # retry is answered without a query: the latest this many (about 2 KB each; a retry of
    # an older one is answered from the database, as it was the first time).
    cache_max_records: int = 2_000
    # Where the projections run: "thread" (in this process) or "process" (a child process,
    # beside the API's GIL: what `linli serve` runs unless this is set).
    projection_worker: Literal["process", "thread"] = "thread"
    projection_poll_seconds: float = 0.1
    projection_batch_events: int = 1_000
    # After a batch that caught up, the projections let the log gather events this long
    # before the next (unless a read is waiting for them): fewer, larger batches cost the
    # views and the database less CPU, for this much more lag at most.
    projection_gather_seconds: float = 0.04
    # `linli rebuild` reads the log this many positions at a time (memory: a batch's events).
    rebuild_batch_events: int = 10_000
    # How long a read waits for the projections to catch up with earlier writes.
    read_wait_seconds: float = 10.0
    # How often unused holds and due points are expired (0: never, e.g. in tests that sweep).
    sweep_interval_seconds: float = 1.0
    # How often the log is sealed with a checkpoint when it holds new events (0: never).
    seal_interval_seconds: float = 5.0
    # Requests per second one token may make, and the burst it may save up.
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 40
    # Failed tokens one client address may send (a burst, then one every 1/rate seconds)
    # before every request from it is refused 429 for a while: brute force is slowed.
    auth_failures_per_second: float = 0.5
    auth_failure_burst: int = 30
    # How long an API key, once checked, is believed without loading it again. A key revoked
    # through this process stops at once; through another one, within this time. A phone asks
    # for a payment code about once a minute: its key is then found without a load.
    api_key_cache_seconds: float = 60.0
    # A payment code (付款码) lives this long, and is consumed by the one redemption or hold
    # that succeeds with it.
    payment_code_seconds: int = Field(default=60, ge=5, le=86_400)
    # Wrong PINs a merchant's tills may send an hour (a burst, then one every 3600/n seconds),
    # over all members together, before its PIN tries are refused 429.
    wrong_pins_per_hour: int = Field(default=20, ge=1, le=100_000)
    # A sign-in link's token works this long unless traded for the phone's own before.
    sign_in_link_hours: int = Field(default=72, ge=1, le=24 * 365)
    # FastAPI's native OpenTelemetry (traces, metrics, logs to the global providers you
    # configure). Off, it costs nothing; on, FastAPI checks the providers on every request.
    telemetry: bool = False
    # `linli serve` freezes what survives a collection of the young generation out of the
    # collector's reach (`api.gc_tuning`); this often, a full collection reclaims the cyclic
    # garbage frozen meanwhile, in one pause of a few hundred ms (0: never).
    gc_full_collection_seconds: float = 3600.0
    # The seal signing key (Ed25519, PEM) and the event MAC key, files outside the database
    # (`linli keys init`, docs/audit.md). The MAC key's default: beside the signing key, its
    # name ending in `.mac`. With neither set, SQLite keeps both beside its database file.
    signing_key_file: str | None = None
    mac_key_file: str | None = None
    # The master key that wraps each person's key (docs/privacy.md); by default beside the
    # signing key, its name ending in `-master.key`.
    master_key_file: str | None = None
    # PostgreSQL without LINLI_SIGNING_KEY_FILE: keys in the working directory, made on first
    # use (development only; without it, PostgreSQL refuses to start).
    dev_keys: bool = False
    # Webhooks (docs/webhooks.md). Private and loopback receivers are refused unless allowed
    # (a community's own network; the tests' local receiver).
    webhook_allow_private: bool = False
    # How often the sender looks for deliveries due (it also keeps sending while any are).
    webhook_poll_seconds: float = Field(default=0.1, gt=0, le=60)
    # A receiver that has not answered in this long has failed this attempt.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # A failed delivery is tried again after this long, twice as long after each further
    # failure up to the maximum, until it has failed for `webhook_give_up_seconds`: then it
    # is marked failed and its subscription disabled (with the reason).
    webhook_retry_first_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_give_up_seconds: float = Field(default=86_400.0, gt=0)
    # Subscriptions delivered to at once (each one's deliveries go one at a time, in order).
    webhook_senders: int = Field(default=4, ge=1, le=64)
    # Residents are reminded of points expiring within this many days (0: never), checked
    # this often.
    expiry_reminder_days: int = Field(default=30, ge=0, le=366)
    reminder_interval_seconds: float = 3600.0
    postgres_lock_timeout_seconds: int = 5
    postgres_idle_in_transaction_timeout_seconds: int = 10
    postgres_pool_size: int = 8

    @property
    def is_postgres(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "postgresql"

    @property
    def sqlalchemy_url(self) -> str:
        """The URL for SQLAlchemy (read models, alembic): psycopg2 on PostgreSQL."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg2")
        return url.render_as_string(hide_password=False)


class UnsafeConfiguration(RuntimeError):
    """A setting that would break a guarantee, refused at start-up."""


def event_store_env(settings: Settings) -> dict[str, str]:
    """The `eventsourcing` environment for the configured database."""
    if os.environ.get("POSTGRES_ENABLE_DB_FUNCTIONS", "").lower() in TRUTHY:
        raise UnsafeConfiguration(
            "POSTGRES_ENABLE_DB_FUNCTIONS is set: with it a reader following the "
            "notification log can skip events written concurrently. Unset it."
        )
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise UnsafeConfiguration("LINLI_DATABASE_URL must name a SQLite file")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": url.database,
            "SQLITE_LOCK_TIMEOUT": "30",
            "CREATE_TABLE": "y",
        }
    if backend == "postgresql":
        return {
            "PERSISTENCE_MODULE": "ledger.pg_recorder:PostgresFactory",
            "POSTGRES_DBNAME": url.database or "postgres",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_LOCK_TIMEOUT": str(settings.postgres_lock_timeout_seconds),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(
                settings.postgres_idle_in_transaction_timeout_seconds
            ),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": "ledger.pg_recorder:GroupInsertRecorder",
            # The tables belong to the alembic migrations.
            "CREATE_TABLE": "n",
        }
    raise UnsafeConfiguration(f"unsupported database {backend!r}: use sqlite or postgresql")
