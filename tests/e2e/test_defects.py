"""A defect (an error nothing foresaw) in a request, served by uvicorn as `linli serve` serves:
a 500 problem in the reader's language, its traceback logged once, the connection kept for the
client's next request, and a keyed write that hit it neither done nor recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from api import fastpath
from api.bootstrap import Linli
from api.errors import PROBLEM_BASE
from harness.serving import serving
from ledger import messages
from ledger.commands import points
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Town, auth, key

SECONDS = 30.0


class Defect(Exception):
    """What the broken command raises."""


class _WithTraceback(logging.Handler):
    """Keeps the records logged with a traceback."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@contextmanager
def tracebacks() -> Iterator[list[logging.LogRecord]]:
    """Every record logged with a traceback meanwhile, by Linli's loggers or uvicorn's (which
    do not reach the root logger)."""
    handler = _WithTraceback()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def breaking(award: Callable[..., Any]) -> Callable[..., Any]:
    """`award`, whose command stages the award and then fails."""

    def broken_award(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        command = award(*args, **kwargs)

        def broken(uow: Any) -> Any:
            command(uow)
            raise Defect("a defect after the award was staged")

        return broken

    return broken_award


@pytest.fixture
def client(linli: Linli) -> Iterator[httpx.Client]:
    """A client of the app served by uvicorn over `linli`, sending the admin token."""
    with (serving(linli) as url,
          httpx.Client(base_url=url, headers=auth(ADMIN_TOKEN), timeout=SECONDS) as served):
        yield served


def test_a_defect_is_a_500_problem_and_the_connection_stays_open(
        client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    world = Town.standard(client)
    headers = {**world.staff, **key()}
    body = {"member_id": world.member_id, "rule_code": "GIFT", "quantity": 3}

    with tracebacks() as logged:
        with monkeypatch.context() as patched:
            patched.setattr(points, "award", breaking(points.award))
            failed = client.post("/v1/awards", headers=headers, json=body)
        retried = client.post("/v1/awards", headers=headers, json=body)  # the same key
    balance = world.balance()

    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json() == {
        "type": PROBLEM_BASE + "internal-error", "status": 500,
        "title": messages.title("internal-error", messages.ZH),
        "detail": messages.detail("internal-error", {}, messages.ZH)}
    assert "服务器" in failed.json()["title"]
    # Answered on the connection the failure came on: the server kept it open.
    assert retried.extensions["network_stream"] is failed.extensions["network_stream"]
    # Neither done nor recorded under its key: the retry ran, once.
    assert retried.status_code == 201, retried.text
    assert balance["points"] == 3
    [record] = logged
    assert record.name == "api.errors"
    assert "POST /v1/awards" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is Defect


def test_a_defect_is_told_in_english_when_asked(
        client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    world = Town.standard(client)

    with monkeypatch.context() as patched:
        patched.setattr(points, "award", breaking(points.award))
        failed = client.post("/v1/awards", json={
            "member_id": world.member_id, "rule_code": "GIFT", "quantity": 1},
            headers={**world.staff, **key(), "Accept-Language": "en"})
    after = client.get("/healthz")

    assert (failed.status_code, failed.json()["title"]) == (500, "Internal error")
    assert after.extensions["network_stream"] is failed.extensions["network_stream"]


def test_a_defect_in_the_tills_fast_path_is_a_500_problem_too(
        client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    world = Town.standard(client)
    world.award(5)
    redemption = {"member_id": world.member_id, "points": 2, "description": "大米"}

    def broken(*_: Any) -> None:
        raise Defect("a defect in the fast path's own checks")

    with tracebacks() as logged:
        with monkeypatch.context() as patched:
            patched.setattr(fastpath, "_admissible", broken)
            failed = client.post("/v1/redemptions", json=redemption,
                                 headers={**world.merchant, **key()})
        retried = client.post("/v1/redemptions", json=redemption,
                              headers={**world.merchant, **key()})

    assert (failed.status_code, failed.headers["content-type"]) == (
        500, "application/problem+json")
    assert failed.json()["type"] == PROBLEM_BASE + "internal-error"
    assert retried.extensions["network_stream"] is failed.extensions["network_stream"]
    assert retried.status_code == 201, retried.text
    assert world.balance()["points"] == 3
    [record] = logged
    assert "POST /v1/redemptions" in record.getMessage()
