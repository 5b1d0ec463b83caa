"""Idempotency-Key on redemptions and refunds: a retry answers the same and changes nothing."""

from __future__ import annotations

import uuid

from tests.scenario import Town, ok, problem_type

PROBLEM_JSON = "application/problem+json"


def redeem(world, points, idempotency_key, merchant=None, **extra):
    headers = {**(merchant or world.merchant), "Idempotency-Key": idempotency_key}
    return world.client.post("/v1/redemptions", headers=headers, json={
        "member_id": world.member_id, "points": points, "description": "大米", **extra})


def refund(world, redemption_id, points, idempotency_key, merchant=None):
    headers = {**(merchant or world.merchant), "Idempotency-Key": idempotency_key}
    return world.client.post(f"/v1/redemptions/{redemption_id}/refunds", headers=headers,
                             json={"points": points})


def passbook(world, member_id=None):
    body = ok(world.client.get(f"/v1/members/{member_id or world.member_id}/passbook",
                               headers=world.staff, params={"limit": 500}))
    return [(i["kind"], i["amount"]) for i in body["items"]]


def without_keys(world, redemption_id):
    """A redemption and a refund sent without an Idempotency-Key."""
    return [
        world.client.post("/v1/redemptions", headers=world.merchant, json={
            "member_id": world.member_id, "points": 5, "description": "大米"}),
        world.client.post(f"/v1/redemptions/{redemption_id}/refunds", headers=world.merchant,
                          json={"points": 4}),
    ]


class TestReplay:
    def test_same_key_same_body_replays_the_first_response_and_redeems_once(self, client):
        world = Town.standard(client)
        world.award(20)
        same = uuid.uuid4().hex

        first = redeem(world, 5, same)
        second = redeem(world, 5, same)
        third = redeem(world, 5, same)

        assert first.status_code == second.status_code == third.status_code == 201
        assert second.content == first.content
        assert third.content == first.content
        assert world.balance()["points"] == 15
        assert passbook(world) == [("redemption", -5), ("award", 20)]

    def test_same_key_different_body_is_refused_and_changes_nothing(self, client):
        world = Town.standard(client)
        world.award(20)
        same = uuid.uuid4().hex
        first = redeem(world, 5, same)

        other_points = redeem(world, 6, same)
        other_text = redeem(world, 5, same, description="食用油")

        for response in (other_points, other_text):
            assert response.status_code == 422
            assert problem_type(response) == "idempotency-key-reused"
        assert world.balance()["points"] == 15
        assert passbook(world) == [("redemption", -5), ("award", 20)]
        assert redeem(world, 5, same).content == first.content

    def test_missing_key_is_refused_and_changes_nothing(self, client):
        world = Town.standard(client)
        world.award(20)
        redemption = ok(world.redeem(10), 201)

        responses = without_keys(world, redemption["id"])

        for response in responses:
            assert 400 <= response.status_code < 500, response.text
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert world.balance()["points"] == 10
        assert passbook(world) == [("redemption", -10), ("award", 20)]

    def test_missing_key_is_answered_400_idempotency_key_required(self, client):
        world = Town.standard(client)
        world.award(20)
        redemption = ok(world.redeem(10), 201)

        responses = without_keys(world, redemption["id"])

        for response in responses:
            assert response.status_code == 400, response.text
            assert problem_type(response) == "idempotency-key-required"

    def test_a_refusal_is_replayed_even_after_the_member_can_pay(self, client):
        world = Town.standard(client)
        world.award(3)
        same = uuid.uuid4().hex
        first = redeem(world, 10, same)
        assert first.status_code == 409
        assert problem_type(first) == "insufficient-balance"

        world.award(50)
        retried = redeem(world, 10, same)

        assert retried.status_code == 409
        assert retried.content == first.content
        assert world.balance()["points"] == 53
        assert passbook(world) == [("award", 50), ("award", 3)]
        assert ok(redeem(world, 10, uuid.uuid4().hex), 201)["balance_after"] == 43


