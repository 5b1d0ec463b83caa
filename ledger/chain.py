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
With the MAC key (`ledger.keys`), the header is 100 bytes: MAC_MAGIC (b"LCH2") | prev_hash |
hash | mac (32) | payload, mac = HMAC-SHA256(MAC key, hash). The hash covers everything the
event says, so the MAC over it covers the same; someone who can write the database but does not
hold the key cannot make an event the app accepts. Events stored before the keys (b"LCH1") are
accepted by a load only where the first signed seal vouches for them (`legacy_through`).

A snapshot is stored as SNAPSHOT_MAGIC (b"LSN1") | head hash (32) | mac (32) | payload: the hash
of the event at the snapshot's version (the last one it folds), and BLAKE2b-256 keyed with the
MAC key of SNAPSHOT_DOMAIN | stream | version | head hash | payload. A load ignores a snapshot
whose MAC or head does not match, and replays the stream from its events.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import struct
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from ledger.errors import TamperedEvent
from ledger.ids import LINLI_NAMESPACE
from ledger.transcoder import CHECK

log = logging.getLogger(__name__)

MAGIC = b"LCH1"
MAC_MAGIC = b"LCH2"
SNAPSHOT_MAGIC = b"LSN1"
HASH_BYTES = 32
HEADER_BYTES = len(MAGIC) + 2 * HASH_BYTES  # the hash lies within these in every header
MAC_HEADER_BYTES = HEADER_BYTES + HASH_BYTES
SNAPSHOT_HEADER_BYTES = len(SNAPSHOT_MAGIC) + 2 * HASH_BYTES
SNAPSHOT_DOMAIN = b"linli/snapshot/v1\x00"
LEGACY_OK_MAX = 100_000
GENESIS = bytes(HASH_BYTES)
DOMAIN = b"linli/event/v1\x00"
HEADS_MAX = 200_000
COMMITTED_MAX = 100_000  # as many as one checkpoint seals (`ledger.sealer.SEAL_MAX_EVENTS`)


_EVENT_DIGEST = hashlib.sha256(DOMAIN)


class Hmac:
    """HMAC-SHA256 under one key, its padded key's digests made once: a MAC then costs two
    copies and two updates (about a third of `hmac.digest`, which sets the key up each call)."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        padded = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest()
        padded = padded.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def event_hash(originator_id: UUID, version: int, topic: str, prev_hash: bytes,
               payload: bytes) -> bytes:
    """The SHA-256 of an event's canonical content (see the module's docstring)."""
    topic_bytes = topic.encode()
    digest = _EVENT_DIGEST.copy()  # a copy costs a fraction of a new one (OpenSSL 3)
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
    mac: bytes | None = None  # None: stored before the keys (b"LCH1")


def split(state: bytes) -> tuple[Header | None, bytes]:
    """The chain header (None when the state has none) and the payload. A snapshot's header
    (b"LSN1") is taken off too, with None for its header."""
    magic = state[:4]
    if magic == MAC_MAGIC and len(state) >= MAC_HEADER_BYTES:
        return Header(state[4:36], state[36:68], state[68:100]), state[MAC_HEADER_BYTES:]
    if magic == MAGIC and len(state) >= HEADER_BYTES:
        return Header(state[4:36], state[36:68]), state[HEADER_BYTES:]
    if magic == SNAPSHOT_MAGIC and len(state) >= SNAPSHOT_HEADER_BYTES:
        return None, state[SNAPSHOT_HEADER_BYTES:]
    return None, state


def event_mac(mac_key: bytes | Hmac, own_hash: bytes) -> bytes:
    """An event's MAC: HMAC-SHA256 of its hash."""
    if isinstance(mac_key, Hmac):
        return mac_key.digest(own_hash)
    return hmac.digest(mac_key, own_hash, "sha256")


def mac_ok(mac_key: bytes | Hmac, state: bytes) -> bool:
    """Whether a stored state's header (b"LCH2") holds the MAC of its hash under `mac_key`."""
    return (state[:4] == MAC_MAGIC and len(state) >= MAC_HEADER_BYTES
            and hmac.compare_digest(event_mac(mac_key, state[36:68]), state[68:100]))


