"""Concurrent redemptions through a real HTTP server: no overdraft, no lost update."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from api.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.helpers import make_world, ok

REQUEST_TIMEOUT = httpx.Timeout(30.0)
STARTUP_SECONDS = 15.0
ALL_DONE_SECONDS = 90.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def base_url(linli):
    """A uvicorn server on a free 127.0.0.1 port, serving the app over `linli`."""
    port = _free_port()
    config = uvicorn.Config(create_app(linli=linli), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            pytest.fail("the HTTP server did not come up")
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=STARTUP_SECONDS)
    assert not thread.is_alive(), "the HTTP server did not stop"


@pytest.fixture
def http(base_url):
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client


class TestConcurrentRedemptions:
    CONCURRENT = 60
    BALANCE = 37

    def test_concurrent_redemptions_never_overdraw(self, base_url, http):
        # Arrange: a member with 37 points and a merchant's till.
        world = make_world(http)
        world.award(self.BALANCE)
        start = threading.Barrier(self.CONCURRENT, timeout=30)

        def redeem_one_point(_: int) -> httpx.Response:
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as till:
                start.wait()
                return till.post("/v1/redemptions", headers={
                    **world.merchant, "Idempotency-Key": uuid.uuid4().hex,
                }, json={"member_id": world.member_id, "points": 1, "description": "一瓶酱油"})

        # Act: 60 tills ask for one point each, all at once.
        with ThreadPoolExecutor(max_workers=self.CONCURRENT) as pool:
            futures = [pool.submit(redeem_one_point, i) for i in range(self.CONCURRENT)]
            responses = [f.result(timeout=ALL_DONE_SECONDS) for f in futures]

        # Assert: exactly 37 were served, the others were refused for want of points.
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) == self.BALANCE, statuses
        assert statuses.count(409) == self.CONCURRENT - self.BALANCE, statuses
        refused = [r for r in responses if r.status_code == 409]
        assert all(r.headers["content-type"].startswith("application/problem+json")
                   for r in refused)
        assert all(r.json()["type"].endswith("/insufficient-balance") for r in refused)
        served = [r.json() for r in responses if r.status_code == 201]
        assert len({s["id"] for s in served}) == self.BALANCE
        assert sorted(s["balance_after"] for s in served) == list(range(self.BALANCE))

        balance = ok(http.get(f"/v1/members/{world.member_id}/balance"))
        assert (balance["points"], balance["points_available"]) == (0, 0)
        passbook = ok(http.get(f"/v1/members/{world.member_id}/passbook",
                               params={"limit": 500}))
        redemptions = [i for i in passbook["items"] if i["kind"] == "redemption"]
        assert len(redemptions) == self.BALANCE
        assert all(i["amount"] == -1 for i in redemptions)
        assert passbook["items"][0]["balance_after"] == 0
