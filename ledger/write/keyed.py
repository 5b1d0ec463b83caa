"""Keyed requests: a request sent with an idempotency key is done once, and a retry of it gets
the first response again.

The key's record (`IdempotencyRecord`, the first response and the request's fingerprint) is
saved with the command's events, in one transaction. A key is taken as new without a query
(`presume_new`): a key is new but for retries, whose record the writer has cached since it
saved it. A record that exists all the same (saved by another process, or forgotten since)
makes the group's insert fail on its version; the writer then looks the group's keys up in one
query (`look_up`) and runs the group again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from ledger.application import LedgerApp
from ledger.domain.idempotency import IdempotencyRecord, PersonalIdempotencyRecord
from ledger.errors import DomainError, IdempotencyKeyReused
from ledger.store import latest_versions
from ledger.write.cache import AggregateCache
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StoredResponse:
    """The response first given to a keyed request; replays give it again, byte for byte."""

    status_code: int
    body: str
    subject_id: str | None = None  # the person whose personal data the body shows


@dataclass(frozen=True)
class Idempotency:
    """A keyed request: its record is saved with the command's events, in one transaction."""

    principal_id: str
    key: str
    fingerprint: str
    render: Callable[[Any], StoredResponse]  # result or DomainError -> response

    @cached_property
    def record_id(self) -> UUID:
        return IdempotencyRecord.create_id(self.principal_id, self.key)


class MaybeKeyed(Protocol):
    """A request that may carry an idempotency key (a submission to the writer)."""

    @property
    def idempotency(self) -> Idempotency | None: ...


def run_keyed(command: Callable[[UnitOfWork], Any], spec: Idempotency,
              uow: UnitOfWork) -> StoredResponse:
    """Runs a keyed command and adds its record to the unit of work; or, if the key's record
    exists, gives its stored response (`IdempotencyKeyReused` if the request differs)."""
    record = uow.find(IdempotencyRecord, spec.record_id)
    if record is not None:
        if record.fingerprint != spec.fingerprint:
            raise IdempotencyKeyReused("idempotency-key-reused")
        return StoredResponse(record.status_code, record.body)
    try:
        response = spec.render(command(uow))
    except DomainError as error:
        if uow.triggered_on_loaded():
            raise
        uow.created.clear()
        response = spec.render(error)
    if response.subject_id is None:
        uow.add(IdempotencyRecord(
            principal_id=spec.principal_id, key=spec.key, fingerprint=spec.fingerprint,
            status_code=response.status_code, body=response.body,
        ))
    else:
        uow.add(PersonalIdempotencyRecord(
            principal_id=spec.principal_id, key=spec.key, fingerprint=spec.fingerprint,
            status_code=response.status_code, body=response.body,
            subject_id=response.subject_id,
        ))
    return response


def presume_new(cache: AggregateCache, group: Sequence[MaybeKeyed]) -> None:
    """Takes the records of the group's keys that the cache does not hold as absent, without a
    query."""
    cache.presume_absent([request.idempotency.record_id for request in group
                          if request.idempotency is not None])


def look_up(app: LedgerApp, cache: AggregateCache, group: Sequence[MaybeKeyed]) -> bool:
    """Finds, in one query, which of the keys the group took as new were used before; tells
    whether any were (retries after an outage, say): the group can then run again as a group,
    those records read from the store and the others known to be absent."""
    record_ids = cache.records_not_held([request.idempotency.record_id for request in group
                                         if request.idempotency is not None])
    if not record_ids:
        return False
    try:
        used = latest_versions(app, record_ids)
    except PersistenceError:
        return False
    cache.found_records(record_ids, used)
    return bool(used)
