"""Settings, read from LINLI_* environment variables, and the event store's configuration."""

from __future__ import annotations

import json
import os
from typing import Literal
from urllib.parse import urlencode, urlsplit

from psycopg.conninfo import conninfo_to_dict
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

TRUTHY = {"y", "yes", "t", "true", "on", "1"}


class Settings(BaseSettings):
    """Everything configurable. Build it once (in `create_app` or the CLI) and pass it on."""

    model_config = SettingsConfigDict(env_prefix="LINLI_", extra="ignore")

    # SQLite: `sqlite:///path/to/linli.db`. PostgreSQL: libpq's URL, with several hosts for a
    # replicated cluster: `postgresql://user@h1:5432,h2:5432/linli?target_session_attrs=read-write`
    # (every connection then goes to whichever host is the primary; docs/operations.md).
    database_url: str = "sqlite:///./linli.db"
    # A replica the read models may be read from (same form; unset: the primary). A caller's
    # reads still see its own writes: a read waits for the replica to replay past them, or goes
    # to the primary when the replica is too far behind.
    read_database_url: str | None = None
    # How long a read waits for the replica to replay the caller's writes before it goes to
    # the primary instead.
    replica_wait_seconds: float = Field(default=0.5, ge=0, le=30)
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
    # How long a write waits for a database out of reach (a primary that died, a failover
    # under way) before its request is answered 503 with Retry-After: the outcome, when not
    # known, is then the idempotency key's to settle (a retry with it gets the first answer
    # if the write had committed). A connection from the pool is waited for at most
    # `postgres_connect_timeout_seconds` a try.
    database_wait_seconds: float = Field(default=5.0, gt=0, le=300)
    postgres_connect_timeout_seconds: int = Field(default=2, ge=1, le=60)
    postgres_idle_in_transaction_timeout_seconds: int = 10
    postgres_pool_size: int = 8

    @property
    def is_postgres(self) -> bool:
        return is_postgres_url(self.database_url)

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite database's file (None on PostgreSQL, or an in-memory database)."""
        if self.is_postgres:
            return None
        url = make_url(self.database_url)
        return url.database if url.database and url.database != ":memory:" else None

    @property
    def sqlalchemy_url(self) -> str:
        """The URL for SQLAlchemy (read models, alembic): psycopg2 on PostgreSQL."""
        return sqlalchemy_url(self.database_url)

    @property
    def read_sqlalchemy_url(self) -> str | None:
        """The replica's URL for SQLAlchemy, if one is configured."""
        return sqlalchemy_url(self.read_database_url) if self.read_database_url else None


def is_postgres_url(url: str) -> bool:
    """Tells whether `url` names a PostgreSQL database (one host or several)."""
    return urlsplit(url).scheme.split("+")[0] in {"postgresql", "postgres"}


def postgres_conninfo(url: str) -> dict[str, str]:
    """libpq's parameters of a PostgreSQL URL, as libpq itself reads them: several hosts
    and ports come as comma-separated lists (`host=h1,h2 port=5432,5433`)."""
    scheme, rest = url.split("://", 1)
    return {k: str(v) for k, v in conninfo_to_dict(f"{scheme.split('+')[0]}://{rest}").items()
            if v is not None}


def sqlalchemy_url(url: str) -> str:
    """`url` for SQLAlchemy: psycopg2 on PostgreSQL, each host as a `host=h:p` parameter (the
    form SQLAlchemy hands to libpq for several hosts), libpq's other parameters kept."""
    if not is_postgres_url(url):
        return make_url(url).render_as_string(hide_password=False)
    info = postgres_conninfo(url)
    hosts = info.pop("host", "127.0.0.1").split(",")
    ports = info.pop("port", "5432").split(",")
    if len(ports) == 1:
        ports *= len(hosts)
    user = info.pop("user", "postgres")
    password = info.pop("password", "")
    database = info.pop("dbname", "postgres")
    query = [("host", f"{h}:{p}") for h, p in zip(hosts, ports, strict=True)]
    base = make_url("postgresql+psycopg2://").set(username=user, password=password or None,
                                                 database=database)
    return (base.render_as_string(hide_password=False)
            + "?" + urlencode([*query, *sorted(info.items())]))


class UnsafeConfiguration(RuntimeError):
    """A setting that would break a guarantee, refused at start-up."""


def event_store_env(settings: Settings) -> dict[str, str]:
    """The `eventsourcing` environment for the configured database."""
    if os.environ.get("POSTGRES_ENABLE_DB_FUNCTIONS", "").lower() in TRUTHY:
        raise UnsafeConfiguration(
            "POSTGRES_ENABLE_DB_FUNCTIONS is set: with it a reader following the "
            "notification log can skip events written concurrently. Unset it."
        )
    if settings.is_postgres:
        return _postgres_env(settings)
    backend = make_url(settings.database_url).get_backend_name()
    if backend == "sqlite":
        if settings.sqlite_path is None:
            raise UnsafeConfiguration("LINLI_DATABASE_URL must name a SQLite file")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": settings.sqlite_path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "CREATE_TABLE": "y",
        }
    raise UnsafeConfiguration(f"unsupported database {backend!r}: use sqlite or postgresql")


def _postgres_env(settings: Settings) -> dict[str, str]:
    """The library's PostgreSQL settings; libpq's other parameters of the URL (several hosts'
    `target_session_attrs`, `connect_timeout`, `sslmode`, ...) go to every connection of its
    pool through `LINLI_POSTGRES_CONNINFO` (`ledger.pg_recorder.PostgresFactory`)."""
    info = postgres_conninfo(settings.database_url)
    env = {
        "PERSISTENCE_MODULE": "ledger.pg_recorder:PostgresFactory",
        "POSTGRES_DBNAME": info.pop("dbname", "postgres"),
        "POSTGRES_HOST": info.pop("host", "127.0.0.1"),
        "POSTGRES_PORT": info.pop("port", "5432"),
        "POSTGRES_USER": info.pop("user", "postgres"),
        "POSTGRES_PASSWORD": info.pop("password", ""),
        "POSTGRES_LOCK_TIMEOUT": str(settings.postgres_lock_timeout_seconds),
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(
            settings.postgres_idle_in_transaction_timeout_seconds
        ),
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        "POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout_seconds),
        "LINLI_DATABASE_WAIT_SECONDS": str(settings.database_wait_seconds),
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "APPLICATION_RECORDER_TOPIC": "ledger.pg_recorder:GroupInsertRecorder",
        # The tables belong to the alembic migrations.
        "CREATE_TABLE": "n",
    }
    if info:
        env["LINLI_POSTGRES_CONNINFO"] = json.dumps(info)
    return env
