"""Bad and hostile request bodies, shared by tests/e2e and tests/reliability: the bodies the
two calls that move points take, the problem+json answer they expect, and the books that must
not move. tests/conftest.py turns these into the `world` and `books` fixtures."""

from __future__ import annotations

import json

from tests.scenario import key

PROBLEM_JSON = "application/problem+json"
BODY_MAX_BYTES = 64 * 1024
STARTING_POINTS = 100

REDEMPTION = "redemption"
AWARD = "award"
ENDPOINTS = (REDEMPTION, AWARD)
AMOUNT_FIELD = {REDEMPTION: "points", AWARD: "quantity"}
TEXT_FIELD = {REDEMPTION: "description", AWARD: "note"}


def good_body(world, endpoint):
    if endpoint == REDEMPTION:
        return {"member_id": world.member_id, "points": 1, "description": "大米"}
    return {"member_id": world.member_id, "rule_code": "GIFT", "quantity": 1, "note": "扫楼道"}


def with_raw_amount(world, endpoint, raw):
    """A good body as JSON text, its amount replaced by the raw JSON text `raw`."""
    body = good_body(world, endpoint)
    body[AMOUNT_FIELD[endpoint]] = "__AMOUNT__"
    return json.dumps(body, ensure_ascii=False).replace('"__AMOUNT__"', raw).encode()


def post_raw(world, endpoint, content):
    """POST `content` as JSON; a redemption gets a fresh Idempotency-Key."""
    if endpoint == REDEMPTION:
        path, headers = "/v1/redemptions", {**world.merchant, **key()}
    else:
        path, headers = "/v1/awards", dict(world.staff)
    return world.client.post(path, content=content,
                             headers={**headers, "Content-Type": "application/json"})


def assert_problem(response, status, slug=None):
    """A problem+json answer with one of the `status` codes (an int or a tuple of them)."""
    allowed = status if isinstance(status, tuple) else (status,)
    assert response.status_code in allowed, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if slug is not None:
        assert body["type"].endswith(f"/{slug}"), body["type"]


class Books:
    """What must not move: the event store's last position and the member's balance."""

    def __init__(self, world, linli):
        self.world, self.linli = world, linli
        self.position = linli.app.recorder.max_notification_id()

    def assert_unchanged(self):
        assert self.linli.app.recorder.max_notification_id() == self.position
        balance = self.world.balance()
        assert (balance["points"], balance["points_earned"]) == (
            STARTING_POINTS, STARTING_POINTS)

