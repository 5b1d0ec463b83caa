"""Recompute the hash chains and the checkpoints from the stored rows (part of `verify`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.chain import GENESIS, HEADER_BYTES, MAGIC, event_hash
from ledger.domain.audit import GENESIS_HEX, log_hash
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


class ChainChecker:
    """Fed every stored event in log order; reports each break of a chain or a checkpoint."""

    def __init__(self, report: Callable[[Problem], None],
                 decode: Callable[[Any], Any]) -> None:
        self.report = report
        self.decode = decode
        self.heads: dict[UUID, tuple[int, bytes]] = {}
        self.pending: list[tuple[int, bytes, UUID, int]] = []  # not yet sealed
        self.sealed_through = 0
        self.sealed_hash = GENESIS_HEX
        self.checkpoints = 0

    def check(self, notification: Any) -> None:
        stream = notification.originator_id
        if not isinstance(stream, UUID):
            stream = UUID(str(stream))
        version = notification.originator_version
        state = notification.state
        if state[:4] == MAGIC and len(state) >= HEADER_BYTES:
            prev_hash, stored_hash = state[4:36], state[36:68]
            if event_hash(stream, version, notification.topic, prev_hash,
                          state[HEADER_BYTES:]) != stored_hash:
                self._problem(notification, "its hash does not match its content: the state, "
                              "topic, stream or version was edited")
        else:
            prev_hash = stored_hash = None
            self._problem(notification, "has no chain header: stored without a hash, or its "
                          "header was altered")
        self.pending.append((notification.id, stored_hash or GENESIS, stream, version))
        last_version, last_hash = self.heads.get(stream, (0, GENESIS))
        if version != last_version + 1:
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
        self.checkpoints += 1
        after, through = sealed.previous_through, sealed.through_position
        where = f"checkpoint at position {notification.id}"
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
            self.report(Problem(f"{where}: the events of positions {after + 1}–{through} "
                                "differ from what was sealed (rewritten or reordered)",
                                notification.id))
        self.sealed_through, self.sealed_hash = through, sealed.log_hash

    @property
    def unsealed(self) -> int:
        return len(self.pending)
