"""Check every stream's latest snapshot against the events it folds (part of `verify`).

A snapshot is a cache, so nothing in it may differ from its events: its MAC (with the MAC
key), the head hash it names against the event at its version, and the whole state of the
aggregate that the stream's events rebuild up to that version, for every kind of aggregate.
The events are folded as the log is read, each decoded once (the replay of the postings reads
the same fields), and an aggregate is dropped once its snapshot's version is met: memory holds
one aggregate a snapshotted stream still being read, never the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.persistence import DatetimeAsISO, Transcoder, UUIDAsHex
from eventsourcing.utils import get_topic, resolve_topic

from ledger.application import LedgerApp
from ledger.chain import Hmac, snapshot_head, snapshot_ok, split
from ledger.domain.accounts import Account
from ledger.domain.base import FieldsApplier, apply_stored, fields_applier
from ledger.privacy.fields import NESTED, SNAPSHOTS, PersonalCipher, is_sealed
from ledger.store import all_latest_snapshots
from projections.chain_check import Problem, Row, stream_text

ACCOUNT_TOPIC = get_topic(Account)
SHOWN_CHARACTERS = 80  # of a differing value, in a problem


@dataclass
class LatestSnapshot:
    """A stream's latest snapshot as verify checks it."""

    version: int
    head: bytes  # the hash of the event at `version`, as the snapshot names it
    payload: bytes  # its JSON (originator, version, timestamp, aggregate topic, state)
    money: tuple[int, int] | None  # an account's balance and points held


@dataclass
class _Building:
    """A stream's aggregate, folded from its events so far."""

    originator_id: UUID
    aggregate: Any = None


