"""The hash chain: every stored event carries its own hash and the hash of its stream's previous
event, in a 68-byte header in front of the library's JSON state.

Stored state = MAGIC (4 bytes, b"LCH1") | prev_hash (32) | hash (32) | payload (the JSON bytes
of the event, exactly as the eventsourcing transcoder wrote them).

hash = SHA-256( b"linli/event/v1" 0x00 | originator_id (16 bytes, RFC 4122 order)
                | originator_version (8 bytes, big-endian) | length of topic (4 bytes, big-endian)
                | topic (UTF-8) | prev_hash (32) | payload )

prev_hash is 32 zero bytes for version 1 of a stream. The hash covers the stored bytes, not a
re-encoding, so anyone can recompute it from the raw rows (docs/audit.md, "The hash chain",
has SQL for it).
Snapshots are not chained: they are a cache, rebuilt from events.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from ledger.transcoder import CHECK

MAGIC = b"LCH1"
HASH_BYTES = 32
HEADER_BYTES = len(MAGIC) + 2 * HASH_BYTES
GENESIS = bytes(HASH_BYTES)
DOMAIN = b"linli/event/v1\x00"
HEADS_MAX = 200_000
COMMITTED_MAX = 100_000  # as many as one checkpoint seals (`ledger.sealer.SEAL_MAX_EVENTS`)


def event_hash(originator_id: UUID, version: int, topic: str, prev_hash: bytes,
               payload: bytes) -> bytes:
    """The SHA-256 of an event's canonical content (see the module's docstring)."""
    topic_bytes = topic.encode()
    digest = hashlib.sha256(DOMAIN)
    digest.update(originator_id.bytes)
    digest.update(struct.pack(">qI", version, len(topic_bytes)))
    digest.update(topic_bytes)
    digest.update(prev_hash)
    digest.update(payload)
    return digest.digest()


@dataclass(frozen=True)
class Header:
    prev_hash: bytes
    hash: bytes


def split(state: bytes) -> tuple[Header | None, bytes]:
    """The chain header (None when the state has none) and the payload."""
    if state[:4] != MAGIC or len(state) < HEADER_BYTES:
        return None, state
    return Header(state[4:36], state[36:68]), state[HEADER_BYTES:]


def head_hash(state: bytes) -> bytes | None:
    """The hash a stored event's header gives it (None without a header)."""
    header, _ = split(state)
    return None if header is None else header.hash


def seal(stored: StoredEvent, prev_hash: bytes) -> tuple[StoredEvent, bytes]:
    """The stored event with its chain header in front, and its hash."""
    return sealed((_uuid(stored.originator_id), stored.originator_version, stored.topic,
                   stored.state), prev_hash)


def sealed(payload: tuple[UUID, int, str, bytes], prev_hash: bytes) -> tuple[StoredEvent, bytes]:
    """`seal` of the event `ChainMapper.to_payload` gave, made in one `StoredEvent`."""
    originator_id, version, topic, state = payload
    own = event_hash(originator_id, version, topic, prev_hash, state)
    # Its fields set as the frozen dataclass's `__init__` sets them, at a third of the cost.
    stored = _new_stored(StoredEvent)
    fields = stored.__dict__
    fields["originator_id"] = originator_id
    fields["originator_version"] = version
    fields["topic"] = topic
    fields["state"] = MAGIC + prev_hash + own + state
    return stored, own


_new_stored = object.__new__


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class ChainMapper(Mapper[UUID]):
    """The library's mapper, reading past the chain header of stored events."""

    def to_payload(self, domain_event: Any) -> tuple[UUID, int, str, bytes]:
        """(originator id, version, topic, state) of the event: `to_stored_event`'s values,
        without the `StoredEvent` that `seal` would replace at once."""
        if self.compressor or self.cipher:
            stored = self.to_stored_event(domain_event)
            return (_uuid(stored.originator_id), stored.originator_version, stored.topic,
                    stored.state)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        version = state.pop("originator_version")
        cls = type(domain_event)
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        payload = _uuid(originator_id), version, get_topic(cls), self.transcoder.encode(state)
        if CHECK:  # the test suite's: each event as the library's own mapper writes it
            stored = self.to_stored_event(domain_event)
            assert payload == (_uuid(stored.originator_id), stored.originator_version,
                               stored.topic, stored.state), payload
        return payload

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        header, payload = split(stored_event.state)
        if header is not None:
            stored_event = StoredEvent(stored_event.originator_id,
                                       stored_event.originator_version, stored_event.topic,
                                       payload)
        return super().to_domain_event(stored_event)


@dataclass(frozen=True)
class Run:
    """Events this process committed at consecutive positions from `first`: their hashes
    (`HASH_BYTES` each, in position order), and whether all their topics were of the ones
    asked about (`Committed.run_after`)."""

    first: int
    hashes: bytes
    own_only: bool

    @property
    def count(self) -> int:
        return len(self.hashes) // HASH_BYTES

    def entries(self) -> Iterator[tuple[int, bytes]]:
        """(position, hash) of each event."""
        hashes = self.hashes
        for index in range(self.count):
            yield self.first + index, hashes[index * HASH_BYTES:(index + 1) * HASH_BYTES]


