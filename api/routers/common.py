"""Small helpers shared by the routers."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from api.bootstrap import Linli
from api.errors import ApiProblem
from ledger.errors import NotFound

A = TypeVar("A", bound=Aggregate)


def load(linli: Linli, cls: type[A], aggregate_id: UUID) -> A:
    """An aggregate as stored now, or 404."""
    try:
        aggregate: object = linli.app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        aggregate = None
    if not isinstance(aggregate, cls):
        raise NotFound(f"{cls.__name__.lower()} {aggregate_id} was not found")
    return aggregate


def caught_up(linli: Linli) -> None:
    """Read your writes: the views must hold every write this process has answered."""
    if not linli.read_your_writes():
        raise ApiProblem(503, "projections-behind", "Read models are behind",
                         "the read models did not catch up in time; retry shortly",
                         headers={"Retry-After": "1"})
