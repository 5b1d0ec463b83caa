"""Recompute the hash chains and the checkpoints from the stored rows (part of `verify`), and
check what a key vouches for: each event's MAC (with the MAC key), each checkpoint's signature
(with the public key), and the checkpoints an auditor witnessed (`Witnessed`)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.chain import (
    GENESIS,
    HEADER_BYTES,
    MAC_HEADER_BYTES,
    MAC_MAGIC,
    MAGIC,
    event_hash,
    event_mac,
)
from ledger.domain.audit import GENESIS_HEX, log_hash
from ledger.keys import seal_signature_ok
from ledger.sealer import SEALED


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


class ChainChecker:
    """Fed every stored event in log order; reports each break of a chain, a MAC or a
    checkpoint. `mac_key` and `public_key` check what only the keys can vouch for; `witnessed`
    are checkpoints the log must still hold, unchanged. `after` (a witnessed checkpoint:
    `--since-witness`) starts past it, believing what it vouches for."""

    def __init__(self, report: Callable[[Problem], None], decode: Callable[[Any], Any],
                 mac_key: bytes | None = None, public_key: Ed25519PublicKey | None = None,
                 witnessed: list[Witnessed] = (),  # type: ignore[assignment]
                 after: Witnessed | None = None) -> None:
        self.report = report
        self.decode = decode
        self.mac_key = mac_key
        self.public_key = public_key
        self.witnessed = {w.position: w for w in witnessed}
        self.heads: dict[UUID, tuple[int, bytes]] = {}
        self.pending: list[tuple[int, bytes, UUID, int]] = []  # not yet sealed
        self.sealed_through = 0
        self.sealed_hash = GENESIS_HEX
        self.checkpoints = 0
        self.signed = False  # a signed checkpoint was met
        self.first_mac: int | None = None  # position of the first event with a MAC
        self.unvouched: list[tuple[int, UUID, int]] = []  # without a MAC, no signed seal yet
        self.unlinked: list[tuple[int, UUID, int, bytes]] = []  # links into history
        self.start = after
        if after is not None:
            self.sealed_through, self.sealed_hash = after.position, after.hash
            self.signed = True

    def check(self, notification: Any) -> None:
        stream = notification.originator_id
        if not isinstance(stream, UUID):
            stream = UUID(str(stream))
        version = notification.originator_version
        state = notification.state
        magic = state[:4]
        if magic == MAC_MAGIC and len(state) >= MAC_HEADER_BYTES:
            prev_hash, stored_hash = state[4:36], state[36:68]
            payload = state[MAC_HEADER_BYTES:]
            if self.first_mac is None:
                self.first_mac = notification.id
        elif magic == MAGIC and len(state) >= HEADER_BYTES:
            prev_hash, stored_hash = state[4:36], state[36:68]
            payload = state[HEADER_BYTES:]
        else:
            prev_hash = stored_hash = None
            self._problem(notification, "has no chain header: stored without a hash, or its "
                          "header was altered")
        if stored_hash is not None:
            if event_hash(stream, version, notification.topic, prev_hash, payload) != (
                    stored_hash):
                self._problem(notification, "its hash does not match its content: the state, "
                              "topic, stream or version was edited")
            elif magic == MAC_MAGIC:
                if self.mac_key is not None and not hmac.compare_digest(
                        event_mac(self.mac_key, stored_hash), state[68:100]):
                    self._problem(notification, "its MAC does not match: written or rewritten "
                                  "by someone without the MAC key")
            elif self.first_mac is not None:
                self._problem(notification, "has no MAC, though events before it have one: "
                              "written outside Linli")
            else:
                self.unvouched.append((notification.id, stream, version))
        self.pending.append((notification.id, stored_hash or GENESIS, stream, version))
        known = self.heads.get(stream)
        last_version, last_hash = known if known is not None else (0, GENESIS)
        if known is None and self.start is not None and version > 1:
            if prev_hash is not None:  # its link into the witnessed history, checked at the end
                self.unlinked.append((notification.id, stream, version, prev_hash))
        elif version != last_version + 1:
            if last_version == 0:
                self._problem(notification, f"the stream starts at version {version}: "
                              "earlier events are missing")
            else:
                self._problem(notification, f"follows version {last_version} of its stream: "
                              "events are missing or out of order")
        elif prev_hash is not None and prev_hash != last_hash:
            self._problem(notification, f"prev_hash does not match the hash of version "
                          f"{last_version}: the previous event was edited or replaced")
        self.heads[stream] = (version, stored_hash or GENESIS)
        if notification.topic == SEALED and stored_hash is not None:
            self._checkpoint(notification)

    def _problem(self, notification: Any, what: str) -> None:
        self.report(Problem(what, notification.id, str(notification.originator_id),
                            notification.originator_version))

    def _checkpoint(self, notification: Any) -> None:
        try:
            sealed = self.decode(notification)
        except Exception as error:
            self.report(Problem(f"checkpoint cannot be read: {error}", notification.id,
                                str(notification.originator_id),
                                notification.originator_version))
            return
        after, through = sealed.previous_through, sealed.through_position
        where = f"checkpoint at position {notification.id}"
        if self.start is not None and through <= self.start.position:
            if through == self.start.position and sealed.log_hash != self.start.hash:
                self.report(Problem(f"{where} differs from the witnessed checkpoint through "
                                    f"{through}: the log was rewritten", notification.id))
            return  # before what --since-witness checks
        self.checkpoints += 1
        if after != self.sealed_through:
            self.report(Problem(f"{where} starts after {after}, the one before ended at "
                                f"{self.sealed_through}", notification.id))
        covered = [e for e in self.pending if after < e[0] <= through]
        self.pending = [e for e in self.pending if e[0] > through]
        found = {e[0] for e in covered}
        recorded_missing = set(sealed.missing)
        for position in range(after + 1, through + 1):
            if position not in found and position not in recorded_missing:
                self.report(Problem(f"was deleted: {where} sealed an event here",
                                    position, None, None))
        for position, _, stream, version in covered:
            if position in recorded_missing:
                self.report(Problem(f"was inserted: {where} sealed no event here",
                                    position, str(stream), version))
        actual = log_hash(self.sealed_hash, [(p, h) for p, h, _, _ in covered])
        if actual != sealed.log_hash and len(covered) == sealed.events and not (
                recorded_missing & found):
            self.report(self._first_difference(covered, sealed, where, after, through,
                                               notification.id))
        self._signature(sealed, where, notification.id)
        witnessed = self.witnessed.pop(through, None)
        if witnessed is not None and witnessed.hash != actual:
            self.report(Problem(f"{where} differs from the checkpoint witnessed through "
                                f"{through}: the log up to it was rewritten", notification.id))
        self.sealed_through, self.sealed_hash = through, sealed.log_hash

    def _first_difference(self, covered: list[tuple[int, bytes, UUID, int]], sealed: Any,
                          where: str, after: int, through: int, position: int) -> Problem:
        """The first covered event whose hash differs from the checkpoint's fingerprint of
        it; the checkpoint itself when it has none."""
        prints = bytes.fromhex(getattr(sealed, "fingerprints", "") or "")
        if len(prints) == 2 * len(covered):
            for index, (at, own, stream, version) in enumerate(covered):
                if own[:2] != prints[2 * index:2 * index + 2]:
                    return Problem(f"differs from what {where} sealed here (rewritten, "
                                   "reordered or replaced)", at, str(stream), version)
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
                                "outside Linli", position, str(stream), version))
        if self.unlinked:
            hashes = stored_hash([(s, v - 1) for _, s, v, _ in self.unlinked])
            for position, stream, version, prev_hash in self.unlinked:
                if hashes.get((stream, version - 1)) != prev_hash:
                    self.report(Problem(f"prev_hash does not match the hash of version "
                                        f"{version - 1}: the previous event was edited or "
                                        "replaced", position, str(stream), version))
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
