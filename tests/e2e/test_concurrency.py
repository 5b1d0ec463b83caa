"""Concurrent redemptions through a real HTTP server: no overdraft, no lost update."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness.serving import serving
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Town, ok

REQUEST_TIMEOUT = httpx.Timeout(30.0)
ALL_DONE_SECONDS = 90.0


@pytest.fixture
def base_url(linli):
    """A uvicorn server on a 127.0.0.1 port of its own, serving the app over `linli`."""
    with serving(linli) as url:
        yield url


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
        world = Town.standard(http)
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
