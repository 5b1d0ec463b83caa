"""The events' JSON, written and read by orjson: the library's format, byte for byte.

The library's `JSONTranscoder` writes an event's state with the standard `json` module (compact,
not ASCII-escaped) and calls back into Python for each UUID and datetime, which it writes as
`{"_type_": name, "_data_": text}`. `OrjsonTranscoder` turns those values into the same two-key
objects itself and lets orjson write the rest, which it writes byte for byte as `json` does for
the types it is given here: str, int, bool, None, and lists, tuples and dicts of them (tests
compare the two over every character up to U+3000 and beyond, and the suite checks every event
it stores when `LINLI_CHECK_TRANSCODER` is set).
Anything else (a float, an int beyond 64 bits, a Decimal, a key that is not a str, a type of
its own) is left to the library, whose bytes then are the bytes.

Reading parses with orjson and turns each `{"_type_": name, "_data_": value}` back into its
value as the library's object hook does (inner objects first). What orjson parses otherwise
(a float, or an int beyond 64 bits, which it reads as a float) or not at all (NaN, a lone
surrogate) is parsed by the library.

It reads the library's `names` and `_decode_obj` (see `ledger.library_internals`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Transcoding, UUIDAsHex

from ledger.library_internals import transcoding_of

CHECK = os.environ.get("LINLI_CHECK_TRANSCODER", "") not in ("", "0")


class _Unsupported(Exception):
    """A value orjson would not write as the library does."""


_PLAIN = frozenset({str, int, bool, type(None)})


class OrjsonTranscoder(JSONTranscoder):
    """`JSONTranscoder`, writing its format (with its UUID, Decimal and datetime transcodings) by
    orjson."""

    def __init__(self) -> None:
        super().__init__()
        self._fast = False

    def register(self, transcoding: Transcoding) -> None:
        """As the library's; writing by orjson holds while UUIDs and datetimes keep the
        library's own transcodings, whose names and texts `_plain` writes."""
        super().register(transcoding)
        self._fast = (type(transcoding_of(self, UUID)) is UUIDAsHex
                      and type(transcoding_of(self, datetime)) is DatetimeAsISO)

    def encode(self, obj: Any) -> bytes:
        if not self._fast:
            return super().encode(obj)
        try:
            data = orjson.dumps(self._plain(obj))
        except (_Unsupported, orjson.JSONEncodeError):
            return super().encode(obj)
        if CHECK:
            assert data == super().encode(obj), (data, super().encode(obj))
        return data

    def decode(self, data: bytes) -> Any:
        if not self._fast:
            return super().decode(data)
        try:
            obj = orjson.loads(data)
            value = self._restored(obj) if type(obj) is dict else self._restored_in(obj)
        except (_Unsupported, orjson.JSONDecodeError):
            return super().decode(data)
        if CHECK:
            assert value == super().decode(data), (value, super().decode(data))
        return value

    def _restored(self, obj: dict[str, Any]) -> Any:
        """`obj` as the library's object hook leaves it, its values restored first. (Inlined
        for a value of a registered type given by a string, as UUIDs and datetimes are.)"""
        names = self.names
        for key, item in obj.items():
            kind = type(item)
            if kind in _PLAIN:
                continue
            if kind is dict:
                if (len(item) == 2 and type(text := item.get("_data_")) is str
                        and (transcoding := names.get(item.get("_type_"))) is not None):
                    obj[key] = transcoding.decode(text)
                else:
                    obj[key] = self._restored(item)
            elif kind is list and item:
                obj[key] = self._restored_in(item)
            elif kind is float:  # or an int beyond 64 bits, which orjson reads as one
                raise _Unsupported
        return self._decode_obj(obj) if len(obj) == 2 else obj

    def _restored_in(self, value: Any) -> Any:
        if type(value) is list:
            return [item if type(item) in _PLAIN else self._restored_in(item) for item in value]
        if type(value) is dict:
            return self._restored(value)
        if type(value) is float:
            raise _Unsupported
        return value

    def _plain(self, value: Any) -> Any:
        """`value` with each UUID and datetime as the library writes it; raises `_Unsupported`
        for anything orjson might write otherwise. (Inlined for the flat dictionaries events
        mostly are: this loop is most of the cost of writing an event.)"""
        kind = type(value)
        if kind is dict:
            out = {}
            for key, item in value.items():
                kind = type(item)
                if type(key) is not str:
                    raise _Unsupported
                if kind in _PLAIN:
                    out[key] = item
                elif kind is UUID:
                    out[key] = {"_type_": "uuid_hex", "_data_": item.hex}
                elif kind is datetime:  # orjson writes a UTC one as isoformat() does
                    out[key] = {"_type_": "datetime_iso",
                                "_data_": item if item.tzinfo is UTC else item.isoformat()}
                elif kind is list and not item:  # `[]`, as most events' lists of caps
                    out[key] = item
                else:
                    out[key] = self._plain(item)
            return out
        if kind is list or kind is tuple:
            return [item if type(item) in _PLAIN else self._plain(item) for item in value]
        if kind in _PLAIN:
            return value
        if kind is UUID:
            return {"_type_": "uuid_hex", "_data_": value.hex}
        if kind is datetime:
            return {"_type_": "datetime_iso",
                    "_data_": value if value.tzinfo is UTC else value.isoformat()}
        raise _Unsupported