class SnapshotChecker:
    """Fed, in log order, the events of the streams that have a snapshot; rebuilds each
    aggregate from its first event and compares it with its latest snapshot at that
    snapshot's version, reporting the first difference."""

    def __init__(self, app: LedgerApp, report: Callable[[Problem], None],
                 snapshots: dict[bytes, LatestSnapshot]) -> None:
        self.report = report
        self.pending = snapshots  # stream (16 bytes) -> its snapshot, until its version is met
        self.building: dict[bytes, _Building] = {}
        self.snapshot_mapper = app.snapshots.mapper if app.snapshots is not None else app.mapper
        self.decoder = FlatDecoder(app.mapper.transcoder)
        self.cipher: PersonalCipher | None = getattr(app.mapper, "personal", None)
        self._classes: dict[str, type] = {}
        self._appliers: dict[type, FieldsApplier | None] = {}
        self.rebuilt = 0  # snapshots compared with their rebuild

    def fold(self, row: Row, payload: bytes) -> dict[str, Any] | None:
        """Apply a stored event of a snapshotted stream (`payload`: its state past the
        header) to the stream's aggregate; the event's fields, decoded (None when they
        cannot be, or the stream is past its snapshot)."""
        position, stream, version, topic, _ = row
        snapshot = self.pending.get(stream)
        if snapshot is None or version > snapshot.version:
            return None
        building = self.building.get(stream)
        if building is None:
            building = self.building[stream] = _Building(UUID(bytes=stream))
        try:
            cls, fields = self._decoded(building.originator_id, version, topic, payload)
            applier = None if building.aggregate is None else self._applier(cls)
            if applier is None or not applier(building.aggregate, fields):
                event: Any = object.__new__(cls)
                event.__dict__.update(fields)
                building.aggregate = apply_stored(event, building.aggregate)
        except Exception as error:
            self._give_up(row, snapshot, f"its event at version {version} does not rebuild "
                                         f"the aggregate: {error!r}")
            return None
        return fields

    def check(self, row: Row, own_problem: str | None) -> None:
        """At a snapshot's version: the snapshot against the event there (its hash) and the
        aggregate rebuilt (`own_problem`: what the caller's replay found against it)."""
        position, stream, version, _, state = row
        snapshot = self.pending.get(stream)
        if snapshot is None or snapshot.version != version:
            return
        del self.pending[stream]
        building = self.building.pop(stream, None)
        if state[36:68] != snapshot.head:
            self.report(Problem(f"the stream's snapshot at version {version} names another "
                                "head hash: it does not fold these events", position,
                                stream_text(stream), version))
            return
        if own_problem is not None:
            self.report(Problem(own_problem, position, stream_text(stream), version))
            return
        if building is None or building.aggregate is None:
            return  # its events did not rebuild it: named by `fold`
        self.rebuilt += 1
        difference = self._difference(snapshot, building.aggregate)
        if difference is not None:
            self.report(Problem(f"the stream's snapshot at version {version} does not match "
                                f"its events: {difference}", position, stream_text(stream),
                                version))

    def finish(self) -> None:
        """Name each snapshot whose version no event of its stream reached."""
        for stream, snapshot in self.pending.items():
            self.report(Problem(f"the snapshot at version {snapshot.version} has no event at "
                                "that version", None, stream_text(stream), snapshot.version))
        self.pending.clear()
        self.building.clear()

    def _decoded(self, originator_id: UUID, version: int, topic: str,
                 payload: bytes) -> tuple[type, dict[str, Any]]:
        """The class and fields of a stored event's domain event, as the library's mapper
        makes them (its header checked already, by the chain)."""
        cls = self._classes.get(topic)
        if cls is None:
            cls = self._classes[topic] = resolve_topic(topic)
        fields = self.decoder.decode(topic, payload)
        fields["originator_id"] = originator_id
        fields["originator_version"] = version
        class_version = getattr(cls, "class_version", 1)
        from_version = fields.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(fields)
            from_version += 1
        return cls, fields

    def _applier(self, cls: type) -> FieldsApplier | None:
        try:
            return self._appliers[cls]
        except KeyError:
            applier = self._appliers[cls] = fields_applier(cls)
            return applier

    def _difference(self, snapshot: LatestSnapshot, aggregate: Any) -> str | None:
        """The first field in which the snapshot differs from the rebuilt aggregate, as
        both are stored (None: none)."""
        rebuilt = self.snapshot_mapper.to_stored_event(type(aggregate).Snapshot.take(aggregate))
        ours = orjson.loads(split(rebuilt.state)[1])
        theirs = orjson.loads(snapshot.payload)
        if theirs.get("topic") != ours["topic"]:
            return (f"it is of {_shown(theirs.get('topic'))}, the events make "
                    f"{_shown(ours['topic'])}")
        stored_state, rebuilt_state = theirs.get("state"), ours["state"]
        if not isinstance(stored_state, dict):
            return "it holds no state"
        personal = SNAPSHOTS.get(ours["topic"])
        walk = NESTED.get(ours["topic"])
        for state in (stored_state, rebuilt_state):  # in clear: each has nonces of its own
            if personal is not None:
                for name in personal.fields:
                    if name in state:
                        state[name] = self._in_clear(state[name], str(aggregate.id), name)
            elif walk is not None:
                walk(state, self._in_clear)
        for name in sorted(stored_state.keys() | rebuilt_state.keys()):
            if name not in rebuilt_state:
                return f"its {name} is not in the aggregate the events rebuild"
            if name not in stored_state:
                return f"its {name} is missing"
            if stored_state[name] != rebuilt_state[name]:
                return (f"its {name} is {_shown(stored_state[name])}, the events give "
                        f"{_shown(rebuilt_state[name])}")
        return None

    def _in_clear(self, value: Any, person: str, field: str) -> Any:
        """A personal value of a snapshot decrypted (or, without the persons' keys, an
        encrypted one shown as such)."""
        if self.cipher is not None:
            return self.cipher.plain(value, person, field)
        return "（加密）" if is_sealed(value) else value

    def _give_up(self, row: Row, snapshot: LatestSnapshot, why: str) -> None:
        stream = row[1]
        self.building.pop(stream, None)
        self.pending.pop(stream, None)
        self.report(Problem(f"the stream's snapshot at version {snapshot.version} cannot be "
                            f"checked: {why}", row[0], stream_text(stream), row[2]))