class Committed:
    """(position, topic, hash) of the events this process committed, in position order: what
    the sealer would otherwise read back from the log. At most `most` entries (48 bytes each);
    an insert that would break the order (another thread's) or pass the bound clears them, and
    the sealer reads the log instead. `filling` is called on each insert once they are half
    the bound (the sealer is woken, so that the bound is not passed at any rate the writer
    can sustain: at 25,000 events a second, passing it every 5 s read back 100,000 events a
    pass)."""

    def __init__(self, most: int = COMMITTED_MAX,
                 filling: Callable[[], None] | None = None) -> None:
        self._most = most
        self._filling = filling
        self._lock = threading.Lock()
        self._positions = array("q")
        self._topics: list[str] = []  # each the same str object as its event class's topic
        self._hashes = bytearray()

    def add(self, positions: Sequence[int], events: Sequence[StoredEvent]) -> None:
        with self._lock:
            if ((self._positions and positions[0] <= self._positions[-1])
                    or len(self._positions) + len(positions) > self._most):
                self._drop(len(self._positions))
            if any(b <= a for a, b in zip(positions, positions[1:], strict=False)):
                return
            self._positions.extend(positions)
            for event in events:
                self._topics.append(event.topic)
                self._hashes += event.state[36:68]
            filling = self._filling if 2 * len(self._positions) >= self._most else None
        if filling is not None:
            filling()

    def run_after(self, position: int, most: int, own: Collection[str]) -> Run | None:
        """The events at `position` + 1, + 2, … up to the first position not here (an event
        of another process, or a number the database skipped), at most `most`; None if
        `position` + 1 is not here. In bulk, without a Python object an event."""
        with self._lock:
            positions = self._positions
            start = bisect_left(positions, position + 1)
            if start == len(positions) or positions[start] != position + 1:
                return None
            # Positions strictly increase, so the run is where position - index is constant.
            offset, low, high = position + 1 - start, start, min(len(positions), start + most)
            while low < high:
                middle = (low + high) // 2
                if positions[middle] == offset + middle:
                    low = middle + 1
                else:
                    high = middle
            own_only = all(topic in own for topic in islice(self._topics, start, low))
            return Run(position + 1, bytes(self._hashes[start * HASH_BYTES:low * HASH_BYTES]),
                       own_only)

    def forget_through(self, position: int) -> None:
        """Drop the entries at or before `position` (sealed)."""
        with self._lock:
            self._drop(bisect_left(self._positions, position + 1))

    def _drop(self, end: int) -> None:
        del self._positions[:end]
        del self._topics[:end]
        del self._hashes[:end * HASH_BYTES]


