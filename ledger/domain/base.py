"""The base of Linli's aggregates: the library's `Aggregate`, whose events are triggered,
created and replayed without the library's per-event mapping of arguments.

For an `@event` method whose parameters are exactly its event's fields, `LedgerAggregate`
fills the event's `__dict__` in field order and calls the method with the given values: the
same event as the library's `trigger_event` makes (class, attributes and their order, so the
same stored bytes) and the same state. Any other event class, or a call it cannot vouch for (a
field missing, an unknown one, a timestamp given), goes to the library's own `trigger_event`.

Creating an aggregate (`_create`) fills its "created" event the same way and builds the
aggregate as the library's `CanInitAggregate.mutate` does. Replaying a stored event
(`apply_stored`, with which `ledger.application.replay` loads an aggregate) checks the event's
id and version as the library's `mutate` does and calls the method with the event's own fields.

The library's private names this module uses are listed in `ledger.library_internals`.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import (
    TZINFO,
    Aggregate,
    CanCreateTimestamp,
    CanInitAggregate,
    CanMutateAggregate,
    DecoratedFuncCaller,
    DomainEvent,
    OriginatorIDError,
    OriginatorVersionError,
    get_topic,
)

from ledger.library_internals import create_id_parameters, event_method, init_takes_id

_BASE_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")
# The only definitions of these an event class may inherit for the shortcut to hold (its
# `mutate` is checked to be the library's own where it is looked up).
_LIBRARY_DEFINITIONS: dict[str, set[type]] = {
    "apply": {DecoratedFuncCaller, CanMutateAggregate},
    "__post_init__": {DomainEvent},
    "create_timestamp": {CanCreateTimestamp},
}


@dataclass(frozen=True)
class _Shortcut:
    """How to trigger one event class without the library's machinery."""

    fields: tuple[tuple[str, Any], ...]  # own fields in order, with their defaults
    order: tuple[str, ...]  # their names, in order
    names: frozenset[str]
    method: Callable[..., None]  # the undecorated method the event applies


def _shortcut(event_class: type, method: Callable[..., None] | None,
              mutate: Callable[..., Any]) -> _Shortcut | None:
    """The shortcut for `event_class` applied by `method`, if it gives what the library's
    `mutate` would."""
    if (method is None or getattr(event_class, "TOPIC", None)
            or getattr(event_class, "mutate", None) is not mutate):
        return None
    for name, allowed in _LIBRARY_DEFINITIONS.items():
        if any(name in vars(c) and c not in allowed for c in event_class.__mro__):
            return None
    fields = [f for f in dataclasses.fields(event_class) if f.name not in _BASE_FIELDS]
    if any(f.default_factory is not dataclasses.MISSING for f in fields):
        return None
    parameters = [p for p in inspect.signature(method).parameters.values()][1:]  # not self
    if (any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters)
            or {p.name for p in parameters} != {f.name for f in fields}):
        return None
    return _Shortcut(tuple((f.name, f.default) for f in fields), tuple(f.name for f in fields),
                     frozenset(f.name for f in fields), method)


