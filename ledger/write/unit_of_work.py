"""What a command reads and changes: the `UnitOfWork` it runs on, and `Reading`, a command that
names up front what it will read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.errors import NotFound

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


class Loader(Protocol):
    """Where a unit of work loads the aggregates it has not loaded yet (the writer's cache)."""

    def load(self, aggregate_id: UUID, cls: type[Aggregate]) -> Aggregate | None: ...

    def load_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Aggregate]: ...


class UnitOfWork:
    """Holds what one command loads, changes and creates, in front of the writer's cache.

    It counts each loaded aggregate's pending events by the library's `_pending_events`
    attribute, not its property, as the writer does on every command (see `ledger.write`).
    """

    def __init__(self, loader: Loader) -> None:
        self._loader = loader
        self.loaded: dict[UUID, Aggregate] = {}
        self.pending_before: list[int] = []  # of each aggregate loaded, in `loaded`'s order
        self.created: dict[UUID, Aggregate] = {}
        self.uncached: set[UUID] = set()
        self.absent: set[UUID] = set()  # what `load_many` found not stored

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """Returns the aggregate, or None if there is none of that class."""
        aggregate = ((self.created.get(aggregate_id) if self.created else None)
                     or self.loaded.get(aggregate_id))
        if aggregate is None:
            if aggregate_id in self.absent:
                return None
            aggregate = self._loader.load(aggregate_id, cls)
            if aggregate is None:
                return None
            self.loaded[aggregate_id] = aggregate
            self.pending_before.append(len(aggregate._pending_events))
        return aggregate if isinstance(aggregate, cls) else None

    def load_many(self, aggregate_ids: Sequence[UUID]) -> None:
        """Loads the aggregates of `aggregate_ids` that exist, those not in memory in one go:
        for a command about to `find` many, which then finds them here (and those that do
        not exist not at all, without asking the store again)."""
        wanted = [i for i in aggregate_ids if i not in self.loaded and i not in self.created]
        found = self._loader.load_many(wanted)
        for aggregate_id, aggregate in found.items():
            self.loaded[aggregate_id] = aggregate
            self.pending_before.append(len(aggregate._pending_events))
        self.absent.update(i for i in wanted if i not in found)

    def get(self, cls: type[A], aggregate_id: UUID) -> A:
        """Returns the aggregate, or raises `NotFound`."""
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound("not-found", thing=cls.__name__.lower())
        return aggregate

    def add(self, *aggregates: Aggregate, cache: bool = True) -> None:
        """Adds new aggregates to save with the command; `cache=False` for those seldom read
        again (a redemption's record), which the writer then does not keep in memory."""
        for aggregate in aggregates:
            self.created[aggregate.id] = aggregate
            if not cache:
                self.uncached.add(aggregate.id)

    def triggered_on_loaded(self) -> bool:
        """Tells whether the command changed an aggregate it loaded (so it cannot just be
        dropped)."""
        return any(len(a.pending_events) > before
                   for a, before in zip(self.loaded.values(), self.pending_before, strict=True))

    def changed(self) -> list[Aggregate]:
        """Lists the aggregates the command changed or created."""
        loaded = [a for a, before in zip(self.loaded.values(), self.pending_before, strict=True)
                  if len(a.pending_events) > before]
        return loaded + list(self.created.values())


@dataclass(frozen=True)
class Reading(Generic[T]):
    """A command with the aggregates it will load named up front, so that the writer can
    fetch them before it runs the command (see `ledger.write.prefetch`)."""

    run: Callable[[UnitOfWork], T]
    reads: tuple[UUID, ...]

    def __call__(self, uow: UnitOfWork) -> T:
        return self.run(uow)