class TestKeyScope:
    def test_two_merchants_may_use_the_same_key_independently(self, client):
        world = Town.standard(client)
        world.award(20)
        other = ok(client.post("/v1/merchants", json={
            "community_id": world.community_id, "name": "便民理发店"}), 201)
        other_till = world.token(role="merchant", merchant_id=other["id"])
        same = "till-receipt-0001"

        at_first = ok(redeem(world, 5, same), 201)
        at_other = ok(redeem(world, 7, same, merchant=other_till), 201)

        assert at_first["merchant_id"] == world.merchant_id
        assert at_other["merchant_id"] == other["id"]
        assert at_other["id"] != at_first["id"]
        assert at_other["balance_after"] == 8
        assert world.balance()["points"] == 8
        assert passbook(world) == [("redemption", -7), ("redemption", -5), ("award", 20)]


class TestRefunds:
    def test_same_key_same_refund_replays_and_refunds_once(self, client):
        world = Town.standard(client)
        world.award(20)
        redemption = ok(world.redeem(10), 201)
        same = uuid.uuid4().hex

        first = refund(world, redemption["id"], 4, same)
        second = refund(world, redemption["id"], 4, same)

        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        body = first.json()
        assert (body["redemption_id"], body["points"], body["balance_after"]) == (
            redemption["id"], 4, 14)
        assert world.balance()["points"] == 14
        assert passbook(world) == [("refund", 4), ("redemption", -10), ("award", 20)]

    def test_same_key_different_refund_is_refused_and_changes_nothing(self, client):
        world = Town.standard(client)
        world.award(20)
        redemption = ok(world.redeem(10), 201)
        same = uuid.uuid4().hex
        first = refund(world, redemption["id"], 4, same)

        other_points = refund(world, redemption["id"], 3, same)
        used_for_redemption = redeem(world, 1, same)

        for response in (other_points, used_for_redemption):
            assert response.status_code == 422
            assert problem_type(response) == "idempotency-key-reused"
        assert world.balance()["points"] == 14
        assert refund(world, redemption["id"], 4, same).content == first.content

    def test_partial_refunds_add_up_to_the_redemption(self, client):
        world = Town.standard(client)
        world.award(20)
        redemption = ok(world.redeem(10), 201)

        first = ok(refund(world, redemption["id"], 3, uuid.uuid4().hex), 201)
        second = ok(refund(world, redemption["id"], 7, uuid.uuid4().hex), 201)
        more = refund(world, redemption["id"], 1, uuid.uuid4().hex)

        assert (first["balance_after"], second["balance_after"]) == (13, 20)
        assert more.status_code == 409
        assert problem_type(more) == "refund-exceeds-redemption"
        assert world.balance()["points"] == 20
        assert passbook(world) == [
            ("refund", 7), ("refund", 3), ("redemption", -10), ("award", 20)]

    def test_refund_more_than_what_is_left_is_refused_and_changes_nothing(self, client):
        world = Town.standard(client)
        world.award(20)
        redemption = ok(world.redeem(10), 201)
        more_than_all = refund(world, redemption["id"], 11, uuid.uuid4().hex)
        ok(refund(world, redemption["id"], 6, uuid.uuid4().hex), 201)
        same = uuid.uuid4().hex

        too_much = refund(world, redemption["id"], 5, same)
        retried = refund(world, redemption["id"], 5, same)

        for response in (more_than_all, too_much):
            assert response.status_code == 409
            assert problem_type(response) == "refund-exceeds-redemption"
        assert retried.status_code == 409
        assert retried.content == too_much.content
        assert world.balance()["points"] == 16
        assert passbook(world) == [("refund", 6), ("redemption", -10), ("award", 20)]
        rest = ok(refund(world, redemption["id"], 4, uuid.uuid4().hex), 201)
        assert rest["balance_after"] == 20
