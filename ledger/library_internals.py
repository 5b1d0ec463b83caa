"""Every use Linli makes of names the `eventsourcing` library keeps to itself.

The library is pinned (`PINNED_VERSION`); `tests/unit/test_library_internals.py` fails, naming
that version, as soon as an installed release lacks one of these names or gives it another
meaning. The functions below are called once per class (their answers are cached by the
callers) or once per application.

Some private names run once per event or command, so the write path and the replay read them
as plain attributes rather than through a function here. The same test checks each of them:
- an aggregate's `_version`, `_modified_on` and `_pending_events` (the attributes behind
  `version`, `modified_on` and `pending_events`): set by `ledger.domain.base` when it
  triggers, creates and replays events, and read by the writer to count an aggregate's new
  events and to know the version it read;
- `BaseAggregate.__base_init__(id, version, timestamp)`: called by `ledger.domain.base` to
  start an aggregate it creates;
- `BaseAggregate._create`: overridden by `LedgerAggregate`, since the library's metaclass
  creates every aggregate through it, and called by `Redemption.make`;
- `JSONTranscoder.names` (transcodings by name) and `JSONTranscoder._decode_obj` (the object
  hook): used by `ledger.transcoder` for each event it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from eventsourcing.application import Repository
from eventsourcing.persistence import JSONTranscoder, Transcoding

PINNED_VERSION = "9.5.6"

try:
    from eventsourcing.domain import (
        _annotations_mention_id,
        _create_id_param_names,
        _init_mentions_id,
        decorated_funcs,
    )
except ImportError as error:
    raise ImportError(
        f"eventsourcing {version('eventsourcing')} lacks a private name Linli uses "
        f"(Linli is pinned to {PINNED_VERSION}; see ledger/library_internals.py): {error}"
    ) from error


def event_method(event_class: type) -> Callable[..., None] | None:
    """The undecorated method an `@event` decorator made `event_class` apply, or None for an
    event class no decorator made."""
    return decorated_funcs.get(event_class)


def init_takes_id(aggregate_class: type) -> bool:
    """Whether the library hands the aggregate's id to `aggregate_class` when it creates one
    (`__init__` has an `id` parameter, or the class annotates `id`)."""
    return aggregate_class in _init_mentions_id or aggregate_class in _annotations_mention_id


def create_id_parameters(aggregate_class: type) -> tuple[str, ...]:
    """The parameters of `aggregate_class.create_id` that the library fills from the
    arguments of a creation."""
    return tuple(_create_id_param_names.get(aggregate_class, ()))


def transcoding_of(transcoder: JSONTranscoder, cls: type) -> Transcoding | None:
    """The transcoding `transcoder` writes values of `cls` with (None: none registered)."""
    return transcoder.types.get(cls)


def change_repository_class(repository: Repository[Any], subclass: type[Repository[Any]]) -> None:
    """Make `repository`, as the library built it from its settings, an instance of
    `subclass`: a subclass of the library's `Repository` that overrides methods only."""
    if type(repository) is not Repository or not issubclass(subclass, Repository):
        raise TypeError(f"cannot make a {type(repository).__name__} a {subclass.__name__}")
    if "__init__" in vars(subclass) or "__slots__" in vars(subclass):
        raise TypeError(f"{subclass.__name__} must not change the repository's state")
    repository.__class__ = subclass