def snapshot_mac(mac_key: bytes | Hmac, originator_id: UUID, version: int, head: bytes,
                 payload: bytes) -> bytes:
    """A snapshot's MAC: keyed BLAKE2b (a MAC by design, and a fraction of SHA-256's cost on
    a payload of kilobytes) over its stream, version, the head hash it folds and its
    payload."""
    key = mac_key.key if isinstance(mac_key, Hmac) else mac_key
    digest = hashlib.blake2b(SNAPSHOT_DOMAIN, key=key, digest_size=HASH_BYTES)
    digest.update(originator_id.bytes)
    digest.update(struct.pack(">q", version))
    digest.update(head)
    digest.update(payload)
    return digest.digest()


def with_snapshot_header(snapshot: StoredEvent, head: bytes,
                         mac_key: bytes | Hmac) -> StoredEvent:
    """The snapshot as stored: its head hash and MAC in front of its state."""
    originator_id = _uuid(snapshot.originator_id)
    mac = snapshot_mac(mac_key, originator_id, snapshot.originator_version, head,
                       snapshot.state)
    return StoredEvent(snapshot.originator_id, snapshot.originator_version, snapshot.topic,
                       SNAPSHOT_MAGIC + head + mac + snapshot.state)


def snapshot_head(state: bytes) -> bytes | None:
    """The head hash a stored snapshot names (None without a header)."""
    if state[:4] != SNAPSHOT_MAGIC or len(state) < SNAPSHOT_HEADER_BYTES:
        return None
    return state[4:36]


def snapshot_ok(mac_key: bytes | Hmac, snapshot: StoredEvent) -> bool:
    """Whether a stored snapshot has a header whose MAC matches."""
    state = snapshot.state
    head = snapshot_head(state)
    if head is None:
        return False
    expected = snapshot_mac(mac_key, _uuid(snapshot.originator_id), snapshot.originator_version,
                            head, state[SNAPSHOT_HEADER_BYTES:])
    return hmac.compare_digest(expected, state[36:68])


def head_hash(state: bytes) -> bytes | None:
    """The hash a stored event's header gives it (None without a header); its first
    `HEADER_BYTES` are enough."""
    if state[:4] not in (MAGIC, MAC_MAGIC) or len(state) < HEADER_BYTES:
        return None
    return state[36:68]


def seal(stored: StoredEvent, prev_hash: bytes,
         mac_key: bytes | Hmac | None = None) -> tuple[StoredEvent, bytes]:
    """The stored event with its chain header in front (with its MAC under `mac_key`, if
    given), and its hash."""
    return sealed((_uuid(stored.originator_id), stored.originator_version, stored.topic,
                   stored.state), prev_hash, mac_key)


def sealed(payload: tuple[UUID, int, str, bytes], prev_hash: bytes,
           mac_key: bytes | Hmac | None = None) -> tuple[StoredEvent, bytes]:
    """`seal` of the event `ChainMapper.to_payload` gave, made in one `StoredEvent`."""
    originator_id, version, topic, state = payload
    # `event_hash`, inlined: the header's fields in one update, the topic's bytes made once.
    topic_part = _TOPIC_PARTS.get(topic)
    if topic_part is None:
        encoded = topic.encode()
        topic_part = _TOPIC_PARTS[topic] = _PACK_LENGTH(len(encoded)) + encoded
    digest = _EVENT_DIGEST.copy()
    digest.update(originator_id.bytes + _PACK_VERSION(version) + topic_part + prev_hash)
    digest.update(state)
    own = digest.digest()
    # Its fields set as the frozen dataclass's `__init__` sets them, at a third of the cost.
    stored = _new_stored(StoredEvent)
    fields = stored.__dict__
    fields["originator_id"] = originator_id
    fields["originator_version"] = version
    fields["topic"] = topic
    if mac_key is None:
        fields["state"] = MAGIC + prev_hash + own + state
    else:
        fields["state"] = MAC_MAGIC + prev_hash + own + event_mac(mac_key, own) + state
    return stored, own


