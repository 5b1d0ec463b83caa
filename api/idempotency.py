"""Idempotency-Key handling: required, replayed byte for byte, refused while in flight."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from eventsourcing.application import AggregateNotFoundError
from fastapi import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.bootstrap import Linli
from api.errors import PROBLEM_JSON, ApiProblem, domain_problem, dumps
from ledger.actor import Actor
from ledger.domain.idempotency import IdempotencyRecord
from ledger.errors import DomainError, IdempotencyKeyReused
from ledger.write.keyed import Idempotency, StoredResponse
from ledger.write.unit_of_work import UnitOfWork

KEY_MAX_CHARS = 255

_in_flight: set[tuple[str, str]] = set()
_in_flight_lock = threading.Lock()


@contextmanager
def _claim(principal_id: str, key: str) -> Iterator[None]:
    claim = (principal_id, key)
    with _in_flight_lock:
        if claim in _in_flight:
            raise ApiProblem(409, "idempotency-key-in-flight", "Request in flight",
                             "a request with this Idempotency-Key is still being processed")
        _in_flight.add(claim)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(claim)


def fingerprint(method: str, path: str, body: BaseModel) -> str:
    """The request as a retry must repeat it, hashed. A PIN is left out: the fingerprint is
    stored with the answer, where a hash of six digits would not keep them secret."""
    fields = body.model_dump(mode="json", exclude=_SECRET_FIELDS)
    canonical = dumps([method, path, fields])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checked_key(key: str | None) -> str:
    """The request's Idempotency-Key; 400 when it is missing or too long."""
    if not key:
        raise ApiProblem(400, "idempotency-key-required", "Idempotency-Key required",
                         "send an Idempotency-Key header (a unique string per operation)")
    if len(key) > KEY_MAX_CHARS:
        raise ApiProblem(400, "idempotency-key-invalid", "Idempotency-Key too long",
                         f"an Idempotency-Key has at most {KEY_MAX_CHARS} characters")
    return key


_SECRET_FIELDS = {"pin"}


class Keyed(NamedTuple):
    """A keyed request's command, and how its result becomes the response's body."""

    command: Callable[[UnitOfWork], Any]
    render: Callable[[Any], BaseModel]


async def run_keyed(
    linli: Linli,
    actor: Actor,
    key: str | None,
    *,
    method: str,
    path: str,
    body: BaseModel,
    keyed: Keyed,
    status_code: int = 201,
) -> Response:
    """Run the command at most once per (principal, key); answer with the stored response."""
    key = checked_key(key)

    def to_response(outcome: Any) -> StoredResponse:
        if isinstance(outcome, DomainError):
            status, problem_body = domain_problem(outcome)
            return StoredResponse(status, dumps(problem_body))
        return StoredResponse(status_code, keyed.render(outcome).model_dump_json())

    spec = Idempotency(actor.id, key, fingerprint(method, path, body), to_response)
    with _claim(actor.id, key):
        stored: StoredResponse = await linli.writer.run(keyed.command, spec)
    return _replayed(stored)


async def stored_answer(linli: Linli, actor: Actor, key: str, *, method: str, path: str,
                        body: BaseModel) -> Response | None:
    """The answer first given under this key, read without running anything; None when the
    key is new. For a request whose own checks come before the command (a PIN's), so that a
    retry replays its first answer whatever those checks would say now."""

    def look_up() -> IdempotencyRecord | None:
        try:
            record: object = linli.app.repository.get(IdempotencyRecord.create_id(actor.id, key))
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, IdempotencyRecord) else None

    record = await run_in_threadpool(look_up)
    if record is None:
        return None
    if record.fingerprint != fingerprint(method, path, body):
        raise IdempotencyKeyReused("this Idempotency-Key was first used with a different request")
    return _replayed(StoredResponse(record.status_code, record.body))


def _replayed(stored: StoredResponse) -> Response:
    media_type = PROBLEM_JSON if stored.status_code >= 400 else "application/json"
    return Response(stored.body.encode("utf-8"), status_code=stored.status_code,
                    media_type=media_type)
