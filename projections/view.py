"""What every view is and what views share: the batch item they apply, the ways a view may
take a rebuild, and the topics of the account events several views and reports follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table

from ledger.domain.accounts import Account

OPENED = get_topic(Account.Opened)  # type: ignore[attr-defined]
POSTED = get_topic(Account.Posted)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Positioned:
    """A decoded event and its position in the notification log."""

    position: int
    topic: str
    event: Any
    originator: str  # the event's originator id as text


class View(Protocol):
    """A read model: its tables, the topics it follows, and how it applies a batch of them."""

    @property
    def name(self) -> str: ...
    @property
    def tables(self) -> tuple[Table, ...]: ...
    @property
    def topics(self) -> tuple[str, ...]: ...

    def apply(self, conn: Connection, events: list[Positioned]) -> None: ...


class Replay(Protocol):
    """How a view takes a rebuild's batches: what it writes may wait for `finish`."""

    def apply(self, conn: Connection, events: list[Positioned]) -> None: ...
    def finish(self, conn: Connection) -> None: ...


@runtime_checkable
class Replayable(Protocol):
    """A view with a way of its own to take a rebuild."""

    def replay(self) -> Replay: ...


@runtime_checkable
class Remembering(Protocol):
    """A view that keeps rows it read in memory from one batch to the next."""

    def forget(self) -> None: ...


class Immediate:
    """A view's own `apply` for each batch of a rebuild."""

    def __init__(self, view: View) -> None:
        self.apply = view.apply

    def finish(self, conn: Connection) -> None:
        pass


def replay_of(view: View) -> Replay:
    """How `view` takes a rebuild: its own way, or batch by batch as when it follows."""
    return view.replay() if isinstance(view, Replayable) else Immediate(view)
