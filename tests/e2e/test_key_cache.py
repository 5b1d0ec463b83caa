"""A till's API key is known from memory while it is used, and a revocation still wins.

`KeyCache` reloads a key in use in the background, ahead of its expiry: a till's requests
never all miss together and load the key at once, and a key revoked by another process stops
working within `LINLI_API_KEY_CACHE_SECONDS`, however busy the till.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import auth as auth_module
from api.app import create_app
from api.auth import KeyCache, unauthorized
from api.bootstrap import Linli, open_linli
from ledger.actor import Actor, Role
from ledger.commands import access
from ledger.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Town, auth, key, ok

LIFETIME = 1.0  # seconds a key is kept (its reload begins past half of it)


@pytest.fixture
def short_lived(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_key_cache_seconds": LIFETIME})


@pytest.fixture
def till_client(short_lived: Settings) -> Iterator[TestClient]:
    running = open_linli(short_lived)
    running.start()
    try:
        with TestClient(create_app(linli=running)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            yield client
    finally:
        running.close()


def _redeem(client: TestClient, till: dict[str, str], member_id: str) -> int:
    return client.post("/v1/redemptions", headers={**till, **key()}, json={
        "member_id": member_id, "points": 1, "description": "bench"}).status_code


class TestAKeyInUse:
    def test_is_loaded_by_one_request_however_long_it_is_used(self, till_client, monkeypatch):
        world = Town.standard(till_client)
        for _ in range(10):  # more than three lifetimes of one-point redemptions can take
            world.award(1_000)
        issued = ok(till_client.post("/v1/api-keys", json={
            "role": "merchant", "merchant_id": world.merchant_id, "label": "1号收银台"}), 201)
        loads: list[str] = []
        real = auth_module.actor_for_token

        def counted(*args: object) -> Actor:
            loads.append(threading.current_thread().name)
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr("api.deps.actor_for_token", counted)
        till = auth(issued["token"])
        answers: list[int] = []
        until = time.monotonic() + 3 * LIFETIME
        while time.monotonic() < until:
            answers.append(_redeem(till_client, till, world.member_id))

        by_requests = [name for name in loads if not name.startswith("key-reload")]
        assert set(answers) == {201}
        assert len(by_requests) == 1  # the first request; later ones found it in memory
        assert len(loads) - len(by_requests) >= 2  # reloaded in the background meanwhile
        assert world.balance()["points"] == 10_000 - len(answers)

    def test_revoked_by_another_process_stops_working_within_its_lifetime(
            self, till_client, short_lived):
        world = Town.standard(till_client)
        for _ in range(10):
            world.award(1_000)
        issued = ok(till_client.post("/v1/api-keys", json={
            "role": "merchant", "merchant_id": world.merchant_id, "label": "1号收银台"}), 201)
        till = auth(issued["token"])
        assert _redeem(till_client, till, world.member_id) == 201
        other: Linli = open_linli(short_lived, run_migrations=False)
        try:
            other.writer.execute(access.revoke_api_key(
                uuid.UUID(issued["id"]), Actor("admin:elsewhere", Role.ADMIN)))
        finally:
            other.close()
        revoked_at = time.monotonic()

        answers: list[int] = []
        while not answers or answers[-1] == 201:
            answers.append(_redeem(till_client, till, world.member_id))
            assert time.monotonic() - revoked_at < LIFETIME + 5, "the revoked key still works"

        assert answers[-1] == 401
        assert _redeem(till_client, till, world.member_id) == 401
        assert world.balance()["points"] == 10_000 - 1 - (len(answers) - 1)


class TestKeyCache:
    def test_a_reload_begun_before_a_clear_is_not_kept(self):
        cache = KeyCache(seconds=0.2)
        till = Actor("key:1", Role.MERCHANT)
        cache.put("hash", till, cache.generation)
        time.sleep(0.12)  # past half its lifetime
        started, release = threading.Event(), threading.Event()

        def slow_reload() -> Actor:
            started.set()
            release.wait(5)
            return till

        assert cache.get("hash", slow_reload) == till  # still valid; reload begins
        assert started.wait(5)
        cache.clear()  # a revocation through this process
        release.set()
        cache.close(wait=True)

        assert cache.get("hash") is None

    def test_a_reload_that_finds_the_key_revoked_forgets_it(self):
        cache = KeyCache(seconds=0.2)
        cache.put("hash", Actor("key:1", Role.MERCHANT), cache.generation)
        time.sleep(0.12)

        def revoked() -> Actor:
            raise unauthorized("the token is not known or was revoked")

        assert cache.get("hash", revoked) is not None
        cache.close(wait=True)

        assert cache.get("hash") is None
