"""`OrjsonTranscoder` writes exactly what the library's `JSONTranscoder` writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from ledger import transcoder
from ledger.transcoder import OrjsonTranscoder


def _pair() -> tuple[OrjsonTranscoder, JSONTranscoder]:
    ours, library = OrjsonTranscoder(), JSONTranscoder()
    for each in (ours, library):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            each.register(transcoding)
    return ours, library


CHARACTERS = [chr(c) for c in [*range(0x3000), 0xFEFF, 0xFFFF, 0x1F600, 0x10FFFF]]
WHEN = datetime(2026, 3, 10, 4, 0, 1, 5, tzinfo=UTC)
STATES: list[Any] = [
    {"timestamp": WHEN, "id": uuid4(), "amount": -12, "none": None, "yes": True, "no": False},
    {"lots": [["a", 10, None], ["b", -2, "2026-06-30T16:00:00+00:00"]], "ids": [uuid4()],
     "nested": {"when": [WHEN.astimezone(timezone(timedelta(hours=8)))], "naive":
                datetime(2026, 1, 1)}, "tuple": (1, "二", None), "empty": [{}, [], ""]},
    {"big": 2**64 - 1, "small": -2**63},
    {"looks_like_a_value": {"_type_": "text", "data": 1}, "key with 中文": "值"},
]
FALLBACKS: list[Any] = [
    {"beyond_64_bits": 2**64}, {"float": 1e16}, {"nan": float("nan")},
    {"decimal": Decimal("1.10")}, {1: "int key"}, {"subclass": type("S", (str,), {})("x")},
]


@pytest.mark.parametrize("state", [*STATES, *FALLBACKS])
def test_the_same_bytes_as_the_library(state: Any) -> None:
    ours, library = _pair()
    assert ours.encode(state) == library.encode(state)


def test_every_character_is_written_as_the_library_writes_it() -> None:
    ours, library = _pair()
    for character in CHARACTERS:
        state = {f"k{character}": [character, f"a{character}b"]}
        assert ours.encode(state) == library.encode(state), hex(ord(character))


def test_what_neither_can_write_fails_as_in_the_library() -> None:
    ours, _ = _pair()
    with pytest.raises(TranscodingNotRegisteredError):
        ours.encode({"day": WHEN.date()})


def test_orjson_does_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, library = _pair()
    expected = library.encode(STATES[0])

    def refuse(*_: Any) -> Any:
        raise AssertionError("the library's json was used")

    monkeypatch.setattr(transcoder, "CHECK", False)
    monkeypatch.setattr(JSONTranscoder, "encode", refuse)
    assert ours.encode(STATES[0]) == expected


def test_other_transcodings_for_uuids_or_datetimes_are_left_to_the_library() -> None:
    class UUIDAsText(UUIDAsHex):
        name = "uuid_text"

        def encode(self, obj: Any) -> str:
            return str(obj)

    ours, library = _pair()
    for each in (ours, library):
        each.register(UUIDAsText())
    state = {"id": uuid4()}
    assert ours.encode(state) == library.encode(state)
    assert b"uuid_text" in ours.encode(state)


def test_datetimes_of_every_shape_are_written_as_the_library_writes_them() -> None:
    ours, library = _pair()
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30)),
             timezone(timedelta(seconds=5)), None]
    for _ in range(5_000):
        when = datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28),
                        rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                        rng.choice([0, rng.randint(0, 999_999)]), tzinfo=rng.choice(zones))
        state = {"timestamp": when, "nested": [when]}
        assert ours.encode(state) == library.encode(state), when


@pytest.mark.parametrize("state", [*STATES, *FALLBACKS[:-2],
                                   {"big": [2**64, -2**63 - 1]},
                                   [{"_type_": "uuid_hex", "_data_": uuid4().hex}, 1.5]])
def test_reads_what_the_library_reads(state: Any) -> None:
    ours, library = _pair()
    written = library.encode(state)
    read = ours.decode(written)
    assert read == library.decode(written)
    assert [type(v) for v in _leaves(read)] == [type(v) for v in _leaves(library.decode(written))]


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_every_character_is_read_as_the_library_reads_it() -> None:
    ours, library = _pair()
    for character in CHARACTERS:
        written = library.encode({f"k{character}": [character, f"a{character}b"]})
        assert ours.decode(written) == library.decode(written), hex(ord(character))


def test_a_lone_surrogate_is_read_as_the_library_reads_it() -> None:
    ours, library = _pair()
    written = b'{"lone": "\\ud800", "id": {"_type_": "uuid_hex", "_data_": "%s"}}' % (
        uuid4().hex.encode())
    assert ours.decode(written) == library.decode(written)
    assert ours.decode(written)["lone"] == "\ud800"


def test_a_value_of_an_unknown_type_fails_as_in_the_library() -> None:
    ours, _ = _pair()
    with pytest.raises(TranscodingNotRegisteredError):
        ours.decode(b'{"when": {"_type_": "date_iso", "_data_": "2026-03-10"}}')


def test_orjson_does_the_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, library = _pair()
    written = library.encode(STATES[1])
    expected = library.decode(written)

    def refuse(*_: Any) -> Any:
        raise AssertionError("the library's json was used")

    monkeypatch.setattr(transcoder, "CHECK", False)
    monkeypatch.setattr(JSONTranscoder, "decode", refuse)
    assert ours.decode(written) == expected


def test_verifys_flat_decoder_reads_what_the_library_reads() -> None:
    """`FlatDecoder` (verify's rebuild) takes its shortcut for an event shaped as the first of
    its topic, and otherwise leaves the event to the transcoder: the same values either way."""
    from projections.snapshot_check import FlatDecoder

    ours, library = _pair()
    decoder = FlatDecoder(ours)
    first = {"timestamp": WHEN, "id": uuid4(), "amount": 1, "lots": [["a", 1, None]], "n": None}
    shapes: list[Any] = [
        first,
        {**first, "id": uuid4(), "note": "{not an object}"},  # a brace within a string
        {**first, "id": None},  # no longer typed
        {**first, "id": {"_type_": "uuid_hex", "_data_": "z" * 32}},  # not hex: refused
        {**first, "other": uuid4()},  # typed at another key
        {**first, "looks": {"_type_": "uuid_hex", "_data_": uuid4().hex, "x": 1}},
        {**first, "timestamp": WHEN.astimezone(timezone(timedelta(hours=8)))},
        *STATES,
    ]
    for state in shapes:
        written = library.encode(state)
        try:
            expected = library.decode(written)
        except ValueError:
            with pytest.raises(ValueError):
                decoder.decode("topic", written)
            continue
        read = decoder.decode("topic", written)
        assert read == expected, state
        assert [type(v) for v in _leaves(read)] == [type(v) for v in _leaves(expected)]
    assert decoder._typed["topic"] == ("timestamp", "id")