class FlatDecoder:
    """An event's fields as the transcoder decodes them, at half its cost for the flat events
    most are: a JSON object whose only objects within are the UUIDs and datetimes (`{"_type_":
    "uuid_hex" or "datetime_iso", "_data_": text}`) at the keys where the first event of its
    topic held them. Those are restored as the library's transcodings restore them; any other
    event goes to the transcoder. (Its numbers are orjson's: an int beyond 64 bits, which no
    event of Linli's holds, would be read as a float.)"""

    def __init__(self, transcoder: Transcoder) -> None:
        self.transcoder = transcoder
        names: dict[str, Any] = getattr(transcoder, "names", {})
        self._uuids = type(names.get("uuid_hex")) is UUIDAsHex
        self._datetimes = type(names.get("datetime_iso")) is DatetimeAsISO
        self._typed: dict[str, tuple[str, ...]] = {}  # topic -> keys of its typed values

    def decode(self, topic: str, payload: bytes) -> dict[str, Any]:
        keys = self._typed.get(topic)
        if keys is not None and payload.count(b"{") == len(keys) + 1:
            fields = orjson.loads(payload)
            if type(fields) is dict and len(fields) != 2 and self._restored(fields, keys):
                return fields
        decoded: dict[str, Any] = self.transcoder.decode(payload)
        if keys is None:
            try:
                raw = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raw = None
            self._typed[topic] = tuple(key for key, value in raw.items()
                                       if type(value) is dict and "_type_" in value
                                       ) if type(raw) is dict else ()
        return decoded

    def _restored(self, fields: dict[str, Any], keys: tuple[str, ...]) -> bool:
        """Restores the typed values at `keys` in place; False (for the transcoder) when one
        is not what it restores."""
        for key in keys:
            value = fields.get(key)
            if type(value) is not dict or len(value) != 2:
                return False
            kind, text = value.get("_type_"), value.get("_data_")
            if type(text) is not str:
                return False
            if kind == "uuid_hex" and self._uuids and len(text) == 32 and text.isalnum():
                try:
                    fields[key] = _uuid_of_hex(text)
                except ValueError:
                    return False
            elif kind == "datetime_iso" and self._datetimes:
                try:
                    fields[key] = _datetime_of_iso(text)
                except ValueError:
                    return False
            else:
                return False
        return True


_new_object = object.__new__
_set_attribute = object.__setattr__
_UNKNOWN = SafeUUID.unknown  # an enum's member, looked up once
_datetime_of_iso = datetime.fromisoformat


def _uuid_of_hex(text: str) -> UUID:
    """`UUID(text)` for 32 letters and digits, as `UUID.__init__` makes it from their int (a
    ValueError for a letter that is not hex digit, as it raises), at a fraction of its cost."""
    uuid = _new_object(UUID)
    _set_attribute(uuid, "int", int(text, 16))
    _set_attribute(uuid, "is_safe", _UNKNOWN)
    return uuid


def latest_snapshots(app: LedgerApp, report: Callable[[Problem], None],
                     mac_key: bytes | None) -> dict[bytes, LatestSnapshot]:
    """Each stream's latest snapshot, by stream id (16 bytes); a snapshot without a header or
    whose MAC does not match is named."""
    heads: dict[bytes, LatestSnapshot] = {}
    mac = None if mac_key is None else Hmac(mac_key)
    for snapshot in all_latest_snapshots(app):
        stream, version = snapshot.originator_id, snapshot.originator_version
        head = snapshot_head(snapshot.state)
        if head is None or (mac is not None and not snapshot_ok(mac, snapshot)):
            report(Problem(f"the snapshot at version {version} does not carry its MAC: "
                           "written or edited outside Linli", None, str(stream), version))
            continue
        payload = split(snapshot.state)[1]
        try:
            fields = orjson.loads(payload)
            state = fields["state"]
            money = ((int(state["balance"]), int(state["held"]))
                     if fields["topic"] == ACCOUNT_TOPIC else None)
        except (ValueError, KeyError, TypeError):
            report(Problem(f"the snapshot at version {version} cannot be read",
                           None, str(stream), version))
            continue
        uuid = stream if isinstance(stream, UUID) else UUID(stream)
        heads[uuid.bytes] = LatestSnapshot(version, head, payload, money)
    return heads


def _shown(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS - 1] + "…"
