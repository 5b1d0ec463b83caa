"""The eventsourcing application: event store, snapshot store, repository."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, Mapper, Transcoder

from ledger.chain import ChainedEventStore, ChainMapper
from ledger.settings import Settings, event_store_env
from ledger.transcoder import OrjsonTranscoder


class LedgerApp(Application[UUID]):
    """Holds the event store. Commands go through `ledger.writer.Writer`, reads through here."""

    name = "Linli"  # table names: linli_events, linli_snapshots
    is_snapshotting_enabled = True

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON format, written and read by orjson (`ledger.transcoder`)."""
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> Mapper[UUID]:
        return ChainMapper(transcoder=self.construct_transcoder())

    def construct_event_store(self) -> EventStore[UUID]:
        """Every event stored is sealed onto its stream's hash chain (`ledger.chain`)."""
        return ChainedEventStore(self.mapper, self.recorder)


def open_ledger(settings: Settings) -> LedgerApp:
    return LedgerApp(env=event_store_env(settings))
