"""Recompute the hash chains and the checkpoints from the stored rows (part of `verify`), and
check what a key vouches for: each event's MAC (with the MAC key), each checkpoint's signature
(with the public key), and the checkpoints an auditor witnessed (`Witnessed`)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import StoredEvent

from ledger.chain import (
    DOMAIN,
    GENESIS,
    HEADER_BYTES,
    MAC_HEADER_BYTES,
    MAC_MAGIC,
    MAGIC,
    Hmac,
)
from ledger.domain.audit import GENESIS_HEX, log_hash
from ledger.keys import seal_signature_ok
from ledger.sealer import SEALED

_EVENT_DIGEST = hashlib.sha256(DOMAIN)  # `ledger.chain.event_hash`, inlined: once an event
_PACK_VERSION = struct.Struct(">q").pack
_PACK_LENGTH = struct.Struct(">I").pack


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: the event's position and stream when it is about one."""

    problem: str
    position: int | None = None
    stream_id: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        if self.position is None:
            return self.problem
        if self.stream_id is None:
            return f"position {self.position}: {self.problem}"
        return (f"event at position {self.position} (stream {self.stream_id}, "
                f"version {self.version}): {self.problem}")


@dataclass(frozen=True)
class Witnessed:
    """A signed checkpoint an auditor wrote down (`linli audit witness`)."""

    position: int
    hash: str
    signature: str


# A stored event as verify reads it: (position, stream id as 16 bytes, version, topic, state).
Row = tuple[int, bytes, int, str, bytes]


def stream_text(stream: bytes) -> str:
    return str(UUID(bytes=stream))


