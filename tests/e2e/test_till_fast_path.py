"""The tills' keyed POSTs answered by `TillFastPath` give the route's own answers.

A token's first request goes through the FastAPI route (the key cache does not know it yet);
later ones are answered by the fast path. Both must look the same to a till.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import open_linli
from tests.e2e.test_merchants_http import problem_type
from tests.scenario import Town, auth, key


def redeem(world, points: int, headers: dict[str, str] | None = None, **body):
    return world.client.post("/v1/redemptions", headers=headers or {**world.merchant, **key()},
                             json={"member_id": world.member_id, "points": points,
                                   "description": "大米", **body})


class TestSameAnswers:
    def test_a_redemption_looks_the_same_by_either_path(self, client):
        world = Town.standard(client)
        world.award(20)
        first_key = key()

        by_route = redeem(world, 5, {**world.merchant, **first_key})  # token not yet cached
        by_fast_path = redeem(world, 7)
        replayed = redeem(world, 5, {**world.merchant, **first_key})

        assert (by_route.status_code, by_fast_path.status_code) == (201, 201)
        assert by_route.headers["content-type"] == by_fast_path.headers["content-type"]
        assert by_route.json().keys() == by_fast_path.json().keys()
        assert (by_route.json()["balance_after"], by_fast_path.json()["balance_after"]) == (
            15, 8)
        assert (replayed.status_code, replayed.content) == (201, by_route.content)
        assert world.balance()["points"] == 8

    def test_a_hold_by_the_fast_path_is_held(self, client):
        world = Town.standard(client)
        world.award(10)
        redeem(world, 1)  # the merchant's token is cached from here on

        placed = client.post("/v1/holds", headers={**world.merchant, **key()},
                             json={"member_id": world.member_id, "points": 4,
                                   "expires_in_seconds": 600})

        assert (placed.status_code, placed.json()["status"]) == (201, "held")
        assert world.balance()["points_available"] == 5


class TestRefusals:
    def test_refusals_are_the_routes_own(self, client):
        world = Town.standard(client)
        world.award(3)
        redeem(world, 1)  # cached: what follows is offered to the fast path first

        overdrawn = redeem(world, 50)
        by_a_member = redeem(world, 1, {**world.member, **key()})
        redeem(world, 1, {**world.member, **key()})
        by_a_cached_member = redeem(world, 1, {**world.member, **key()})
        without_key = redeem(world, 1, world.merchant)
        bad_body = redeem(world, 0)
        extra_field = redeem(world, 1, surprise=True)
        not_json = client.post("/v1/redemptions", headers={**world.merchant, **key()},
                               content=b"member_id=1")

        assert (overdrawn.status_code, problem_type(overdrawn)) == (409, "insufficient-balance")
        assert by_a_member.status_code == by_a_cached_member.status_code == 403
        assert by_a_member.json() == by_a_cached_member.json()
        assert (without_key.status_code,
                problem_type(without_key)) == (400, "idempotency-key-required")
        assert (bad_body.status_code, problem_type(bad_body)) == (422, "validation-error")
        assert (extra_field.status_code, problem_type(extra_field)) == (422, "validation-error")
        assert not_json.status_code == 422
        assert world.balance()["points"] == 2  # only the first redemption happened

    def test_bodies_the_guards_refuse_are_refused_by_them(self, client):
        """The fast path stands in front of the body limit and the JSON guard: what they
        refuse, it passes on to them."""
        world = Town.standard(client)
        world.award(3)
        redeem(world, 1)  # cached
        member = f'"member_id":"{world.member_id}"'

        def raw(content: bytes, **headers: str):
            return client.post("/v1/redemptions", content=content, headers={
                **world.merchant, **key(), "Content-Type": "application/json", **headers})

        twice = raw(f'{{{member},"points":1,"points":2}}'.encode())
        nul = raw(f'{{{member},"points":1,"description":"a\\u0000b"}}'.encode())
        deep = raw(f'{{{member},"points":1,"description":'.encode() + b"[" * 40
                   + b"]" * 40 + b"}")
        not_utf8 = raw(f'{{{member},"points":1,"description":"'.encode() + b'\xff"}')
        too_long = raw(f'{{{member},"points":1,"description":"{"x" * 70_000}"}}'.encode())

        def streamed():
            yield f'{{{member},"points":1}}'.encode()

        chunked = client.post("/v1/redemptions", content=streamed(), headers={
            **world.merchant, **key(), "Content-Type": "application/json"})

        assert [(r.status_code, problem_type(r)) for r in (twice, nul, deep, not_utf8)] == [
            (422, "validation-error"), (422, "validation-error"), (422, "validation-error"),
            (422, "malformed-json")]
        assert (too_long.status_code, problem_type(too_long)) == (413, "payload-too-large")
        assert chunked.status_code == 201  # no declared length: the route's, and it is done
        assert world.balance()["points"] == 1

    def test_an_unexpected_failure_is_a_500_problem_and_nothing_done(self, client,
                                                                     monkeypatch):
        world = Town.standard(client)
        world.award(3)
        redeem(world, 1)  # cached

        def broken(*_: object) -> None:
            raise RuntimeError("the writer broke")

        monkeypatch.setattr("api.fastpath.run_keyed", broken)
        failed = redeem(world, 1)

        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        assert problem_type(failed) == "internal-error"
        assert world.balance()["points"] == 2

    def test_a_cached_token_is_still_rate_limited(self, settings):
        limited = settings.model_copy(update={"rate_limit_per_second": 0.5,
                                              "rate_limit_burst": 10})
        linli = open_linli(limited)
        admin = auth(limited.admin_token or "")
        with TestClient(create_app(linli=linli), headers=admin) as client:
            world = Town.standard(client, name=f"c{uuid.uuid4().hex[:6]}")
            world.award(100)
            answers = [redeem(world, 1) for _ in range(20)]
        linli.close()

        refused = [r for r in answers if r.status_code == 429]
        assert len(refused) >= 8
        assert problem_type(refused[-1]) == "rate-limited"
        assert int(refused[-1].headers["Retry-After"]) >= 1
        assert sum(r.status_code == 201 for r in answers) == 20 - len(refused)
