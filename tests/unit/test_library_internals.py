"""The `eventsourcing` private names Linli uses (`ledger.library_internals`) still exist and
still mean what Linli takes them to mean. A failure names the pinned and the installed
versions: update `ledger/library_internals.py`, and the code its docstring names, before
moving the pin."""

from __future__ import annotations

import inspect
import tomllib
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application, Repository
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex

INSTALLED = version("eventsourcing")
PROJECT = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
PIN = next(requirement.split("==")[1] for requirement in PROJECT["project"]["dependencies"]
           if requirement.startswith("eventsourcing"))


def changed(what: str) -> str:
    """A failure's message: what no longer holds, in which release."""
    return (f"eventsourcing {INSTALLED} is installed and Linli is pinned to {PIN}: {what}. "
            "Linli relies on this private part of the library (ledger/library_internals.py).")


try:
    from ledger import library_internals as internals
except ImportError as error:  # a name gone from the library
    pytest.fail(changed(f"ledger.library_internals cannot import it: {error}"), pytrace=False)


class Counter(Aggregate):
    """An aggregate whose id comes from `create_id`'s `name`, with one `@event` method."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return UUID(int=len(name))

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Counted")
    def count_up(self, by: int) -> None:
        self.count += by


class GivenId(Aggregate):
    """An aggregate whose `__init__` takes its id."""

    @event("Started")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        self.given = id


class AnnotatedId(Aggregate):
    """An aggregate that annotates its `id`, so the library makes it a dataclass."""

    id: UUID
    name: str


create_calls: list[dict[str, Any]] = []


class Recorded(Aggregate):
    """An aggregate whose `_create` records how the library called it."""

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        create_calls.append({"event_class": event_class, "id": id, **kwargs})
        return super()._create(event_class, id=id, **kwargs)


def test_the_seam_names_the_projects_pin() -> None:
    assert internals.PINNED_VERSION == PIN, (
        f"ledger/library_internals.py names eventsourcing {internals.PINNED_VERSION}, "
        f"pyproject.toml pins {PIN}: check the seam against the pinned release")


def test_an_event_method_is_the_undecorated_method_its_event_applies() -> None:
    method = internals.event_method(Counter.Counted)  # type: ignore[attr-defined]
    assert method is not None and method.__name__ == "count_up", changed(
        "`decorated_funcs` no longer maps an @event method's event class to the method")
    counter = Counter(name="abc")
    method(counter, by=3)
    assert counter.count == 3, changed(
        "the method `decorated_funcs` gives is not the undecorated one")
    assert [*inspect.signature(method).parameters] == ["self", "by"], changed(
        "the method `decorated_funcs` gives has other parameters")
    assert internals.event_method(Counter) is None, changed(
        "`decorated_funcs` answers for a class that is not an @event method's event")


def test_init_takes_id_knows_which_classes_get_their_id() -> None:
    assert internals.init_takes_id(GivenId), changed(
        "`_init_mentions_id` no longer holds a class whose __init__ takes `id`")
    assert internals.init_takes_id(AnnotatedId), changed(
        "`_annotations_mention_id` no longer holds a class that annotates `id`")
    assert not internals.init_takes_id(Counter), changed(
        "`_init_mentions_id` or `_annotations_mention_id` holds a class that takes no id")
    given = uuid4()
    assert GivenId(id=given).given == given


def test_create_id_parameters_are_those_the_library_fills() -> None:
    assert internals.create_id_parameters(Counter) == ("name",), changed(
        "`_create_id_param_names` no longer lists the parameters of `create_id`")
    assert Counter(name="abcd").id == UUID(int=4)
    assert internals.create_id_parameters(GivenId) == (), changed(
        "`_create_id_param_names` lists parameters for the default `create_id`")


def test_transcoding_of_is_the_registered_transcoding() -> None:
    transcoder = JSONTranscoder()
    uuids, datetimes = UUIDAsHex(), DatetimeAsISO()
    transcoder.register(uuids)
    transcoder.register(datetimes)
    assert internals.transcoding_of(transcoder, UUID) is uuids, changed(
        "`JSONTranscoder.types` no longer maps a type to its transcoding")
    assert internals.transcoding_of(transcoder, datetime) is datetimes
    assert internals.transcoding_of(transcoder, complex) is None


def test_a_transcoders_names_and_object_hook_read_what_it_wrote() -> None:
    """`ledger.transcoder` reads `names` and calls `_decode_obj` for each event it reads."""
    transcoder = JSONTranscoder()
    uuids = UUIDAsHex()
    transcoder.register(uuids)
    transcoder.register(DatetimeAsISO())
    assert transcoder.names.get("uuid_hex") is uuids, changed(
        "`JSONTranscoder.names` no longer maps a transcoding's name to it")
    value = uuid4()
    assert transcoder._decode_obj({"_type_": "uuid_hex", "_data_": value.hex}) == value, changed(
        "`JSONTranscoder._decode_obj` no longer turns {_type_, _data_} into its value")
    plain = {"_type_": "x", "other": 1}
    assert transcoder._decode_obj(plain) == plain, changed(
        "`JSONTranscoder._decode_obj` changes an object that is not a transcoded value")


def test_the_repository_can_become_a_subclass_that_overrides_methods() -> None:
    app: Application[UUID] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert type(app.repository) is Repository, changed(
        "`Application.construct_repository` no longer builds a plain `Repository`")

    class Loud(Repository[UUID]):
        def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:
            return ("loud", super().get(aggregate_id, **kwargs))

    counter = Counter(name="a")
    app.save(counter)
    internals.change_repository_class(app.repository, Loud)
    assert app.repository.get(counter.id)[0] == "loud"
    assert app.repository.get(counter.id)[1].name == "a", changed(
        "a `Repository` whose class is changed no longer works with the state it was built with")
    assert "projector_func" in inspect.signature(Repository.get).parameters, changed(
        "`Repository.get` no longer takes `projector_func` (ReplayingRepository passes `replay`)")
    with pytest.raises(TypeError):
        internals.change_repository_class(app.repository, Loud)  # no longer a plain one


def test_an_aggregates_private_attributes_are_behind_its_properties() -> None:
    """The write path and the replay set and read these directly."""
    counter = Counter(name="a")
    counter.count_up(by=2)
    state = vars(counter)
    for name in ("_id", "_version", "_created_on", "_modified_on", "_pending_events"):
        assert name in state, changed(f"an aggregate no longer keeps `{name}` in its __dict__")
    assert counter._version == counter.version == 2, changed("`version` is not `_version`")
    assert counter._modified_on == counter.modified_on, changed(
        "`modified_on` is not `_modified_on`")
    assert counter._pending_events is counter.pending_events, changed(
        "`pending_events` is not `_pending_events`")
    counter._version = 7
    assert counter.version == 7, changed("setting `_version` does not set the version")
    events = counter.collect_events()
    assert [type(e).__name__ for e in events] == ["Started", "Counted"]
    assert counter._pending_events == [], changed(
        "`collect_events` no longer takes the events from `_pending_events`")


def test_base_init_starts_an_aggregate() -> None:
    """`LedgerAggregate._create` starts the aggregates it creates with `__base_init__`."""
    given, now = uuid4(), datetime.now(UTC)
    counter = Counter.__new__(Counter)
    counter.__base_init__(given, 1, now)
    assert (counter.id, counter.version, counter.created_on, counter.modified_on,
            counter.pending_events) == (given, 1, now, now, []), changed(
        "`__base_init__(id, version, timestamp)` no longer starts an aggregate")


def test_every_aggregate_is_created_through_create() -> None:
    """`LedgerAggregate` overrides `_create`; `Redemption.make` calls it."""
    parameters = inspect.signature(Aggregate._create).parameters
    assert [*parameters] == ["event_class", "id", "kwargs"], changed(
        f"`Aggregate._create` takes other parameters: {[*parameters]}")
    assert parameters["id"].kind is inspect.Parameter.KEYWORD_ONLY
    create_calls.clear()
    made = Recorded(name="n")
    expected = {"event_class": Recorded.Started, "id": None,  # type: ignore[attr-defined]
                "name": "n"}
    assert create_calls == [expected], changed(
        "creating an aggregate no longer goes through its class's `_create`")
    assert made.name == "n"
