"""The audit log: checkpoints that chain every stream together in log order.

A `Sealed` checkpoint covers the log positions (previous_through, through_position]. Its
`log_hash` is SHA-256(b"linli/seal/v1" 0x00 | the previous checkpoint's log_hash (zeros for
the first) | for each event in the range, in position order: position (8 bytes, big-endian) |
the event's hash (32 bytes)). `missing` lists the positions in the range that hold no event
(ids used up by failed inserts), so a deleted event is named by its position, and an event
forged into one of those positions is found too. The checkpoint is itself an event, chained
like any other, and the next checkpoint covers it.

A checkpoint made with the keys is signed: `signature` is the signing key's Ed25519 signature
of (through_position, log_hash) (`ledger.keys.seal_message`), which vouches for every position
up to `through_position`. `fingerprints` holds the first two bytes of each covered event's hash
(hex, in position order), so that verify names the first position that differs from what was
sealed. The first signed checkpoint records `legacy_through`: the last position holding an
event stored before the keys, which loads accept without a MAC.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import Conflict

SEAL_DOMAIN = b"linli/seal/v1\x00"
AUDIT_LOG_ID = uuid5(ids.LINLI_NAMESPACE, "audit-log")
GENESIS_HEX = "00" * 32


def log_hash(previous_hex: str, entries: Iterable[tuple[int, bytes]]) -> str:
    """The hash of a checkpoint over (position, event hash) pairs in position order."""
    digest = hashlib.sha256(SEAL_DOMAIN)
    digest.update(bytes.fromhex(previous_hex))
    pack = struct.Struct(">q").pack
    for position, own in entries:
        digest.update(pack(position))
        digest.update(own)
    return digest.hexdigest()


class AlreadySealed(Conflict):
    slug = "already-sealed"
    title = "Another process sealed this part of the log first"


class AuditLog(LedgerAggregate):
    """The one stream of checkpoints (id `AUDIT_LOG_ID`)."""

    @staticmethod
    def create_id() -> UUID:
        return AUDIT_LOG_ID

    @event("Opened")
    def __init__(self, actor_id: str, actor_role: str) -> None:
        self.through_position = 0
        self.log_hash = GENESIS_HEX
        self.checkpoints = 0
        self.signature = ""
        self.legacy_through: int | None = None  # set by the first signed checkpoint

    @classmethod
    def open(cls, by: Actor) -> AuditLog:
        return cls(actor_id=by.id, actor_role=by.role_value)

    def seal(self, previous_through: int, through_position: int, events: int,
             missing: list[int], log_hash: str, by: Actor, signature: str = "",
             fingerprints: str = "", legacy_through: int | None = None) -> None:
        if previous_through != self.through_position:
            raise AlreadySealed("already-sealed", through=self.through_position,
                                previous=previous_through)
        assert through_position > previous_through
        if self.legacy_through is not None:
            legacy_through = None  # fixed by the first signed checkpoint
        self._sealed(previous_through=previous_through, through_position=through_position,
                     events=events, missing=missing, log_hash=log_hash, actor_id=by.id,
                     actor_role=by.role_value, signature=signature,
                     fingerprints=fingerprints, legacy_through=legacy_through)

    @event("Sealed")
    def _sealed(self, previous_through: int, through_position: int, events: int,
                missing: list[int], log_hash: str, actor_id: str, actor_role: str,
                signature: str = "", fingerprints: str = "",
                legacy_through: int | None = None) -> None:
        self.through_position = through_position
        self.log_hash = log_hash
        self.checkpoints += 1
        self.signature = signature
        if signature and getattr(self, "legacy_through", None) is None:
            self.legacy_through = legacy_through or 0


def fingerprints_of(hashes: Iterable[bytes]) -> str:
    """The first two bytes of each hash, in hex: a checkpoint's `fingerprints`."""
    return b"".join(h[:2] for h in hashes).hex()
