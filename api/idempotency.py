"""Idempotency-Key handling: required, replayed byte for byte, refused while in flight."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, NamedTuple

from eventsourcing.application import AggregateNotFoundError
from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api import language
from api.bootstrap import Linli
from api.deps import REQUIRED_KEY, ActorDep, LinliDep
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
            raise ApiProblem(409, "idempotency-key-in-flight", "idempotency-key-in-flight")
        _in_flight.add(claim)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(claim)


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """The request as a retry must repeat it, hashed. A PIN is left out: the fingerprint is
    stored with the answer, where a hash of six digits would not keep them secret."""
    fields = None if body is None else body.model_dump(mode="json", exclude=_SECRET_FIELDS)
    canonical = dumps([method, path, fields])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checked_key(key: str | None) -> str:
    """The request's Idempotency-Key; 400 when it is missing or too long."""
    if not key:
        raise ApiProblem(400, "idempotency-key-required", "idempotency-key-required")
    if len(key) > KEY_MAX_CHARS:
        raise ApiProblem(400, "idempotency-key-invalid", "idempotency-key-too-long",
                         max=KEY_MAX_CHARS)
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
    lang = language.current()  # the writer's thread renders the answer: in this language

    def to_response(outcome: Any) -> StoredResponse:
        if isinstance(outcome, DomainError):
            status, problem_body = domain_problem(outcome, lang)
            return StoredResponse(status, dumps(problem_body))
        with language.using(lang):
            model = keyed.render(outcome)
            return StoredResponse(status_code, model.model_dump_json(), personal_subject(model))

    spec = Idempotency(actor.principal, key, fingerprint(method, path, body), to_response)
    with _claim(actor.principal, key):
        stored: StoredResponse = await linli.writer.run(keyed.command, spec)
    return _replayed(stored)


async def stored_answer(linli: Linli, actor: Actor, key: str, *, method: str, path: str,
                        body: BaseModel) -> Response | None:
    """The answer first given under this key, read without running anything; None when the
    key is new. For a request whose own checks come before the command (a PIN's), so that a
    retry replays its first answer whatever those checks would say now."""

    def look_up() -> IdempotencyRecord | None:
        try:
            record: object = linli.app.repository.get(IdempotencyRecord.create_id(
                actor.principal, key))
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, IdempotencyRecord) else None

    record = await run_in_threadpool(look_up)
    if record is None:
        return None
    if record.fingerprint != fingerprint(method, path, body):
        raise IdempotencyKeyReused("idempotency-key-reused")
    return _replayed(StoredResponse(record.status_code, record.body))


def _replayed(stored: StoredResponse) -> Response:
    if not stored.body:
        return Response(status_code=stored.status_code)
    media_type = PROBLEM_JSON if stored.status_code >= 400 else "application/json"
    return Response(stored.body.encode("utf-8"), status_code=stored.status_code,
                    media_type=media_type)


Render = Callable[[Any], BaseModel | None]
"""How a command's result becomes the answer's body (None: no body, as for 204)."""