class ChainedEventStore(EventStore[UUID]):
    """An event store that seals every event it stores onto its stream's chain.

    The head (version, hash) of each stream written or loaded (`remember_heads`) is kept in
    memory; a head not there (a cold start, another process wrote since) is read in one query
    per `put`. A head is remembered only once its insert has committed (or as a load read
    it), so a failed insert leaves nothing behind; `store` may leave out streams seldom written
    again (a keyed request's record, a redemption), which would crowd out the others.
    """

    def __init__(self, mapper: ChainMapper, recorder: AggregateRecorder) -> None:
        super().__init__(mapper, recorder)
        self._payload = mapper.to_payload
        self._heads: OrderedDict[UUID, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.committed: Committed | None = None  # kept for the sealer, when it runs here

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        stored, notification_ids = self._seal_and_insert(domain_events, **kwargs)
        if not notification_ids:
            return []
        return [
            Recording(d, Notification(originator_id=s.originator_id,
                                      originator_version=s.originator_version,
                                      topic=s.topic, state=s.state, id=n))
            for d, s, n in zip(domain_events, stored, notification_ids, strict=True)
        ]

    def store(self, domain_events: Sequence[Any],
              keep_head: Callable[[UUID], bool] | None = None, **kwargs: Any) -> Sequence[int]:
        """`put` for the writer: the notification ids only, no `Recording` per event; the heads
        of only the streams `keep_head` names, if given."""
        return self._seal_and_insert(domain_events, keep_head, **kwargs)[1] or []

    def send(self, domain_events: Sequence[Any], keep_head: Callable[[UUID], bool],
             **kwargs: Any) -> Callable[[], Sequence[int]]:
        """`store`, sent without waiting (a recorder with `send_events`): the returned function
        waits for the insert and gives its notification ids. The streams' heads move once it
        has, so nothing else may be stored meanwhile."""
        stored, heads = self._seal(domain_events)
        in_flight = self.recorder.send_events(stored, **kwargs)  # type: ignore[attr-defined]

        def result() -> Sequence[int]:
            notification_ids: Sequence[int] = in_flight.result()
            self._inserted(stored, heads, notification_ids, keep_head)
            return notification_ids

        return result

    def _seal_and_insert(
        self, domain_events: Sequence[Any], keep_head: Callable[[UUID], bool] | None = None,
        **kwargs: Any,
    ) -> tuple[list[StoredEvent], Sequence[int] | None]:
        stored, heads = self._seal(domain_events)
        notification_ids = self.recorder.insert_events(stored, **kwargs)
        self._inserted(stored, heads, notification_ids, keep_head)
        return stored, notification_ids

    def _seal(self, domain_events: Sequence[Any]
              ) -> tuple[list[StoredEvent], dict[UUID, tuple[int, bytes]]]:
        """The events encoded, each sealed onto its stream's chain; and each stream's head
        (version, hash) after them."""
        payloads = [self._payload(e) for e in domain_events]
        heads = self._heads_before(payloads)
        stored: list[StoredEvent] = []
        for payload in payloads:
            originator_id, version = payload[0], payload[1]
            head_version, head = heads[originator_id]
            if head_version != version - 1:
                raise ValueError(f"{originator_id}: version {version} after {head_version}")
            event, own = sealed(payload, head)
            heads[originator_id] = (version, own)
            stored.append(event)
        return stored, heads

    def _inserted(self, stored: list[StoredEvent], heads: dict[UUID, tuple[int, bytes]],
                  notification_ids: Sequence[int] | None,
                  keep_head: Callable[[UUID], bool] | None) -> None:
        """After an insert: the new heads (of the streams `keep_head` names, if given)."""
        if notification_ids and self.committed is not None:
            self.committed.add(notification_ids, stored)
        with self._lock:
            for originator_id, head in heads.items():
                if keep_head is None or keep_head(originator_id):
                    self._heads[originator_id] = head
                    self._heads.move_to_end(originator_id)
                else:
                    self._heads.pop(originator_id, None)
            self._keep_heads_within_bound()

    def remember_heads(self, heads: dict[UUID, tuple[int, bytes]]) -> None:
        """Heads (version, hash) read from the store, by a load: a newer one is kept."""
        with self._lock:
            for originator_id, head in heads.items():
                known = self._heads.get(originator_id)
                if known is None or known[0] < head[0]:
                    self._heads[originator_id] = head
            self._keep_heads_within_bound()

    def forget_head(self, originator_id: UUID) -> None:
        """The head of a stream this process will not write soon (the writer let its
        aggregate go): a write to it reads its head again."""
        with self._lock:
            self._heads.pop(originator_id, None)

    def _keep_heads_within_bound(self) -> None:
        """Forget the least recently written heads past `HEADS_MAX` (under `_lock`)."""
        while len(self._heads) > HEADS_MAX:
            self._heads.popitem(last=False)

    def _heads_before(
        self, payloads: list[tuple[UUID, int, str, bytes]]
    ) -> dict[UUID, tuple[int, bytes]]:
        """The head (version, hash) each stream's first event of this batch links to."""
        heads: dict[UUID, tuple[int, bytes]] = {}
        missing: list[tuple[UUID, int]] = []
        with self._lock:
            for key, version, _, _ in payloads:
                if key in heads:
                    continue
                wanted = version - 1
                cached = self._heads.get(key) if wanted > 0 else (wanted, GENESIS)
                if cached is not None and cached[0] == wanted:
                    heads[key] = cached
                else:
                    heads[key] = (wanted, GENESIS)  # until read
                    missing.append((key, wanted))
        if missing:
            found = stored_hashes(self.recorder, missing)
            for wanted_key in missing:
                # A stream whose previous event is not there (or has no header) links to
                # zeros: its insert fails on the version, or verify names the break.
                heads[wanted_key[0]] = (wanted_key[1], found.get(wanted_key, GENESIS))
        return heads


def stored_hashes(recorder: Any, keys: list[tuple[UUID, int]]) -> dict[tuple[UUID, int], bytes]:
    """The stored hash of each (stream, version), in one query per 400 keys."""
    from eventsourcing.postgres import PostgresAggregateRecorder

    table = recorder.events_table_name
    result: dict[tuple[UUID, int], bytes] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start:start + 400]
        if isinstance(recorder, PostgresAggregateRecorder):
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(
                    f"SELECT e.originator_id, e.originator_version, "
                    f"substring(e.state from 1 for {HEADER_BYTES}) AS head FROM {table} e "
                    "JOIN unnest(%b::uuid[], %b::bigint[]) AS k(id, v) "
                    "ON e.originator_id = k.id AND e.originator_version = k.v",
                    ([k[0] for k in chunk], [k[1] for k in chunk]),
                )
                rows = [(r["originator_id"], r["originator_version"], bytes(r["head"]))
                        for r in cursor.fetchall()]
        else:
            clause = " OR ".join(["(originator_id = ? AND originator_version = ?)"] * len(chunk))
            params: list[Any] = []
            for key, version in chunk:
                params += [key.hex, version]
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT originator_id, originator_version, substr(state, 1, {HEADER_BYTES}) "
                    f"FROM {table} WHERE {clause}", params)
                rows = [(UUID(r[0]), r[1], bytes(r[2])) for r in cursor.fetchall()]
        for originator_id, version, head in rows:
            header, _ = split(head)
            if header is not None:
                result[(_uuid(originator_id), version)] = header.hash
    return result
