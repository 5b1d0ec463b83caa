"""`linli serve` believes X-Forwarded-For only from the proxies named by
`--forwarded-allow-ips`: by default a client cannot dodge the failed-token limit by naming
another address. And a hostile number in a body is a 422 from the real server, not a reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.served import ADMIN_TOKEN, Served

FAILURES_ALLOWED = 3


def serve(database_url: str, log: Path, *args: str) -> Served:
    served = Served(database_url, log, LINLI_AUTH_FAILURE_BURST=str(FAILURES_ALLOWED),
                    LINLI_AUTH_FAILURES_PER_SECOND="0.01")
    served.args = list(args)
    return served


def guesses(served: Served, count: int) -> list[int]:
    """`count` unknown tokens, each claiming to come from another address."""
    with httpx.Client(base_url=served.url, timeout=10) as client:
        return [client.get("/v1/communities/x", headers={
            "Authorization": f"Bearer guess-{n}",
            "X-Forwarded-For": f"198.51.100.{n + 1}"}).status_code for n in range(count)]


@pytest.fixture
def default(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve(database_url, tmp_path / "serve.log") as running:
        yield running


class TestForwardedHeaders:
    def test_by_default_no_forwarded_header_is_believed(self, default):
        answers = guesses(default, FAILURES_ALLOWED + 3)

        assert answers[:FAILURES_ALLOWED] == [401] * FAILURES_ALLOWED
        assert set(answers[FAILURES_ALLOWED:]) == {429}

    def test_a_named_proxy_is_believed(self, database_url, tmp_path):
        with serve(database_url, tmp_path / "serve.log",
                   "--forwarded-allow-ips", "127.0.0.1") as proxied:
            assert set(guesses(proxied, FAILURES_ALLOWED + 3)) == {401}


class TestAHugeInteger:
    def test_is_a_validation_problem_before_authentication(self, default):
        body = ('{"member_id": "00000000-0000-0000-0000-000000000000", "points": '
                + "9" * 5_000 + "}")
        with httpx.Client(base_url=default.url, timeout=10) as client:
            for token in ("guess", ADMIN_TOKEN):
                response = client.post("/v1/redemptions", content=body.encode(), headers={
                    "Authorization": f"Bearer {token}", "Idempotency-Key": f"k-{token}",
                    "Content-Type": "application/json"})
                assert response.status_code == 422, response.text
                assert response.json()["type"].endswith("/validation-error")
            assert client.get("/healthz").status_code == 200  # the server kept its connection
