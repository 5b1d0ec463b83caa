"""The one place that wires Linli together: event store, writer, projections, read engine."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine

from ledger.application import LedgerApp, open_ledger
from ledger.commands import webhooks
from ledger.leadership import JOBS, WEBHOOKS, Leader
from ledger.payment_codes import PaymentCodeBook
from ledger.periodic import Periodic
from ledger.sealer import Sealer
from ledger.settings import Settings
from ledger.sweeper import Sweeper
from ledger.write.writer import Writer
from projections.credentials import PinStore
from projections.database import create_read_engine
from projections.due import DueInViews
from projections.expiry_reminders import ExpiryReminders
from projections.payment_code_store import SqlCodeStore
from projections.queries import recently_active
from projections.replica import Replica, open_replica
from projections.runner import ProjectionRunner
from projections.schema import migrate
from projections.webhook_sender import GiveUps, WebhookSender
from projections.worker import ProjectionProcess

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Linli:
    """A running Linli: commands go to `writer`, reads to `engine` after `read_your_writes`;
    the live payment codes in `payment_codes`, the residents' PINs in `pins`.

    Several may serve one database: each runs its own writer, projections and warm-up (each
    has its own cache); the periodic jobs (sealer, sweeper, expiry reminders, webhook
    give-ups, the payment codes' sweep) run where `leader` holds the jobs' lock, one process
    at a time."""

    settings: Settings
    app: LedgerApp
    writer: Writer
    projections: ProjectionRunner | ProjectionProcess
    engine: Engine
    clock: Callable[[], datetime] = field(default=utc_now)
    sweeper: Sweeper | None = None
    sealer: Sealer | None = None
    replica: Replica | None = None
    payment_codes: PaymentCodeBook = field(init=False)
    pins: PinStore = field(init=False)
    webhooks: WebhookSender | None = field(init=False)
    give_ups: GiveUps = field(init=False)
    reminders: ExpiryReminders = field(init=False)
    leader: Leader = field(init=False)
    webhooks_leader: Leader | None = field(init=False)

    def __post_init__(self) -> None:
        self.payment_codes = PaymentCodeBook(
            timedelta(seconds=self.settings.payment_code_seconds), SqlCodeStore(self.engine),
            code_secret(self.app))
        self.payment_codes.sweep.clock = lambda: self.clock()
        self.pins = PinStore(self.engine)
        self.sealer = Sealer(self.app, self.writer, self.settings.seal_interval_seconds)
        # The sweeper asks `self.clock` each time, so a test can move time by replacing it.
        self.sweeper = Sweeper(self.writer, DueInViews(self.engine), lambda: self.clock(),
                               self.settings.sweep_interval_seconds)
        # The sender runs beside the projections: in their process when they have one.
        self.webhooks = (None if isinstance(self.projections, ProjectionProcess)
                         else WebhookSender(self.engine, self.settings, lambda: self.clock()))
        self.give_ups = GiveUps(self.engine, self._disable, self.settings.webhook_poll_seconds * 10)
        self.reminders = ExpiryReminders(self.engine, lambda: self.clock(),
                                         self.settings.expiry_reminder_days,
                                         self.settings.reminder_interval_seconds)
        self.leader = Leader(self.settings, JOBS, on_lead=self._lead)
        for job in self._jobs():
            job.gated_by(self.leader.leading)
        self.webhooks_leader = None
        if self.webhooks is not None:
            self.webhooks_leader = Leader(self.settings, WEBHOOKS, on_lead=self.webhooks.wake)
            self.webhooks.gated_by(self.webhooks_leader.leading)

    def _disable(self, webhook_id: str, reason: str) -> bool:
        """Disable a subscription the sender gave up on; whether the views show it yet."""
        self.writer.execute(webhooks.disable(UUID(webhook_id), reason))
        return self.read_your_writes()

    def _jobs(self) -> list[Periodic]:
        """The jobs one process of several runs at a time."""
        return [job for job in (self.sealer, self.sweeper, self.give_ups, self.reminders,
                                self.payment_codes.sweep) if job is not None]

    def _lead(self) -> None:
        """This process took the jobs over: each runs a pass now."""
        for job in self._jobs():
            job.wake()

    @property
    def leading(self) -> bool:
        """Whether this process runs the periodic jobs now."""
        return self.leader.leading()

    def start(self) -> None:
        self.projections.start()
        if self.settings.warm_up_seconds > 0 and not self.writer.running:
            self.warm_up()
        self.writer.start()
        self.leader.start()
        if self.settings.sweep_interval_seconds > 0:
            assert self.sweeper is not None
            self.sweeper.start()
        if self.settings.seal_interval_seconds > 0:
            assert self.sealer is not None
            self.sealer.start()
        if self.webhooks is not None:
            assert self.webhooks_leader is not None
            self.webhooks_leader.start()
            self.webhooks.start()
        self.give_ups.start()
        if self.settings.expiry_reminder_days > 0 and self.settings.reminder_interval_seconds > 0:
            self.reminders.start()
        self.payment_codes.sweep.start()

    def warm_up(self) -> int:
        """Load what the next commands most likely read into the writer (before it starts);
        returns how many aggregates. Only a hint: a failure is logged, not raised."""
        started = time.monotonic()
        try:
            wanted = recently_active(self.engine, self.writer.cache_max_aggregates)
            cached = self.writer.warm(wanted, until=started + self.settings.warm_up_seconds)
        except Exception:
            log.exception("warming the writer's cache failed; it fills as commands come")
            return 0
        log.info("warmed the writer's cache with %d aggregates in %.1f s", cached,
                 time.monotonic() - started)
        return cached

    def stop(self) -> None:
        self.payment_codes.sweep.stop()
        self.reminders.stop()
        self.give_ups.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.webhooks_leader is not None:
            self.webhooks_leader.stop()
        if self.sealer is not None:
            self.sealer.stop()
        if self.sweeper is not None:
            self.sweeper.stop()
        self.leader.stop()  # after the sealer's last seal: another process takes over
        self.payment_codes.close()
        self.writer.stop()
        self.projections.stop()

    def close(self) -> None:
        self.stop()
        self.app.close()
        self.engine.dispose()
        if self.replica is not None:
            self.replica.engine.dispose()

    def read_engine(self) -> Engine:
        """Where a read of the views goes: the replica (`LINLI_READ_DATABASE_URL`) once its
        views hold every write this process has answered, else the primary."""
        if self.replica is None:
            return self.engine
        return self.replica.engine_for(self.writer.last_position, self.engine)

    def read_your_writes(self) -> bool:
        """Wait until the views hold every write this process has committed."""
        return self.projections.wait_for(self.writer.last_position,
                                         self.settings.read_wait_seconds)


def code_secret(app: LedgerApp) -> bytes | None:
    """The secret every server on the database shares for the payment codes kept for a
    retry (made from the MAC key); None without keys (codes kept for this process only)."""
    keys = getattr(app, "keys", None)
    if keys is None:
        return None
    return hmac.new(keys.mac, b"linli/payment-code-keys/v1", hashlib.sha256).digest()


def open_linli(settings: Settings, *, run_migrations: bool = True, keys: bool = True) -> Linli:
    if run_migrations:
        migrate(settings)
    app = open_ledger(settings, keys=keys)
    engine = create_read_engine(settings)
    projections: ProjectionRunner | ProjectionProcess = (
        ProjectionProcess(settings) if settings.projection_worker == "process"
        else ProjectionRunner.configured(app, engine, settings))
    writer = Writer.configured(app, settings, on_commit=projections.wake)
    return Linli(settings, app, writer, projections, engine, replica=open_replica(settings))
