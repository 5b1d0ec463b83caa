"""Which fields of which events are personal, and their encryption in the stored log.

A personal field is stored as `{"_pd_": base64(nonce + AES-GCM ciphertext)}` under the key of
the person it belongs to (the event's stream, or the person a field of it names), its
associated data naming the person and the field, so a ciphertext cannot be moved to another.
Everything else (amounts, ids, rules, times) stays in clear: the books, the boards and verify
need no key. Once a person's key is destroyed their fields read as `ERASED_VALUES` says.
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic

from ledger.domain.care import CareRoster
from ledger.domain.idempotency import PersonalIdempotencyRecord
from ledger.domain.registry import ERASED_ADDRESS, ERASED_NAME, Household, Member
from ledger.privacy.keyring import Erased, Keyring

log = logging.getLogger(__name__)

ENVELOPE = "_pd_"
# What a personal field reads once its person's key is destroyed.
ERASED_VALUES: dict[str, Any] = {"name": ERASED_NAME, "address": ERASED_ADDRESS, "born_on": None,
                                 "body": "", "categories": [], "note": ""}


@dataclass(frozen=True)
class Personal:
    """An event's personal `fields`, belonging to the person `subject` names: the event's
    stream (`originator_id`) or one of its fields."""

    fields: tuple[str, ...]
    subject: str = "originator_id"


_member: Any = Member
_household: Any = Household
_record: Any = PersonalIdempotencyRecord
_roster: Any = CareRoster
EVENTS: dict[type, Personal] = {
    _member.Registered: Personal(("name",)),
    _member.Renamed: Personal(("name",)),
    _member.BirthDateRecorded: Personal(("born_on",)),
    _household.Registered: Personal(("address",)),
    _household.AddressChanged: Personal(("address",)),
    # A keyed request's first answer, when it shows a person (a registration, a correction).
    _record.Recorded: Personal(("body",), subject="subject_id"),
    # Care (照护): a resident's categories (独居, 残疾…) and what visitors noted are about
    # their health, under the resident's key (in the roster's snapshots too: `NESTED`).
    _roster.Set: Personal(("categories",), subject="member_id"),
    _roster.VisitLogged: Personal(("note",), subject="member_id"),
}
# Snapshots, by the topic of the aggregate they hold: the personal fields of its state.
SNAPSHOTS: dict[str, Personal] = {
    get_topic(Member): Personal(("name", "born_on")),
    get_topic(Household): Personal(("address",)),
}
Each = Callable[[Any, str, str], Any]  # (value, person, field) -> the value to keep


def care_entries(state: dict[str, Any], each: Each) -> None:
    """Replace each personal value of a care roster's state by `each` of it."""
    for member_id, entry in state.get("entries", {}).items():
        entry["categories"] = each(entry.get("categories"), member_id, "categories")
        for visit in entry.get("visits", ()):
            visit["note"] = each(visit.get("note"), member_id, "note")


# Snapshots whose personal fields sit inside their state: the walk over them.
NESTED: dict[str, Callable[[dict[str, Any], Each], None]] = {
    get_topic(CareRoster): care_entries,
}
# Events after which the person's key is gone: a process decoding one forgets the key.
ERASURES: frozenset[type] = frozenset({_member.Erased, _household.Erased})


# Every class the cipher looks at: the mapper calls it for these only.
CLASSES: frozenset[type] = frozenset({*EVENTS, *ERASURES, Snapshot})


def is_sealed(value: Any) -> bool:
    """Whether `value` is a personal field as stored (encrypted)."""
    return type(value) is dict and ENVELOPE in value


