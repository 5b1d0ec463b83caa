"""POST /v1/awards/approvals: many pending awards approved at once, each standing alone (◆)."""

from __future__ import annotations

import uuid

from tests.scenario import Town, key, ok, problem_type


def test_each_award_stands_alone_and_a_retry_answers_the_same_bytes(client):
    town = Town.standard(client)
    town.add_rule("CHECK", 5, requires_approval=True)
    pending = [town.award(1, code="CHECK")["id"] for _ in range(3)]
    rejected = town.award(1, code="CHECK")["id"]
    ok(client.post(f"/v1/awards/{rejected}/reject", headers=town.staff, json={"reason": "重复"}))
    stranger = Town.standard(client, "别的社区")
    stranger.add_rule("CHECK", 5, requires_approval=True)
    theirs = stranger.award(1, code="CHECK")["id"]
    asked = [*pending, rejected, theirs]
    headers = {**town.staff, "Idempotency-Key": uuid.uuid4().hex}

    first = client.post("/v1/awards/approvals", json={"award_ids": asked}, headers=headers)

    items = ok(first)["items"]
    assert [i["award_id"] for i in items] == asked
    assert [i["status"] for i in items] == [200, 200, 200, 409, 404]
    assert [i["award"]["status"] for i in items[:3]] == ["posted"] * 3
    assert [i["problem"]["type"].rsplit("/", 1)[-1] for i in items[3:]] == [
        "invalid-transition", "not-found"]
    assert items[3]["problem"]["detail"]  # in Chinese, from the catalogue
    assert town.balance()["points"] == 15
    again = client.post("/v1/awards/approvals", json={"award_ids": asked}, headers=headers)
    assert (again.status_code, again.content) == (200, first.content)
    assert town.balance()["points"] == 15


def test_a_key_is_required_an_award_twice_is_refused_and_others_may_not(client):
    town = Town.standard(client)
    town.add_rule("CHECK", 5, requires_approval=True)
    award = town.award(1, code="CHECK")["id"]
    body = {"award_ids": [award]}
    missing = client.post("/v1/awards/approvals", json=body, headers=town.staff)
    assert (missing.status_code, problem_type(missing)) == (400, "idempotency-key-required")
    twice = client.post("/v1/awards/approvals", json={"award_ids": [award, award]},
                        headers={**town.staff, **key()})
    assert twice.status_code == 422
    empty = client.post("/v1/awards/approvals", json={"award_ids": []},
                        headers={**town.staff, **key()})
    assert empty.status_code == 422
    for role in (town.member, town.merchant, town.auditor):
        refused = client.post("/v1/awards/approvals", json=body, headers={**role, **key()})
        assert refused.status_code == 403, refused.text
    assert town.balance()["points"] == 0
