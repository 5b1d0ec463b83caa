"""Ids: deterministic (uuid5) for aggregates that have a natural key, time-ordered random
(uuid7) otherwise."""

from __future__ import annotations

import os
import threading
import time
from functools import lru_cache
from uuid import UUID, uuid5

LINLI_NAMESPACE = UUID("6b1f5d1e-3c55-4c1a-9a51-6c696e6c6931")
DIRECTORY_ID = uuid5(LINLI_NAMESPACE, "directory")


class _TimeOrderedIds:
    """Time-ordered random UUIDs (version 7, RFC 9562): the Unix time in milliseconds, then 74
    random bits (of 80 drawn) from the OS's entropy, read 4 KiB at a time.

    A new aggregate's id is the first key of its stream in the event store's primary key (and
    of its rows in the views). Random (version 4) ids land on a random page of those indexes:
    after each checkpoint, every first touch of a page writes the whole page to the WAL. Ids
    that follow the clock land at the indexes' right edge, on a few pages: a group of 800 new
    streams wrote 0.77 KB of WAL a row against 2.4 KB, in two thirds of the time (PostgreSQL,
    a 1.5-million-row log). The id tells when its aggregate was made, as its events do.

    `uuid.uuid4` asks the OS for 16 bytes per id, and each call lets go of the GIL: the writer
    thread then waits for the other threads to hand it back (measured: most of its time in a
    busy server). Reading ahead keeps the ids as random, at one call per 409 ids. A forked
    child starts with a fresh pool, so processes never share ids.
    """

    READ_BYTES = 4090  # 409 ids' random parts

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._pool, self._at = b"", 0

    def __call__(self) -> UUID:
        with self._lock:
            if self._at >= len(self._pool):
                self._pool, self._at = os.urandom(self.READ_BYTES), 0
            random = int.from_bytes(self._pool[self._at:self._at + 10])
            self._at += 10
        return UUID(int=(time.time_ns() // 1_000_000) << 80 | _VERSION_7
                    | (random >> 62 & 0xFFF) << 64 | _RFC_VARIANT | random & _LOW_62)


_VERSION_7 = 7 << 76
_RFC_VARIANT = 2 << 62
_LOW_62 = (1 << 62) - 1

new_id = _TimeOrderedIds()


@lru_cache(maxsize=16_384)  # a redemption names two: a uuid5 costs ten times a look-up
def account_id(owner_id: UUID, asset: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"account:{owner_id}:{asset}")


@lru_cache(maxsize=16_384)  # a redemption names two: 0.12 µs, where a UUID's text is 0.55
def account_ref(account_id: UUID) -> str:
    """How a posting names another account as its counter account."""
    return f"account:{account_id}"


MEMBER_REF = "member:"


@lru_cache(maxsize=16_384)  # as `account_ref`: a UUID's text costs more than the look-up
def member_ref(member_id: UUID) -> str:
    """How a posting names the member on its other side: by id, never by name (the passbook
    view puts the name in from the registry)."""
    return f"{MEMBER_REF}{member_id}"


def imported_id(imported_from: str) -> UUID:
    """The id of what an import's row (or a household it names) becomes: the same on a retry."""
    return uuid5(LINLI_NAMESPACE, f"imported:{imported_from}")


def row_id(import_id: UUID, row: int) -> UUID:
    """The id of what row `row` of an import becomes: the import's own bits, the row number in
    the last 32 (a uuid5's version and variant kept), made without hashing each row."""
    base = uuid5(LINLI_NAMESPACE, f"import-rows:{import_id}").int
    return UUID(int=base & ~0xFFFF_FFFF | row)


def import_id(community_id: UUID, kind: str, digest: str) -> UUID:
    """An import's id: one per community, kind and file (its SHA-256)."""
    return uuid5(LINLI_NAMESPACE, f"import:{community_id}:{kind}:{digest}")


def import_lane_id(import_id: UUID, lane: int) -> UUID:
    """The record of lane `lane` (after the first) of an import."""
    return uuid5(LINLI_NAMESPACE, f"import-lane:{import_id}:{lane}")


def rule_id(community_id: UUID, code: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"rule:{community_id}:{code}")


def api_key_id(token_hash: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"api-key:{token_hash}")


@lru_cache(maxsize=1_024)  # asked twice a keyed request: by its spec, then by its record
def idempotency_record_id(principal_id: str, key: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"idempotency:{principal_id}:{key}")


def system_account(community_id: UUID, asset: str, purpose: str) -> str:
    """Name of a community's system account, e.g. `community:<id>:POINTS:issued`."""
    return f"community:{community_id}:{asset}:{purpose}"



def interchange_id(first: UUID, second: UUID) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"interchange:{first}:{second}")


def pool_id(community_id: UUID) -> UUID:
    """The owner id of a community's pool of donated minutes."""
    return uuid5(LINLI_NAMESPACE, f"pool:{community_id}")


def order_deposit_id(service_request_id: UUID) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"deposit:{service_request_id}")


def district_agreement_id(first: UUID, second: UUID) -> UUID:
    """The id of the agreement between two districts, whichever way round they are named."""
    low, high = sorted((str(first), str(second)))
    return uuid5(LINLI_NAMESPACE, f"district-agreement:{low}:{high}")


def district_settlement_id(district_id: UUID, period: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"district-settlement:{district_id}:{period}")


DISTRICT_REGISTER_ID = uuid5(LINLI_NAMESPACE, "district-register")
