"""The event store seals each event as the chain's definition says: the library's encoding of
the event, with the hash of its stream's previous event and its own in front."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Mapper

from ledger.application import LedgerApp
from ledger.chain import GENESIS, ChainedEventStore, seal
from tests.unit.test_fast_events import scenario


def test_stored_events_are_the_librarys_encoding_sealed_onto_each_stream() -> None:
    app = LedgerApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    aggregates = scenario()
    events: list[Any] = [e for a in aggregates for e in a.collect_events()]
    library = Mapper(transcoder=app.mapper.transcoder)  # its own `to_stored_event`
    store = app.events
    assert isinstance(store, ChainedEventStore)

    store.put(events)

    heads: dict[Any, bytes] = {}
    for aggregate in aggregates:
        stored = list(app.recorder.select_events(aggregate.id))
        assert [s.originator_version for s in stored] == list(range(1, aggregate.version + 1))
        for event, row in zip([e for e in events if e.originator_id == aggregate.id], stored,
                              strict=True):
            expected, heads[aggregate.id] = seal(library.to_stored_event(event),
                                                 heads.get(aggregate.id, GENESIS))
            assert (row.topic, row.state) == (expected.topic, expected.state)
