"""The writer's aggregates in memory: what commands run on, so that a hot account is loaded once.

Two least-recently-used maps, each with its own bound (the size policy): the aggregates
(members, accounts, rules: `cache_max_aggregates`) and the idempotency records, one per keyed
request (`cache_max_records`), kept apart so that a busy till's answers do not push members'
accounts out of memory; only a retry reads a record again. Beside them, the aggregates fetched
ahead of their commands (`fetch`, by any thread) wait for the writer to take them; and the
event store keeps the head of a stream's hash chain exactly as long as this cache keeps its
aggregate (`holds`, `forget_head`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import PersistenceError

from ledger.application import LedgerApp
from ledger.chain import ChainedEventStore
from ledger.domain.idempotency import IdempotencyRecord
from ledger.store import load_aggregates

WARM_CHUNK = 2_000  # aggregates `warm` loads a step (`load_aggregates` queries 400 at a time)

ABSENT = object()  # fetched: not in the store


class AggregateCache:
    """Keeps aggregates in memory for the writer's thread, within the size policy.

    `load`, `remember` and `evict` belong to the writer's thread; `fetch` may run on any thread
    (it only adds to what was fetched, which the writer takes).
    """

    def __init__(self, app: LedgerApp, *, max_aggregates: int, max_records: int) -> None:
        self._app = app
        self._events: ChainedEventStore = app.events  # type: ignore[assignment]
        self.max_aggregates = max_aggregates
        self.max_records = max_records
        self.aggregates: OrderedDict[UUID, Aggregate] = OrderedDict()  # least recent first
        self.records: OrderedDict[UUID, Aggregate] = OrderedDict()  # idempotency records
        self._fetched: dict[UUID, object] = {}  # an aggregate, or ABSENT
        # Whether a stream's head is worth keeping: its aggregate is kept (not a record, nor
        # a redemption added with `cache=False`). The dict's own method, asked once a stream.
        self.holds = self.aggregates.__contains__

    def __len__(self) -> int:
        return len(self.aggregates) + len(self.records)

    def load(self, aggregate_id: UUID, cls: type[Aggregate] = Aggregate) -> Aggregate | None:
        """Returns an aggregate from memory, fetched, or from the event store (then kept)."""
        aggregate = self.aggregates.get(aggregate_id)
        if aggregate is not None:
            self.aggregates.move_to_end(aggregate_id)
            return aggregate
        aggregate = self.records.get(aggregate_id)
        if aggregate is not None:
            self.records.move_to_end(aggregate_id)
            return aggregate
        fetched = self._fetched.pop(aggregate_id, None)
        if isinstance(fetched, Aggregate):
            aggregate = fetched
        elif fetched is ABSENT and cls is IdempotencyRecord:
            return None
        else:
            try:
                aggregate = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        self.remember(aggregate)
        return aggregate

    def load_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """`load` for many: those kept first (so that loading the others lets none of them
        go), then the others in one query; those not in the store left out. An absence this
        query found is believed (not looked up again one by one): the writer's thread asks,
        and a stream another process creates meanwhile fails the insert's version check."""
        found: dict[UUID, Aggregate] = {}
        missing: list[UUID] = []
        for aggregate_id in aggregate_ids:
            aggregate = self.aggregates.get(aggregate_id)
            if aggregate is None:
                missing.append(aggregate_id)
            else:
                self.aggregates.move_to_end(aggregate_id)
                found[aggregate_id] = aggregate
        asked_now = set(self.uncached(missing))
        self.fetch(missing)
        for aggregate_id in missing:
            if aggregate_id in asked_now and self._fetched.get(aggregate_id) is ABSENT:
                del self._fetched[aggregate_id]
                continue
            aggregate = self.load(aggregate_id)
            if aggregate is not None:
                found[aggregate_id] = aggregate
        return found

    def remember(self, aggregate: Aggregate) -> None:
        """Keeps `aggregate` as the most recently used, and lets the least recently used go
        past the bound (never one with unsaved events, and with it its stream's head)."""
        self._fetched.pop(aggregate.id, None)
        cache, limit = ((self.records, self.max_records)
                        if isinstance(aggregate, IdempotencyRecord)
                        else (self.aggregates, self.max_aggregates))
        cache[aggregate.id] = aggregate
        cache.move_to_end(aggregate.id)
        while len(cache) > limit:
            _, oldest = cache.popitem(last=False)
            if oldest.pending_events:  # never drop unsaved work; put it back
                cache[oldest.id] = oldest
                break
            if cache is self.aggregates:  # nor keep the head of a stream let go (memory)
                self._events.forget_head(oldest.id)

    def evict(self, aggregate_ids: Iterable[UUID]) -> None:
        """Drops aggregates (and their unsaved events): the next command loads them again."""
        for aggregate_id in list(aggregate_ids):
            aggregate = (self.aggregates.pop(aggregate_id, None)
                         or self.records.pop(aggregate_id, None))
            if aggregate is not None:
                aggregate.collect_events()

    def clear(self) -> None:
        """Drops every aggregate and record kept (after a defect: nothing half-changed stays)."""
        self.aggregates.clear()
        self.records.clear()

    def uncached(self, aggregate_ids: Iterable[UUID]) -> list[UUID]:
        """Lists those of `aggregate_ids` neither kept nor fetched."""
        return [i for i in aggregate_ids
                if i not in self.aggregates and i not in self.records and i not in self._fetched]

    def fetch(self, aggregate_ids: Iterable[UUID]) -> None:
        """Loads those of `aggregate_ids` not in memory, in one go, for the writer to take.

        Safe whatever happens meanwhile: an aggregate that changes after it was fetched is
        caught by the version checks of the group's insert, and its command runs again alone.
        Only an idempotency record's absence is believed (its key is claimed while its request
        runs, see `ledger.write.keyed`); any other absence is looked up again by `load`.
        """
        if len(self._fetched) > self.max_aggregates:  # fetched but never taken
            self._fetched.clear()
        wanted = self.uncached(aggregate_ids)
        if not wanted:
            return
        try:
            found = load_aggregates(self._app, wanted)
        except PersistenceError:
            return  # the writer will try again, and report it
        for aggregate_id in wanted:
            self._fetched[aggregate_id] = found.get(aggregate_id, ABSENT)

    def warm(self, aggregate_ids: Sequence[UUID], until: float) -> int:
        """Loads `aggregate_ids` (the most wanted first) in chunks of one query each, until
        the cache is full or `time.monotonic()` passes `until`; returns how many it keeps."""
        room = self.max_aggregates - len(self.aggregates)
        wanted = list(dict.fromkeys(aggregate_ids))[:max(0, room)]
        cached = 0
        for start in range(0, len(wanted), WARM_CHUNK):
            if time.monotonic() >= until:
                break
            chunk = [i for i in wanted[start:start + WARM_CHUNK] if i not in self.aggregates]
            found = load_aggregates(self._app, chunk)
            for aggregate_id in chunk:
                aggregate = found.get(aggregate_id)
                if aggregate is not None:  # at the cold end: the more wanted stay warmer
                    self.aggregates[aggregate_id] = aggregate
                    self.aggregates.move_to_end(aggregate_id, last=False)
                    cached += 1
        return cached

    # --- idempotency records (see `ledger.write.keyed`) ---------------------------------
    def presume_absent(self, record_ids: Iterable[UUID]) -> None:
        """Takes the records of `record_ids` not kept as absent, without a query."""
        for record_id in record_ids:
            if record_id not in self.records:
                self._fetched[record_id] = ABSENT

    def records_not_held(self, record_ids: Iterable[UUID]) -> list[UUID]:
        """Lists those of `record_ids` not kept."""
        return [i for i in record_ids if i not in self.records]

    def found_records(self, record_ids: Iterable[UUID], used: Collection[UUID]) -> None:
        """After a look-up of `record_ids`: those `used` are read from the store when needed,
        the others are known to be absent."""
        for record_id in record_ids:
            if record_id in used:
                self._fetched.pop(record_id, None)
            else:
                self._fetched[record_id] = ABSENT
