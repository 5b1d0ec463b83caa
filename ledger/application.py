"""The eventsourcing application: event store, snapshot store, repository."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, Repository
from eventsourcing.persistence import EventStore, Mapper, Transcoder

from ledger.chain import ChainedEventStore, ChainMapper, CheckedSnapshotStore
from ledger.domain.base import apply_stored
from ledger.library_internals import change_repository_class
from ledger.settings import Settings, event_store_env
from ledger.transcoder import OrjsonTranscoder


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply `events` in order to `aggregate` by `apply_stored`: the library's
    `project_aggregate`, without its check of each event against a runtime protocol."""
    for event in events:
        aggregate = apply_stored(event, aggregate)
    return aggregate


class ReplayingRepository(Repository[UUID]):
    """The library's repository, replaying with `replay` unless told otherwise."""

    def get(self, aggregate_id: UUID, *, projector_func: Any = replay, **kwargs: Any) -> Any:
        return super().get(aggregate_id, projector_func=projector_func, **kwargs)


class LedgerApp(Application[UUID]):
    """Holds the event store. Commands go through the writer (`ledger.write`), reads here."""

    name = "Linli"  # table names: linli_events, linli_snapshots
    is_snapshotting_enabled = True

    def close(self) -> None:
        """Close the event store, and the persons' keys' connections if it has them."""
        keyring = getattr(self, "keyring", None)
        if keyring is not None:
            keyring.engine.dispose()
        super().close()

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON format, written by orjson (`ledger.transcoder`)."""
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, built from its settings, replaying with `replay`."""
        repository = super().construct_repository()
        change_repository_class(repository, ReplayingRepository)
        return repository

    def construct_mapper(self) -> Mapper[UUID]:
        return ChainMapper(transcoder=self.construct_transcoder())

    def construct_event_store(self) -> EventStore[UUID]:
        """Every event stored is sealed onto its stream's hash chain (`ledger.chain`)."""
        assert isinstance(self.mapper, ChainMapper)
        return ChainedEventStore(self.mapper, self.recorder)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots whose MAC does not match are left out of loads (`ledger.chain`)."""
        assert isinstance(self.mapper, ChainMapper)
        return CheckedSnapshotStore(self.mapper,
                                    self.factory.aggregate_recorder(purpose="snapshots"))


def open_ledger(settings: Settings, *, keys: bool = True) -> LedgerApp:
    """The application on the configured database, with its keys (`ledger.keys`) and the
    persons' keys (`ledger.privacy`); without them (`keys=False`: an auditor's verify with
    only the public key) it reads, personal fields encrypted, but may not write."""
    app = LedgerApp(env=event_store_env(settings))
    if keys:
        from ledger.keys import load_keys, use_keys
        from ledger.privacy.opening import use_personal_data

        try:
            use_keys(app, load_keys(settings))
            use_personal_data(app, settings)
        except Exception:
            app.close()
            raise
    return app