_new_stored = object.__new__
_PACK_VERSION = struct.Struct(">q").pack
_PACK_LENGTH = struct.Struct(">I").pack
_TOPIC_PARTS: dict[str, bytes] = {}  # an event class's topic: its length and UTF-8 bytes


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class ChainMapper(Mapper[UUID]):
    """The library's mapper, reading past the chain header of stored events, with personal
    fields encrypted in the log when it has a `personal` cipher (`ledger.privacy`)."""

    personal: Any = None  # a `PersonalCipher`, once the master key is loaded

    personal_classes: frozenset[type] = frozenset()  # the classes `personal` looks at

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if type(domain_event) in self.personal_classes:
            domain_event = self.personal.sealed(domain_event)
        return super().to_stored_event(domain_event)

    def to_payload(self, domain_event: Any) -> tuple[UUID, int, str, bytes]:
        """(originator id, version, topic, state) of the event: `to_stored_event`'s values,
        without the `StoredEvent` that `seal` would replace at once."""
        if type(domain_event) in self.personal_classes:
            domain_event = self.personal.sealed(domain_event)
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
        """The domain event (or snapshot) of a stored one, its header taken off unchecked:
        loads check it first (`ChainedEventStore.get`, `ledger.store.load_aggregates`)."""
        state = stored_event.state
        _, payload = split(state)
        if payload is not state:
            stored_event = StoredEvent(stored_event.originator_id,
                                       stored_event.originator_version, stored_event.topic,
                                       payload)
        domain_event = super().to_domain_event(stored_event)
        if type(domain_event) in self.personal_classes:
            self.personal.opened(domain_event)
        return domain_event


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

    def hashes_between(self, after: int, through: int) -> dict[int, bytes]:
        """The hash of each event here at a position after `after`, up to `through`."""
        with self._lock:
            positions = self._positions
            start = bisect_left(positions, after + 1)
            end = bisect_left(positions, through + 1)
            hashes = self._hashes
            return {positions[i]: bytes(hashes[i * HASH_BYTES:(i + 1) * HASH_BYTES])
                    for i in range(start, end)}

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
        # The MAC key (`ledger.keys`): without it the store reads but refuses to write.
        self._mac_key: bytes | None = None
        self._mac: Hmac | None = None
        # The last position whose events stored before the keys (b"LCH1") a load accepts:
        # what the first signed seal vouches for (None: no signed seal yet, none accepted).
        self.legacy_through: Callable[[], int | None] = lambda: None
        self._legacy_known: int | None = None
        self._legacy_ok: OrderedDict[UUID, int] = OrderedDict()  # stream -> version checked

    @property
    def mac_key(self) -> bytes | None:
        return self._mac_key

    @mac_key.setter
    def mac_key(self, key: bytes | None) -> None:
        self._mac_key = key
        self._mac = None if key is None else Hmac(key)

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        """The library's `get`, each stored event checked (`check_loaded`) before it is
        decoded: a forged or rewritten event raises `TamperedEvent`."""
        stored = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte,
                                             desc=desc, limit=limit)
        self.check_loaded(stored)
        return map(self.mapper.to_domain_event, stored)

    def check_loaded(self, stored: Sequence[StoredEvent]) -> None:
        """Raise `TamperedEvent` unless every event carries its MAC, or (stored before the
        keys) lies where the first signed seal vouches for it."""
        key = self._mac
        legacy: StoredEvent | None = None
        for event in stored:
            state = event.state
            if state[:4] == MAC_MAGIC:
                if key is not None and not mac_ok(key, state):
                    raise _tampered(event, "MAC 不符")
            elif legacy is None or event.originator_version > legacy.originator_version:
                legacy = event
        if legacy is not None and key is not None:
            self._check_legacy(legacy)

    def _check_legacy(self, event: StoredEvent) -> None:
        """An event without a MAC (the latest of its stream in a load: positions grow with
        versions) is accepted where the first signed seal vouches for it."""
        originator_id = _uuid(event.originator_id)
        if originator_id == _AUDIT_LOG_ID:
            return  # the seals themselves: their signatures, not MACs, vouch for them
        version = event.originator_version
        with self._lock:
            if self._legacy_ok.get(originator_id, 0) >= version:
                return
        if self._legacy_known is None:
            self._legacy_known = self.legacy_through()
        through = self._legacy_known
        position = stored_position(self.recorder, originator_id, version) if through else None
        if through is None or position is None or position > through:
            raise _tampered(event, "没有 MAC，也不在首个签名封存之内")
        with self._lock:
            self._legacy_ok[originator_id] = version
            if len(self._legacy_ok) > LEGACY_OK_MAX:
                self._legacy_ok.popitem(last=False)

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
        stored, heads = self._seal(domain_events, kwargs.get("snapshots"))
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
        stored, heads = self._seal(domain_events, kwargs.get("snapshots"))
        notification_ids = self.recorder.insert_events(stored, **kwargs)
        self._inserted(stored, heads, notification_ids, keep_head)
        return stored, notification_ids

    def _seal(self, domain_events: Sequence[Any], snapshots: list[StoredEvent] | None = None
              ) -> tuple[list[StoredEvent], dict[UUID, tuple[int, bytes]]]:
        """The events encoded, each sealed onto its stream's chain with its MAC; and each
        stream's head (version, hash) after them. The group's `snapshots` (taken at those
        heads) are given their headers in place."""
        mac = self._mac
        if mac is None:
            raise TamperedEvent("tampered-no-key")
        if self.mapper.personal is not None:  # type: ignore[attr-defined]
            self.mapper.personal.prepare(domain_events)  # type: ignore[attr-defined]
        payloads = [self._payload(e) for e in domain_events]
        heads = self._heads_before(payloads)
        stored: list[StoredEvent] = []
        for payload in payloads:
            originator_id, version = payload[0], payload[1]
            head_version, head = heads[originator_id]
            if head_version != version - 1:
                raise ValueError(f"{originator_id}: version {version} after {head_version}")
            event, own = sealed(payload, head, mac)
            heads[originator_id] = (version, own)
            stored.append(event)
        if snapshots:
            for index, snapshot in enumerate(snapshots):
                at = heads.get(_uuid(snapshot.originator_id))
                if at is not None and at[0] == snapshot.originator_version:
                    snapshots[index] = with_snapshot_header(snapshot, at[1], mac)
            snapshots[:] = [s for s in snapshots if s.state[:4] == SNAPSHOT_MAGIC]
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