class ChainChecker:
    """Fed every stored event in log order; reports each break of a chain, a MAC or a
    checkpoint. `mac_key` and `public_key` check what only the keys can vouch for; `witnessed`
    are checkpoints the log must still hold, unchanged. `after` (a witnessed checkpoint:
    `--since-witness`) starts past it, believing what it vouches for."""

    def __init__(self, report: Callable[[Problem], None], decode: Callable[[Any], Any],
                 mac_key: bytes | None = None, public_key: Ed25519PublicKey | None = None,
                 witnessed: Sequence[Witnessed] = (), after: Witnessed | None = None) -> None:
        self.report = report
        self.decode = decode
        self.mac = None if mac_key is None else Hmac(mac_key)
        self.public_key = public_key
        self.witnessed = {w.position: w for w in witnessed}
        self.heads: dict[bytes, tuple[int, bytes]] = {}
        self._topics: dict[str, bytes] = {}  # topic -> its length and UTF-8, as hashed
        self.pending: list[tuple[int, bytes, bytes, int]] = []  # not yet sealed
        self.sealed_through = 0
        self.sealed_hash = GENESIS_HEX
        self.checkpoints = 0
        self.signed = False  # a signed checkpoint was met
        self.first_mac: int | None = None  # position of the first event with a MAC
        self.unvouched: list[tuple[int, bytes, int]] = []  # without a MAC, no signed seal yet
        self.unlinked: list[tuple[int, bytes, int, bytes]] = []  # links into history
        self.start = after
        if after is not None:
            self.sealed_through, self.sealed_hash = after.position, after.hash
            self.signed = True

    def check(self, row: Row) -> None:
        """Check one stored event (in log order)."""
        position, stream, version, topic, state = row
        magic = state[:4]
        mac = self.mac
        prev_hash: bytes | None
        stored_hash: bytes | None
        if magic == MAC_MAGIC and len(state) >= MAC_HEADER_BYTES:
            prev_hash, stored_hash = state[4:36], state[36:68]
            payload = memoryview(state)[MAC_HEADER_BYTES:]
            if self.first_mac is None:
                self.first_mac = position
        elif magic == MAGIC and len(state) >= HEADER_BYTES:
            prev_hash, stored_hash = state[4:36], state[36:68]
            payload = memoryview(state)[HEADER_BYTES:]
        else:
            prev_hash = stored_hash = None
            self._problem(row, "has no chain header: stored without a hash, or its header was "
                          "altered")
        if stored_hash is not None:
            topic_bytes = self._topics.get(topic)
            if topic_bytes is None:
                topic_bytes = self._topics[topic] = _PACK_LENGTH(len(topic.encode())) + (
                    topic.encode())
            digest = _EVENT_DIGEST.copy()
            digest.update(stream + _PACK_VERSION(version) + topic_bytes + prev_hash)  # type: ignore[operator]
            digest.update(payload)
            if digest.digest() != stored_hash:
                self._problem(row, "its hash does not match its content: the state, topic, "
                              "stream or version was edited")
            elif magic == MAC_MAGIC:
                if mac is not None and mac.digest(stored_hash) != state[68:100]:
                    self._problem(row, "its MAC does not match: written or rewritten by "
                                  "someone without the MAC key")
            elif self.first_mac is not None:
                self._problem(row, "has no MAC, though events before it have one: written "
                              "outside Linli")
            else:
                self.unvouched.append((position, stream, version))
        own = stored_hash or GENESIS
        self.pending.append((position, own, stream, version))
        known = self.heads.get(stream)
        self.heads[stream] = (version, own)
        if known is None:
            if version != 1:
                if self.start is not None:
                    if prev_hash is not None:  # its link into the witnessed history
                        self.unlinked.append((position, stream, version, prev_hash))
                else:
                    self._problem(row, f"the stream starts at version {version}: earlier "
                                  "events are missing")
            elif prev_hash is not None and prev_hash != GENESIS:
                self._problem(row, "prev_hash does not match the hash of version 0: the "
                              "previous event was edited or replaced")
        elif version != known[0] + 1:
            self._problem(row, f"follows version {known[0]} of its stream: events are "
                          "missing or out of order")
        elif prev_hash is not None and prev_hash != known[1]:
            self._problem(row, f"prev_hash does not match the hash of version {known[0]}: "
                          "the previous event was edited or replaced")
        if topic == SEALED and stored_hash is not None:
            self._checkpoint(row)

    def detached(self) -> ChainChecker:
        """This checker as `finish` needs it, without its callables, keys and streams' heads:
        what may cross to another process (`attach` gives them back)."""
        self.report = self.decode = None  # type: ignore[assignment]
        self.mac = self.public_key = None
        self.heads = {}
        return self

    def attach(self, report: Callable[[Problem], None], public_key: Ed25519PublicKey | None
               ) -> None:
        self.report, self.public_key = report, public_key

    def _problem(self, row: Row, what: str) -> None:
        self.report(Problem(what, row[0], stream_text(row[1]), row[2]))

    def _checkpoint(self, row: Row) -> None:
        position, stream, version, topic, state = row
        try:
            sealed = self.decode(StoredEvent(UUID(bytes=stream), version, topic, state))
        except Exception as error:
            self._problem(row, f"checkpoint cannot be read: {error}")
            return
        after, through = sealed.previous_through, sealed.through_position
        where = f"checkpoint at position {position}"
        if self.start is not None and through <= self.start.position:
            if through == self.start.position and sealed.log_hash != self.start.hash:
                self.report(Problem(f"{where} differs from the witnessed checkpoint through "
                                    f"{through}: the log was rewritten", position))
            return  # before what --since-witness checks
        self.checkpoints += 1
        if after != self.sealed_through:
            self.report(Problem(f"{where} starts after {after}, the one before ended at "
                                f"{self.sealed_through}", position))
        covered = [e for e in self.pending if after < e[0] <= through]
        self.pending = [e for e in self.pending if e[0] > through]
        found = {e[0] for e in covered}
        recorded_missing = set(sealed.missing)
        for missing in range(after + 1, through + 1):
            if missing not in found and missing not in recorded_missing:
                self.report(Problem(f"was deleted: {where} sealed an event here",
                                    missing, None, None))
        for at, _, at_stream, at_version in covered:
            if at in recorded_missing:
                self.report(Problem(f"was inserted: {where} sealed no event here",
                                    at, stream_text(at_stream), at_version))
        actual = log_hash(self.sealed_hash, [(p, h) for p, h, _, _ in covered])
        if actual != sealed.log_hash and len(covered) == sealed.events and not (
                recorded_missing & found):
            self.report(self._first_difference(covered, sealed, where, after, through,
                                               position))
        self._signature(sealed, where, position)
        witnessed = self.witnessed.pop(through, None)
        if witnessed is not None and witnessed.hash != actual:
            self.report(Problem(f"{where} differs from the checkpoint witnessed through "
                                f"{through}: the log up to it was rewritten", position))
        self.sealed_through, self.sealed_hash = through, sealed.log_hash

    @staticmethod
    def _first_difference(covered: list[tuple[int, bytes, bytes, int]], sealed: Any,
                          where: str, after: int, through: int, position: int) -> Problem:
        """The first covered event whose hash differs from the checkpoint's fingerprint of
        it; the checkpoint itself when it has none."""
        prints = bytes.fromhex(getattr(sealed, "fingerprints", "") or "")
        if len(prints) == 2 * len(covered):
            for index, (at, own, stream, version) in enumerate(covered):
                if own[:2] != prints[2 * index:2 * index + 2]:
                    return Problem(f"differs from what {where} sealed here (rewritten, "
                                   "reordered or replaced)", at, stream_text(stream), version)
        return Problem(f"{where}: the events of positions {after + 1}–{through} differ from "
                       "what was sealed (rewritten or reordered)", position)

    def _signature(self, sealed: Any, where: str, position: int) -> None:
        signature = getattr(sealed, "signature", "") or ""
        if not signature:
            if self.signed:
                self.report(Problem(f"{where} is not signed, though one before it is: "
                                    "written outside Linli", position))
            return
        self.signed = True
        if self.public_key is not None and not seal_signature_ok(
                self.public_key, sealed.through_position, sealed.log_hash, signature):
            self.report(Problem(f"{where}: its signature does not match the public key: "
                                "forged or rewritten", position))
            return
        self.unvouched = [e for e in self.unvouched if e[0] > sealed.through_position]

    def finish(self, stored_hash: Callable[[list[tuple[UUID, int]]], dict[Any, bytes]]
               ) -> None:
        """Report what only the whole pass tells: events without a MAC that no signed
        checkpoint vouches for, witnessed checkpoints the log no longer holds, and (after a
        witness) links into the history before it (`stored_hash`: the stored hashes of
        (stream, version) pairs)."""
        for position, stream, version in self.unvouched:
            self.report(Problem("has no MAC and no signed checkpoint vouches for it: written "
                                "outside Linli", position, stream_text(stream), version))
        if self.unlinked:
            hashes = stored_hash([(UUID(bytes=s), v - 1) for _, s, v, _ in self.unlinked])
            for position, stream, version, prev_hash in self.unlinked:
                if hashes.get((UUID(bytes=stream), version - 1)) != prev_hash:
                    self.report(Problem(f"prev_hash does not match the hash of version "
                                        f"{version - 1}: the previous event was edited or "
                                        "replaced", position, stream_text(stream), version))
        present = {e[0] for e in self.pending}
        for through in sorted(self.witnessed):
            if through <= self.sealed_through:
                self.report(Problem(f"no checkpoint ends at the witnessed position {through}: "
                                    "the checkpoints were rewritten", through))
                continue
            first_absent = next((p for p in range(self.sealed_through + 1, through + 1)
                                 if p not in present), through)
            self.report(Problem(f"the log was cut: a checkpoint through {through} was "
                                "witnessed, the log no longer holds it", first_absent))
            break

    @property
    def unsealed(self) -> int:
        return len(self.pending)
