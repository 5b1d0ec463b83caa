"""The event store seals each event as the chain's definition says: the library's encoding of
the event, with the hash of its stream's previous event and its own in front."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.application import LedgerApp
from ledger.chain import GENESIS, MAGIC, ChainedEventStore, Committed, seal, sealed
from tests.unit.test_fast_events import scenario


def test_stored_events_are_the_librarys_encoding_sealed_onto_each_stream() -> None:
    app = LedgerApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    aggregates = scenario()
    events: list[Any] = [e for a in aggregates for e in a.collect_events()]
    library = Mapper(transcoder=app.mapper.transcoder)  # its own `to_stored_event`
    store = app.events
    assert isinstance(store, ChainedEventStore)
    store.mac_key = b"k" * 32

    store.put(events)

    heads: dict[Any, bytes] = {}
    for aggregate in aggregates:
        stored = list(app.recorder.select_events(aggregate.id))
        assert [s.originator_version for s in stored] == list(range(1, aggregate.version + 1))
        for event, row in zip([e for e in events if e.originator_id == aggregate.id], stored,
                              strict=True):
            expected, heads[aggregate.id] = seal(library.to_stored_event(event),
                                                 heads.get(aggregate.id, GENESIS), b"k" * 32)
            assert (row.topic, row.state) == (expected.topic, expected.state)


def _committed(*positions: int, topic: str = "a:Posted") -> Committed:
    committed = Committed()
    committed.add(list(positions),
                  [StoredEvent(uuid4(), 1, topic, MAGIC + GENESIS + bytes([p % 256]) * 32)
                   for p in positions])
    return committed


def test_a_run_of_committed_events_stops_at_the_first_position_not_there() -> None:
    committed = _committed(4, 5, 6, 8, 9)

    run = committed.run_after(3, 100, own={"x:Sealed"})

    assert run is not None and (run.first, run.count, run.own_only) == (4, 3, False)
    assert list(run.entries()) == [(p, bytes([p]) * 32) for p in (4, 5, 6)]
    assert committed.run_after(2, 100, own=set()) is None  # position 3 is not there
    assert committed.run_after(6, 100, own=set()) is None  # nor 7
    eight = committed.run_after(7, 100, own=set())
    assert eight is not None and [p for p, _ in eight.entries()] == [8, 9]
    bounded = committed.run_after(3, 2, own=set())
    assert bounded is not None and [p for p, _ in bounded.entries()] == [4, 5]


def test_a_run_says_whether_it_holds_only_the_topics_asked_about() -> None:
    committed = _committed(1, 2, topic="x:Sealed")
    committed.add([3], [StoredEvent(uuid4(), 1, "a:Posted", MAGIC + GENESIS + GENESIS)])

    only_seals = committed.run_after(0, 2, own={"x:Sealed"})
    with_a_posting = committed.run_after(0, 3, own={"x:Sealed"})

    assert only_seals is not None and only_seals.own_only
    assert with_a_posting is not None and not with_a_posting.own_only
    committed.forget_through(2)
    assert committed.run_after(0, 10, own=set()) is None
    assert committed.run_after(2, 10, own=set()) is not None


def test_a_sealed_event_is_the_stored_event_its_fields_make() -> None:
    originator_id, payload = uuid4(), b'{"amount":1}'
    made, own = sealed((originator_id, 3, "ledger:Account.Posted", payload), GENESIS)
    assert made == StoredEvent(originator_id, 3, "ledger:Account.Posted",
                               MAGIC + GENESIS + own + payload)
    assert hash(made) == hash(StoredEvent(originator_id, 3, "ledger:Account.Posted",
                                          MAGIC + GENESIS + own + payload))


def test_what_is_committed_calls_for_a_seal_once_it_holds_half_its_bound() -> None:
    calls: list[int] = []
    committed = Committed(most=10, filling=lambda: calls.append(1))
    row = MAGIC + GENESIS + GENESIS

    committed.add([1, 2, 3, 4], [StoredEvent(uuid4(), 1, "a:Posted", row)] * 4)
    assert calls == []
    committed.add([5], [StoredEvent(uuid4(), 1, "a:Posted", row)])
    assert calls == [1]
    committed.forget_through(5)
    committed.add([6], [StoredEvent(uuid4(), 1, "a:Posted", row)])
    assert calls == [1]