def _tampered(event: StoredEvent, why: str) -> TamperedEvent:
    log.error("refused a stored event of stream %s, version %s: %s", event.originator_id,
              event.originator_version, why)
    return TamperedEvent("tampered-event", stream=event.originator_id,
                         version=event.originator_version)


_AUDIT_LOG_ID = uuid5(LINLI_NAMESPACE, "audit-log")  # `ledger.domain.audit.AUDIT_LOG_ID`


def stored_position(recorder: Any, originator_id: UUID, version: int) -> int | None:
    """The log position of one stored event (None if there is none)."""
    from eventsourcing.postgres import PostgresAggregateRecorder

    table = recorder.events_table_name
    if isinstance(recorder, PostgresAggregateRecorder):
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT notification_id FROM {table} WHERE originator_id = %s "
                           "AND originator_version = %s", (originator_id, version))
            row = cursor.fetchone()
            return None if row is None else int(row["notification_id"])
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT rowid FROM {table} WHERE originator_id = ? "
                       "AND originator_version = ?", (originator_id.hex, version))
        found = cursor.fetchone()
        return None if found is None else int(found[0])


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
            found = head_hash(head)
            if found is not None:
                result[(_uuid(originator_id), version)] = found
    return result


class CheckedSnapshotStore(EventStore[UUID]):
    """The snapshot store: a load is given a snapshot only if its MAC matches (one without,
    or edited, is logged and left out: the repository then replays the stream's events)."""

    def __init__(self, mapper: ChainMapper, recorder: AggregateRecorder) -> None:
        super().__init__(mapper, recorder)
        self.mac_key: bytes | None = None
        self.events_recorder: Any = None  # where the events are: a snapshot names its head

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        """Store snapshots taken apart from the writer (`Application.take_snapshot`), each
        with the hash of the event at its version, as stored, and its MAC."""
        if self.mac_key is None or self.events_recorder is None:
            raise TamperedEvent("tampered-no-key")
        stored = [self.mapper.to_stored_event(e) for e in domain_events]
        heads = stored_hashes(self.events_recorder, [
            (_uuid(s.originator_id), s.originator_version) for s in stored])
        headed = [with_snapshot_header(s, heads[(_uuid(s.originator_id), s.originator_version)],
                                       self.mac_key)
                  for s in stored if (_uuid(s.originator_id), s.originator_version) in heads]
        self.recorder.insert_events(headed, **kwargs)
        return []

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        stored = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte,
                                             desc=desc, limit=limit)
        return map(self.mapper.to_domain_event, self.trusted(stored))

    def trusted(self, snapshots: Sequence[StoredEvent]) -> list[StoredEvent]:
        """Those of `snapshots` whose MAC matches; each other one is logged."""
        key = self.mac_key
        kept = []
        for snapshot in snapshots:
            if key is not None and snapshot_ok(key, snapshot):
                kept.append(snapshot)
            else:
                log.warning("ignored the snapshot of stream %s at version %s: its MAC does "
                            "not match; replaying the stream's events instead",
                            snapshot.originator_id, snapshot.originator_version)
        return kept