@dataclass(frozen=True)
class Write:
    """A write request to a route: who sends it, to what, and its Idempotency-Key if it
    sent one. `execute` (from a route's thread) and `run` (from an async route) run the
    route's command plainly without a key, and keyed with one: at most once per principal
    and key, the record saved with the command's events, a retry answered with the first
    answer's bytes. Both answer alike."""

    linli: Linli
    actor: Actor
    key: str | None
    method: str
    path: str
    status_code: int

    def execute(self, command: Callable[[UnitOfWork], Any], render: Render,
                body: BaseModel | None = None, *, shown_once: Render | None = None
                ) -> Response:
        """Runs the command and answers with `render(result)`. `shown_once` renders the
        answer kept for a retry when the first one holds a secret shown once (a token): the
        retry gets the answer without it, and nothing is done twice."""
        if self.key is None:
            return _answer(self.status_code, render(self.linli.writer.execute(command)))
        kept, spec = self._keyed(command, render, body, shown_once)
        with _claim(spec.principal_id, spec.key):
            stored = self.linli.writer.execute_keyed(kept, spec)
        return self._first(stored, render, shown_once)

    async def run(self, command: Callable[[UnitOfWork], Any], render: Render,
                  body: BaseModel | None = None, *, shown_once: Render | None = None
                  ) -> Response:
        """`execute` for an async route: waits on the writer without a thread."""
        if self.key is None:
            return _answer(self.status_code, render(await self.linli.writer.run(command)))
        kept, spec = self._keyed(command, render, body, shown_once)
        with _claim(spec.principal_id, spec.key):
            stored: StoredResponse = await self.linli.writer.run(kept, spec)
        return self._first(stored, render, shown_once)

    def _keyed(self, command: Callable[[UnitOfWork], Any], render: Render,
               body: BaseModel | None, shown_once: Render | None
               ) -> tuple[Callable[[UnitOfWork], Any], Idempotency]:
        assert self.key is not None
        stored_render = shown_once or render
        status_code = self.status_code
        lang = language.current()  # the writer's thread renders the answer: in this language

        def to_response(outcome: Any) -> StoredResponse:
            if isinstance(outcome, DomainError):
                status, problem_body = domain_problem(outcome, lang)
                return StoredResponse(status, dumps(problem_body))
            with language.using(lang):
                model = stored_render(outcome)
                return StoredResponse(status_code, _body(model), personal_subject(model))

        spec = Idempotency(self.actor.principal, self.key,
                           fingerprint(self.method, self.path, body), to_response)
        if shown_once is None:
            return command, spec
        self._results.clear()

        def kept(uow: UnitOfWork) -> Any:
            result = command(uow)
            self._results.append(result)  # the last run is the one stored
            return result

        return kept, spec

    @cached_property
    def _results(self) -> list[Any]:
        return []

    def _first(self, stored: StoredResponse, render: Render,
               shown_once: Render | None) -> Response:
        """The answer: the stored one, unless this request ran the command and its answer
        holds a secret (then the whole first answer, once)."""
        if (shown_once is not None and self._results and stored.status_code < 400
                and _body(shown_once(self._results[-1])) == stored.body):
            return _answer(stored.status_code, render(self._results[-1]))
        return _replayed(stored)


def personal_subject(model: BaseModel | None) -> str | None:
    """The person whose personal data an answer shows (its record is then encrypted under
    their key), or None."""
    field = getattr(model, "personal_subject", None)
    subject = None if field is None else getattr(model, field)
    return None if subject is None else str(subject)


def nothing(_: Any) -> None:
    """Renders no body (a 204's answer)."""
    return None


def _body(model: BaseModel | None) -> str:
    return "" if model is None else model.model_dump_json()


def _answer(status_code: int, model: BaseModel | None) -> Response:
    if model is None:
        return Response(status_code=status_code)
    return Response(model.model_dump_json(), status_code=status_code,
                    media_type="application/json")


OptionalKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key",
           description="Optional: a retry with the same key and body returns the first "
           "response (same status and bytes) and changes nothing; another body under the key "
           "is 422 `idempotency-key-reused`, a retry while the first runs 409 "
           "`idempotency-key-in-flight`. Keys belong to the principal: a merchant, a member, "
           "or the key itself."),
]


async def write_request(request: Request, actor: ActorDep, linli: LinliDep,
                        key: OptionalKey = None) -> Write:
    """The route's write request. A key sent is never ignored: one too long or empty is
    refused (400) before anything runs."""
    route = request.scope.get("route")
    status_code = getattr(route, "status_code", None) or 200
    if key == "":
        raise ApiProblem(400, "idempotency-key-invalid", "idempotency-key-empty")
    if key is not None:
        checked_key(key)
    return Write(linli, actor, key, request.method, request.url.path, status_code)


WriteDep = Annotated[Write, Depends(write_request)]
"""A write route's request: declare it last, after the caller's role and scope."""


def require_keys(document: dict[str, Any]) -> dict[str, Any]:
    """Says in the OpenAPI document what the API enforces of an Idempotency-Key: a non-empty
    string of at most `KEY_MAX_CHARS` (else 400), required on the ◆ operations (a missing one
    is 400 `idempotency-key-required`, not FastAPI's 422). Returns the document."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            parameters = operation.get("parameters", ()) if isinstance(operation, dict) else ()
            for parameter in parameters:
                if parameter.get("name") != "Idempotency-Key":
                    continue
                parameter["schema"] = {"type": "string", "minLength": 1,
                                       "maxLength": KEY_MAX_CHARS, "title": "Idempotency-Key"}
                parameter["required"] = parameter.get("description") == REQUIRED_KEY
                operation.setdefault("responses", {}).setdefault("400", {
                    "description": "Idempotency-Key missing or invalid",
                    "content": {PROBLEM_JSON: {}}})
    return document
