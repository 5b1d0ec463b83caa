"""POST /v1/awards/batch: one rule for many members, each award standing alone (◆)."""

from __future__ import annotations

import uuid

from tests.scenario import Town, key, ok, problem_type


def batch(town: Town, body: dict, headers: dict | None = None):  # type: ignore[type-arg]
    return town.client.post("/v1/awards/batch", json={"rule_code": "VOL", **body},
                            headers={**(headers if headers is not None else town.staff),
                                     **key()})


def test_each_member_stands_alone_and_a_retry_answers_the_same_bytes(client, linli):
    town = Town.standard(client)
    town.add_rule("VOL", 10, "hour", daily_cap=15)
    capped = town.add_member("李四")
    town.award(member_id=capped, code="VOL", minutes=90)  # 15: the day's cap is reached
    gone = town.add_member("王五")
    ok(client.patch(f"/v1/members/{gone}", headers=town.staff,
                    json={"status": "moved_out", "reason": "搬走了"}))
    stranger = Town.standard(client, "别的社区").member_id
    members = [town.member_id, capped, gone, stranger]
    headers = {**town.staff, "Idempotency-Key": uuid.uuid4().hex}
    body = {"rule_code": "VOL", "member_ids": members, "minutes": 60, "note": "清扫楼道"}
    first = client.post("/v1/awards/batch", json=body, headers=headers)
    items = ok(first, 201)["items"]
    assert [i["member_id"] for i in items] == members
    assert [i["status"] for i in items] == [201, 409, 409, 404]
    assert items[0]["award"]["points"] == 10 and items[0]["problem"] is None
    assert [i["problem"]["type"].rsplit("/", 1)[-1] for i in items[1:]] == [
        "cap-reached", "member-inactive", "not-found"]
    assert town.balance()["points"] == 10
    again = client.post("/v1/awards/batch", json=body, headers=headers)
    assert (again.status_code, again.content) == (201, first.content)
    assert town.balance()["points"] == 10


def test_a_key_is_required_and_a_member_twice_refuses_the_whole_batch(client):
    town = Town.standard(client)
    town.add_rule("VOL", 10, "hour")
    body = {"rule_code": "VOL", "member_ids": [town.member_id], "minutes": 60}
    missing = client.post("/v1/awards/batch", json=body, headers=town.staff)
    assert (missing.status_code, problem_type(missing)) == (400, "idempotency-key-required")
    twice = batch(town, {"member_ids": [town.member_id, town.member_id], "minutes": 60})
    assert twice.status_code == 422
    assert batch(town, {"member_ids": [], "minutes": 60}).status_code == 422
    too_many = [str(uuid.uuid4()) for _ in range(501)]
    assert batch(town, {"member_ids": too_many, "minutes": 60}).status_code == 422
    assert town.balance()["points"] == 0


def test_a_bad_request_for_the_rule_refuses_every_member_alike(client):
    town = Town.standard(client)
    town.add_rule("VOL", 10, "hour")
    other = town.add_member()
    items = ok(batch(town, {"member_ids": [town.member_id, other], "quantity": 2}),
               201)["items"]
    assert [i["status"] for i in items] == [422, 422]
    unknown = ok(batch(town, {"rule_code": "NOPE", "member_ids": [other]}), 201)["items"]
    assert unknown[0]["status"] == 404


def test_members_and_merchants_may_not_award_in_bulk(client):
    town = Town.standard(client)
    town.add_rule("VOL", 10, "hour")
    for headers in (town.member, town.merchant, town.auditor):
        refused = batch(town, {"member_ids": [town.member_id], "minutes": 60}, headers)
        assert refused.status_code == 403
    assert town.balance()["points"] == 0


def test_many_members_in_one_request(client):
    town = Town.standard(client)
    town.add_rule("VOL", 10, "hour")
    members = [town.member_id] + [town.add_member(f"居民{i}") for i in range(29)]
    items = ok(batch(town, {"member_ids": members, "minutes": 30}), 201)["items"]
    assert {i["status"] for i in items} == {201}
    assert town.balance(members[-1])["points"] == 5
