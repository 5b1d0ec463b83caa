"""Brute force and abuse: failed tokens from one address are slowed (429), lists cap `limit`,
every text field of every request body is bounded (read from the OpenAPI)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import open_linli
from ledger.limits import PAGE_MAX
from ledger.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Town, auth, ok

FAILURES_ALLOWED = 5


@pytest.fixture
def guarded(settings: Settings) -> Iterator[Any]:
    """The app with a small budget of failed tokens per address (the default is 30)."""
    tight = settings.model_copy(update={"auth_failure_burst": FAILURES_ALLOWED,
                                        "auth_failures_per_second": 0.01})
    linli = open_linli(tight)

    def client_from(address: str) -> TestClient:
        return TestClient(create_app(linli=linli), client=(address, 50_000))

    try:
        yield client_from
    finally:
        linli.close()


class TestBruteForce:
    def test_repeated_bad_tokens_from_one_address_are_refused_429(self, guarded):
        with guarded("203.0.113.7") as attacker, guarded("198.51.100.2") as neighbour:
            attacker.headers.update(auth(ADMIN_TOKEN))
            world = Town.standard(attacker)
            guesses = [attacker.get(f"/v1/members/{world.member_id}",
                                    headers=auth(f"guess-{n}")) for n in range(12)]

            assert [g.status_code for g in guesses[:FAILURES_ALLOWED]] == [401] * 5
            assert {g.status_code for g in guesses[FAILURES_ALLOWED:]} == {429}
            assert int(guesses[-1].headers["Retry-After"]) >= 1
            assert guesses[-1].json()["type"].endswith("/rate-limited")
            # Checked before loading the token: a right guess now is refused as well, so
            # guessing goes no faster; another address is not affected.
            fresh = ok(neighbour.post("/v1/api-keys", headers=auth(ADMIN_TOKEN), json={
                "role": "staff", "community_id": world.community_id}), 201)["token"]
            refused = attacker.get(f"/v1/members/{world.member_id}", headers=auth(fresh))
            assert refused.status_code == 429
            ok(neighbour.get(f"/v1/members/{world.member_id}", headers=world.staff))

    def test_a_token_known_valid_is_never_refused_for_its_address(self, guarded):
        with guarded("203.0.113.9") as till:
            till.headers.update(auth(ADMIN_TOKEN))
            world = Town.standard(till)
            world.award(5)
            assert world.redeem(1).status_code == 201  # the till's key, now known valid
            for n in range(FAILURES_ALLOWED + 3):  # someone behind the same NAT guessing
                till.get(f"/v1/members/{world.member_id}", headers=auth(f"guess-{n}"))

            assert till.get("/v1/communities/x", headers=auth("guess-x")).status_code == 429
            ok(till.get(f"/v1/members/{world.member_id}", headers=world.staff))
            assert world.redeem(1).status_code == 201  # the till's fast path too

    def test_missing_tokens_do_not_count_as_guesses(self, guarded):
        with guarded("203.0.113.8") as client:
            answers = {client.get("/v1/communities/x").status_code for _ in range(12)}
            assert answers == {401}
            ok(client.post("/v1/communities", json={"name": "湖滨社区"},
                           headers=auth(ADMIN_TOKEN)), 201)


def list_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, param) for path, item in spec["paths"].items()
            for param in item.get("get", {}).get("parameters", []) if param["name"] == "limit"]


def request_strings(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(schema, field, its schema) for every string any request body can carry."""
    schemas = spec["components"]["schemas"]
    for item in spec["paths"].values():
        for operation in item.values():
            body = operation.get("requestBody")
            if not body or "application/json" not in body["content"]:
                continue  # a file (an import) is bounded by its size: tests/e2e/test_imports.py
            schema = body["content"]["application/json"]["schema"]
            name = schema.get("$ref", "inline").split("/")[-1]
            for field, sub in schemas.get(name, schema).get("properties", {}).items():
                for option in sub.get("anyOf", [sub]):
                    if option.get("type") == "string":
                        yield name, field, option
                    assert option.get("type") != "array" or "maxItems" in option, (name, field)


class TestBounds:
    def test_every_list_caps_its_limit(self, client):
        world = Town.standard(client)
        spec = client.get("/openapi.json").json()
        lists = list_operations(spec)
        assert len(lists) >= 4
        ids = {"member_id": world.member_id, "merchant_id": world.merchant_id,
               "household_id": world.member_id, "community_id": world.community_id,
               "webhook_id": world.member_id}
        for path, param in lists:
            assert param["schema"]["maximum"] <= PAGE_MAX, path
            url = path.format(**ids) + f"?community_id={world.community_id}"
            response = client.get(f"{url}&limit={PAGE_MAX + 1}")
            assert response.status_code == 422, (path, response.text)
            assert response.json()["type"].endswith("/validation-error")

    def test_every_text_field_of_every_request_body_is_bounded(self, client):
        spec = client.get("/openapi.json").json()
        unbounded = [(schema, field) for schema, field, sub in request_strings(spec)
                     if not ("maxLength" in sub or "enum" in sub
                             or sub.get("format") in ("uuid", "date-time", "date"))]
        assert unbounded == []
