"""The eventsourcing application: event store, snapshot store, repository."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from ledger.settings import Settings, event_store_env


class LedgerApp(Application[UUID]):
    """Holds the event store. Commands go through `ledger.writer.Writer`, reads through here."""

    name = "Linli"  # table names: linli_events, linli_snapshots
    is_snapshotting_enabled = True


def open_ledger(settings: Settings) -> LedgerApp:
    return LedgerApp(env=event_store_env(settings))