class PersonalCipher:
    """Encrypts the personal fields of events on their way to the log and decrypts them on
    their way back, with each person's key from `keyring`."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def sealed(self, event: Any) -> Any:
        """The event to store: `event` itself when it holds nothing personal, else a copy
        with its personal fields encrypted (the aggregate keeps the clear one)."""
        cls = type(event)
        if cls is Snapshot:
            spec = SNAPSHOTS.get(event.topic)
            if spec is not None:
                state = dict(event.state)
                if not self._seal_fields(state, str(event.originator_id), spec.fields):
                    return event
                return _copy(event, state=state)
            walk = NESTED.get(event.topic)
            if walk is None:
                return event
            state = copy.deepcopy(event.state)  # the aggregate's own dicts stay in clear
            walk(state, self._sealed_value)
            return _copy(event, state=state)
        spec = EVENTS.get(cls)
        if spec is None:
            return event
        subject = getattr(event, spec.subject, None)
        if subject is None:
            return event
        fields = dict(vars(event))
        if not self._seal_fields(fields, str(subject), spec.fields):
            return event
        return _copy(event, **fields)

    def prepare(self, events: Sequence[Any]) -> None:
        """Make the keys the personal fields of `events` need, in one transaction for all
        of them (a group of registrations, an import's chunk)."""
        subjects: list[str] = []
        for event in events:
            spec = EVENTS.get(type(event))
            if spec is not None and (subject := getattr(event, spec.subject, None)) is not None:
                subjects.append(str(subject))
        if subjects:
            self.keyring.prepare(subjects)

    def opened(self, event: Any) -> Any:
        """`event` (as decoded from the log) with its personal fields decrypted in place."""
        cls = type(event)
        if cls is Snapshot:
            spec = SNAPSHOTS.get(event.topic)
            if spec is not None:
                self._open_fields(event.state, str(event.originator_id), spec.fields)
            elif (walk := NESTED.get(event.topic)) is not None:
                walk(event.state, self.plain)
            return event
        spec = EVENTS.get(cls)
        if spec is not None:
            subject = getattr(event, spec.subject, None)
            if subject is not None:
                self._open_fields(event.__dict__, str(subject), spec.fields)
        elif cls in ERASURES:
            self.keyring.forget(str(event.originator_id))
        return event

    def plain(self, value: Any, subject: str, field: str) -> Any:
        """A stored personal value in clear (or as erased)."""
        if not is_sealed(value):
            return value
        key = self.keyring.key_for(subject, create=False)
        if isinstance(key, Erased):
            return ERASED_VALUES.get(field)
        try:
            return orjson.loads(Keyring.open(key, subject, field,
                                             base64.b64decode(value[ENVELOPE])))
        except (InvalidTag, ValueError):
            log.error("the personal field %s of %s does not decrypt under its key", field,
                      subject)
            return ERASED_VALUES.get(field)

    def _sealed_value(self, value: Any, subject: str, field: str) -> Any:
        """`value` as stored: encrypted under the person's key (an erased person has none:
        their placeholder, never the value in clear)."""
        if value is None or is_sealed(value):
            return value
        key = self.keyring.key_for(subject, create=True)
        if isinstance(key, Erased):
            if field in ERASED_VALUES and value != ERASED_VALUES[field]:
                log.error("refused to store %s of %s in clear: erased", field, subject)
                return ERASED_VALUES[field]
            return value
        sealed = Keyring.seal(key, subject, field, orjson.dumps(value))
        return {ENVELOPE: base64.b64encode(sealed).decode()}

    def _seal_fields(self, state: dict[str, Any], subject: str,
                     fields: tuple[str, ...]) -> bool:
        """Seal `fields` of `state` in place; whether any changed."""
        changed = False
        for field in fields:
            value = state.get(field)
            sealed = self._sealed_value(value, subject, field)
            if sealed is not value:
                state[field] = sealed
                changed = True
        return changed

    def _open_fields(self, state: dict[str, Any], subject: str,
                     fields: tuple[str, ...]) -> None:
        for field in fields:
            value = state.get(field)
            if is_sealed(value):
                state[field] = self.plain(value, subject, field)


def _copy(event: Any, **fields: Any) -> Any:
    """A copy of `event` with `fields` replaced, made as the mapper makes events."""
    copy = object.__new__(type(event))
    copy.__dict__.update(vars(event))
    copy.__dict__.update(fields)
    return copy
