"""Concurrent gifts and withdrawals from one member through a real HTTP server: never an
overdraft, every minute accounted for."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.test_concurrency import ALL_DONE_SECONDS, REQUEST_TIMEOUT, base_url, http
from tests.scenario import Town, ok

__all__ = ["base_url", "http"]  # the fixtures

CONCURRENT = 40
MINUTES = 100  # room for 20 of the 40 requests of 5 minutes


def test_concurrent_gifts_and_withdrawals_never_overdraw(base_url, http):
    world = Town.standard(http)
    giver, relative = world.member_id, world.add_member("张小明")
    ok(http.post("/v1/timebank/deposits", headers=world.staff, json={
        "volunteer_id": giver, "minutes": MINUTES, "service_type": "陪护"}), 201)
    start = threading.Barrier(CONCURRENT, timeout=30)

    def spend(i: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as phone:
            start.wait()
            if i % 2:
                return phone.post("/v1/timebank/transfers", headers={
                    **world.member, "Idempotency-Key": uuid.uuid4().hex}, json={
                    "from_member_id": giver, "to_member_id": relative, "minutes": 5})
            return phone.post("/v1/timebank/withdrawals", headers=world.staff, json={
                "member_id": giver, "minutes": 5, "service_type": "助浴"})

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        responses = [f.result(timeout=ALL_DONE_SECONDS)
                     for f in [pool.submit(spend, i) for i in range(CONCURRENT)]]

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == MINUTES // 5 and statuses.count(409) == CONCURRENT - 20
    assert all(r.json()["type"].endswith("/insufficient-balance")
               for r in responses if r.status_code == 409)
    served = sorted(r.json()["balance_after"] for r in responses if r.status_code == 201)
    assert served == list(range(0, MINUTES, 5))
    gifts = sum(1 for i, r in enumerate(responses) if i % 2 and r.status_code == 201)
    assert ok(http.get(f"/v1/members/{giver}/balance"))["minutes"] == 0
    assert ok(http.get(f"/v1/members/{relative}/balance"))["minutes"] == 5 * gifts
    lines = ok(http.get(f"/v1/members/{giver}/passbook",
                        params={"asset": "MINUTES", "limit": 500}))["items"]
    assert all(line["balance_after"] >= 0 for line in lines)
    assert len(lines) == 1 + MINUTES // 5