def _fill(shortcut: _Shortcut, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The event's own fields in order, from `kwargs` and the defaults; None if one lacks."""
    if tuple(kwargs) == shortcut.order:  # the usual call: every field, in order
        return kwargs
    if not shortcut.names.issuperset(kwargs):
        return None
    values: dict[str, Any] = {}
    for name, default in shortcut.fields:
        value = kwargs.get(name, default)
        if value is dataclasses.MISSING:
            return None
        values[name] = value
    return values


def _new_event(event_class: type, values: dict[str, Any], **header: Any) -> Any:
    """An event of `event_class` with the library's `header` fields, then its own, in order."""
    event: Any = object.__new__(event_class)
    event.__dict__.update(header)
    event.__dict__.update(values)
    return event


@dataclass(frozen=True)
class _Creation:
    """How to create one aggregate class with one "created" event class."""

    shortcut: _Shortcut | None  # None: the library's way
    id_parameters: tuple[str, ...]  # those of `create_id`, filled from the creation's


_shortcuts: dict[type, _Shortcut | None] = {}
_creations: dict[tuple[type, type], _Creation] = {}


@contextmanager
def librarys_own_way() -> Iterator[None]:
    """Every event triggered and created by the library's own code while inside: for the
    tests and benchmarks that compare the two ways."""
    global _shortcut
    ours = _shortcut
    _forget_shortcuts()
    _shortcut = lambda *_: None  # noqa: E731
    try:
        yield
    finally:
        _shortcut = ours
        _forget_shortcuts()


def _forget_shortcuts() -> None:
    _shortcuts.clear()
    _creations.clear()


def _event_shortcut(event_class: type) -> _Shortcut | None:
    """The shortcut of an `@event` method's event class, made once (None: the library's)."""
    try:
        return _shortcuts[event_class]
    except KeyError:
        shortcut = _shortcuts[event_class] = _shortcut(
            event_class, event_method(event_class), CanMutateAggregate.mutate)
        return shortcut


def apply_stored(event: Any, aggregate: Any) -> Any:
    """`event.mutate(aggregate)` for an event read from the store (see the module's docstring):
    the library's checks, then the method called with the event's own fields. An event stored
    before one of its fields was added (that field then missing) goes to the library's, whose
    call leaves the method's default."""
    shortcut = _event_shortcut(type(event))
    state = event.__dict__
    if (shortcut is None or not isinstance(aggregate, LedgerAggregate)
            or not shortcut.names.issubset(state)):
        return event.mutate(aggregate)
    if event.originator_id != aggregate.id:
        raise OriginatorIDError(event.originator_id, aggregate.id)
    version = event.originator_version
    if version != aggregate._version + 1:
        raise OriginatorVersionError(version, aggregate._version + 1)
    shortcut.method(aggregate, **{name: state[name] for name in shortcut.order})
    aggregate._version = version
    aggregate._modified_on = event.timestamp
    return aggregate


# An event class's applier from its decoded fields (None: only `apply_stored` applies it).
FieldsApplier = Callable[[Any, dict[str, Any]], bool]
_appliers: dict[type, FieldsApplier | None] = {}


def fields_applier(event_class: type) -> FieldsApplier | None:
    """For a rebuild from decoded events (`projections.snapshot_check`): a function applying
    an event of `event_class`, given as its fields, to an aggregate made by an earlier event,
    as `apply_stored` does (the same checks, the method called with the same values, given by
    position), without making the event object. None where `apply_stored` would take the
    library's way; a call returns False, changing nothing, for fields that lack one (an event
    stored before the field was added), which `apply_stored` then applies."""
    try:
        return _appliers[event_class]
    except KeyError:
        pass
    shortcut = _event_shortcut(event_class)
    applier: FieldsApplier | None = None
    if shortcut is not None:
        parameters = list(inspect.signature(shortcut.method).parameters.values())[1:]
        if all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters):
            applier = _positional(shortcut.method, tuple(p.name for p in parameters))
    _appliers[event_class] = applier
    return applier


def _positional(method: Callable[..., None], order: tuple[str, ...]) -> FieldsApplier:
    values_of = operator.itemgetter(*order) if len(order) > 1 else (
        (lambda fields: (fields[order[0]],)) if order else (lambda fields: ()))

    def apply(aggregate: Any, fields: dict[str, Any]) -> bool:
        try:
            values = values_of(fields)
        except KeyError:
            return False
        if not isinstance(aggregate, LedgerAggregate):
            raise TypeError(f"{type(aggregate).__name__} is not a LedgerAggregate")
        if fields["originator_id"] != aggregate.id:
            raise OriginatorIDError(fields["originator_id"], aggregate.id)
        version = fields["originator_version"]
        if version != aggregate._version + 1:
            raise OriginatorVersionError(version, aggregate._version + 1)
        method(aggregate, *values)
        aggregate._version = version
        aggregate._modified_on = fields["timestamp"]
        return True

    return apply


class LedgerAggregate(Aggregate):
    """An `Aggregate` whose `@event` methods trigger their events without the library's
    per-event argument mapping (see the module's docstring)."""

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any) -> None:
        shortcut = _event_shortcut(event_class)
        values = None if shortcut is None else _fill(shortcut, kwargs)
        if shortcut is None or values is None:  # the library's, and its errors
            super().trigger_event(event_class, **kwargs)
            return
        timestamp = datetime.now(TZINFO)
        shortcut.method(self, **values)  # before anything changes, as the library does
        event = _new_event(event_class, values, originator_id=self.id,
                           originator_version=self.version + 1, timestamp=timestamp)
        self._version += 1
        self._modified_on = timestamp
        self._pending_events.append(event)

    @classmethod
    def _create(cls, event_class: type[CanInitAggregate[UUID]], *, id: UUID | None = None,  # noqa: A002
                **kwargs: Any) -> Any:
        key = (cls, event_class)
        try:
            creation = _creations[key]
        except KeyError:
            creation = _creations[key] = _Creation(
                _shortcut(event_class,
                          None if init_takes_id(cls) else cls.__init__,  # type: ignore[misc]
                          CanInitAggregate.mutate),
                create_id_parameters(cls))
        shortcut = creation.shortcut
        values = None if shortcut is None else _fill(shortcut, kwargs)
        if shortcut is None or values is None:
            return super()._create(event_class, id=id, **kwargs)
        if id is None:
            id = cls.create_id(**{k: kwargs[k] for k in creation.id_parameters  # noqa: A001
                                    if k in kwargs})
        if not isinstance(id, UUID):
            return super()._create(event_class, id=id, **kwargs)
        timestamp = datetime.now(TZINFO)
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(id, cls.INITIAL_VERSION, timestamp)
        shortcut.method(aggregate, **values)
        aggregate._pending_events.append(_new_event(
            event_class, values, originator_id=id, originator_version=cls.INITIAL_VERSION,
            timestamp=timestamp, originator_topic=get_topic(cls)))
        return aggregate
