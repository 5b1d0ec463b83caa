"""Problems speak Chinese unless English is asked for; their slugs never change."""

from __future__ import annotations

from tests.scenario import key, ok

EN = {"Accept-Language": "en-US,en;q=0.9"}


def _problem(response, status, slug):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"].endswith("/" + slug)
    return body


def test_a_validation_error_in_chinese_by_default_and_in_english_on_request(world):
    body = {"member_id": world.member_id, "points": 0, "description": "大米"}
    chinese = _problem(world.client.post("/v1/redemptions", json=body,
                                         headers={**world.merchant, **key()}),
                       422, "validation-error")
    english = _problem(world.client.post("/v1/redemptions", json=body,
                                         headers={**world.merchant, **key(), **EN}),
                       422, "validation-error")

    assert chinese["title"] == "填写的内容不符合要求"
    assert chinese["detail"] == "积分必须是1到1000000之间的整数"
    assert english["detail"] == "points must be a whole number from 1 to 1000000"

    path = "/v1/redemptions/not-an-id/refunds"
    odd = _problem(world.client.post(path, json={"points": 1},
                                     headers={**world.merchant, **key(), "Accept-Language": "fr"}),
                   422, "validation-error")
    assert odd["detail"] == "地址中的兑换编号不是有效的编号"


def test_a_refund_after_settlement_says_the_shop_is_short_in_either_language(world):
    redeemed = ok(world.redeem(2), 201)
    ok(world.client.post(f"/v1/merchants/{world.merchant_id}/settlements", json={},
                         headers={**world.staff, **key()}), 201)
    path = f"/v1/redemptions/{redeemed['id']}/refunds"

    chinese = _problem(world.client.post(path, json={"points": 2},
                                         headers={**world.merchant, **key()}),
                       409, "insufficient-balance")
    english = _problem(world.client.post(path, json={"points": 2},
                                         headers={**world.merchant, **key(), **EN}),
                       409, "insufficient-balance")

    assert chinese["title"] == "余额不足"
    assert chinese["detail"].startswith("商户未结算的积分只有0分，不够退还2分")
    assert english["title"] == "Not enough available balance"
    assert "unsettled" in english["detail"]


def test_an_unknown_passbook_number_and_a_missing_token(world):
    found = _problem(world.client.get("/v1/passbooks/NO-SUCH", headers=world.staff),
                     404, "not-found")
    assert found["detail"] == "没有找到这个存折号的居民，请核对存折号"
    anonymous = _problem(world.client.get("/v1/communities", headers={
        "Authorization": "", **EN}), 401, "unauthorized")
    assert anonymous["title"] == "Unauthorized"


def test_a_replay_keeps_its_first_words_and_the_language_is_no_part_of_the_request(world):
    headers = {**world.merchant, **key()}
    body = {"member_id": world.member_id, "points": 999_999, "description": "大米"}
    first = world.client.post("/v1/redemptions", json=body, headers=headers)
    again = world.client.post("/v1/redemptions", json=body, headers={**headers, **EN})
    assert first.status_code == again.status_code == 409
    assert again.content == first.content  # replayed, not `idempotency-key-reused`

    batch = world.client.post("/v1/awards/batch", headers={**world.staff, **key(), **EN}, json={
        "rule_code": "GIFT", "member_ids": [world.member_id, world.merchant_id],
        "quantity": 1})
    refused = ok(batch, 201)["items"][1]["problem"]
    assert refused["title"] == "Not found"
