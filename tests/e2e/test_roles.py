"""Who may do what (tokens, roles, scopes), and the life of an award."""

from __future__ import annotations

import pytest

from tests.scenario import Town, auth, key, ok

PROBLEM_JSON = "application/problem+json"
HIDDEN = (403, 404)


def slug(response):
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    return response.json()["type"].rsplit("/", 1)[-1]


def refused(response, statuses):
    statuses = statuses if isinstance(statuses, tuple) else (statuses,)
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    return response.json()


def passbook(world, member_id=None):
    body = ok(world.client.get(f"/v1/members/{member_id or world.member_id}/passbook",
                               headers=world.staff))
    return [(i["kind"], i["amount"]) for i in body["items"]]


def award(world, rule_code="GIFT", member_id=None, **amount):
    return world.client.post("/v1/awards", headers=world.staff, json={
        "member_id": member_id or world.member_id, "rule_code": rule_code, **amount})


def put_rule(world, code, **rule):
    ok(world.client.put(f"/v1/communities/{world.community_id}/rules/{code}",
                        headers=world.staff, json={"name": code.lower(), **rule}))


@pytest.fixture
def world(client):
    return Town.standard(client)


class TestTokens:
    def test_missing_token_is_unauthorized(self, world, client):
        del client.headers["Authorization"]

        responses = [client.get(f"/v1/members/{world.member_id}/balance"),
                     client.post("/v1/communities", json={"name": "无名社区"})]

        for response in responses:
            refused(response, 401)
            assert slug(response) == "unauthorized"
            assert response.headers["www-authenticate"].lower().startswith("bearer")

    def test_unknown_token_is_unauthorized(self, world, client):
        response = client.get(f"/v1/members/{world.member_id}/balance",
                              headers=auth("lnl_not-a-token-anyone-was-given"))

        refused(response, 401)
        assert slug(response) == "unauthorized"

    def test_revoked_token_is_unauthorized_afterwards(self, world, client):
        issued = ok(client.post("/v1/api-keys", json={
            "role": "merchant", "merchant_id": world.merchant_id, "label": "2号收银台"}), 201)
        till = auth(issued["token"])
        world.award(10)
        ok(client.post("/v1/redemptions", headers={**till, **key()}, json={
            "member_id": world.member_id, "points": 1}), 201)

        revoked = client.delete(f"/v1/api-keys/{issued['id']}")
        after = client.post("/v1/redemptions", headers={**till, **key()}, json={
            "member_id": world.member_id, "points": 1})

        assert revoked.status_code == 204
        refused(after, 401)
        assert world.balance()["points"] == 9
        ok(world.redeem(1), 201)  # the merchant's other token still works


class TestMerchant:
    def test_merchant_cannot_award_nor_read_a_members_passbook_or_balance(self, world):
        world.award(7)

        awarded = world.client.post("/v1/awards", headers=world.merchant, json={
            "member_id": world.member_id, "rule_code": "GIFT", "quantity": 5})
        passbook_read = world.client.get(f"/v1/members/{world.member_id}/passbook",
                                         headers=world.merchant)
        balance_read = world.client.get(f"/v1/members/{world.member_id}/balance",
                                        headers=world.merchant)

        refused(awarded, 403)
        assert "items" not in refused(passbook_read, 403)
        assert "points" not in refused(balance_read, 403)
        assert world.balance()["points"] == 7

    def test_merchant_cannot_refund_another_merchants_redemption(self, world, client):
        world.award(20)
        redemption = ok(world.redeem(10), 201)
        other = ok(client.post("/v1/merchants", json={
            "community_id": world.community_id, "name": "隔壁小卖部"}), 201)
        other_till = world.token(role="merchant", merchant_id=other["id"])

        response = client.post(f"/v1/redemptions/{redemption['id']}/refunds",
                               headers={**other_till, **key()}, json={"points": 10})

        body = refused(response, HIDDEN)
        assert "balance_after" not in body
        assert world.balance()["points"] == 10
        assert passbook(world) == [("redemption", -10), ("award", 20)]
        own = ok(client.post(f"/v1/redemptions/{redemption['id']}/refunds",
                             headers={**world.merchant, **key()}, json={"points": 10}), 201)
        assert own["balance_after"] == 20


class TestMember:
    def test_member_reads_its_own_balance_but_not_another_members(self, world):
        world.award(7)
        neighbour = world.add_member("王五")
        world.award(987, member_id=neighbour)

        own_balance = ok(world.client.get(f"/v1/members/{world.member_id}/balance",
                                          headers=world.member))
        own_passbook = ok(world.client.get(f"/v1/members/{world.member_id}/passbook",
                                           headers=world.member))
        others = [
            world.client.get(f"/v1/members/{neighbour}/balance", headers=world.member),
            world.client.get(f"/v1/members/{neighbour}/passbook", headers=world.member),
            world.client.get(f"/v1/members/{neighbour}", headers=world.member),
        ]

        assert own_balance["points"] == 7
        assert [(i["kind"], i["amount"]) for i in own_passbook["items"]] == [("award", 7)]
        for response in others:
            body = refused(response, HIDDEN)
            assert not {"points", "items", "name", "passbook_no"} & body.keys()
            assert "987" not in response.text
            assert "王五" not in response.text

    def test_member_cannot_award_or_redeem(self, world):
        world.award(10)

        awarded = world.client.post("/v1/awards", headers=world.member, json={
            "member_id": world.member_id, "rule_code": "GIFT", "quantity": 5})
        redeemed = world.client.post("/v1/redemptions", headers={**world.member, **key()},
                                     json={"member_id": world.member_id, "points": 5})

        refused(awarded, 403)
        refused(redeemed, 403)
        assert world.balance()["points"] == 10


class TestCommunityScope:
    def test_staff_cannot_read_or_register_in_another_community(self, world, client, linli):
        other = Town.standard(client, name="117社区")
        other.award(55)
        ok(other.client.put(f"/v1/communities/{other.community_id}/rules/CLEAN",
                            headers=other.staff, json={"name": "清洁", "points": 2,
                                                       "unit": "each",
                                                       "requires_approval": True}))
        pending = ok(award(other, "CLEAN", quantity=1), 201)
        position = linli.app.recorder.max_notification_id()

        responses = [
            client.get(f"/v1/communities/{other.community_id}", headers=world.staff),
            client.get(f"/v1/members/{other.member_id}", headers=world.staff),
            client.get(f"/v1/members/{other.member_id}/balance", headers=world.staff),
            client.get(f"/v1/members/{other.member_id}/passbook", headers=world.staff),
            client.post("/v1/members", headers=world.staff, json={
                "community_id": other.community_id, "name": "冒名者"}),
            client.post("/v1/merchants", headers=world.staff, json={
                "community_id": other.community_id, "name": "冒名商户"}),
            client.put(f"/v1/communities/{other.community_id}/rules/GIFT",
                       headers=world.staff, json={"name": "改规则", "points": 100,
                                                  "unit": "each"}),
            client.post("/v1/awards", headers=world.staff, json={
                "member_id": other.member_id, "rule_code": "GIFT", "quantity": 5}),
            client.post(f"/v1/awards/{pending['id']}/approve", headers=world.staff),
            client.post("/v1/api-keys", headers=world.staff, json={
                "role": "member", "member_id": other.member_id}),
        ]

        for response in responses:
            body = refused(response, HIDDEN)
            assert not {"points", "items", "name", "passbook_no", "token"} & body.keys()
            assert "张三" not in response.text
        assert linli.app.recorder.max_notification_id() == position
        assert other.balance()["points"] == 55

    def test_merchant_cannot_redeem_a_member_of_another_community(self, world, client):
        other = Town.standard(client, name="117社区")
        other.award(30)

        response = world.redeem(5, member_id=other.member_id)

        refused(response, HIDDEN)
        assert other.balance()["points"] == 30
        assert world.balance()["points"] == 0


class TestAuditor:
    def test_auditor_reads_balances_but_cannot_award(self, world):
        world.award(12)

        balance = ok(world.client.get(f"/v1/members/{world.member_id}/balance",
                                      headers=world.auditor))
        lines = ok(world.client.get(f"/v1/members/{world.member_id}/passbook",
                                    headers=world.auditor))
        awarded = world.client.post("/v1/awards", headers=world.auditor, json={
            "member_id": world.member_id, "rule_code": "GIFT", "quantity": 5})

        assert balance["points"] == 12
        assert [(i["kind"], i["amount"]) for i in lines["items"]] == [("award", 12)]
        refused(awarded, 403)
        assert world.balance()["points"] == 12


class TestAdjustments:
    def test_auditor_may_adjust_below_zero_and_then_nothing_can_be_redeemed(self, world):
        world.award(5)

        response = world.client.post("/v1/adjustments", headers=world.auditor, json={
            "member_id": world.member_id, "asset": "POINTS", "amount": -8,
            "reason": "重复发放，冲正"})
        redeemed = world.redeem(1)

        adjusted = ok(response, 201)
        assert adjusted["balance_after"] == -3
        assert passbook(world) == [("adjustment", -8), ("award", 5)]
        refused(redeemed, 409)
        assert slug(redeemed) == "insufficient-balance"
        assert world.balance()["points"] == -3

    def test_staff_merchant_and_member_may_not_adjust(self, world):
        responses = [world.client.post("/v1/adjustments", headers=headers, json={
            "member_id": world.member_id, "asset": "POINTS", "amount": 100, "reason": "送分"})
            for headers in (world.staff, world.merchant, world.member)]

        for response in responses:
            refused(response, 403)
        assert world.balance()["points"] == 0


class TestAwardApproval:
    def test_pending_award_moves_nothing_until_approved(self, world):
        put_rule(world, "CLEAN", points=3, unit="each", requires_approval=True)

        pending = ok(award(world, "CLEAN", quantity=2), 201)
        balance_while_pending = world.balance()["points"]
        approved = ok(world.client.post(f"/v1/awards/{pending['id']}/approve",
                                        headers=world.staff))

        assert (pending["status"], pending["points"]) == ("pending", 6)
        assert balance_while_pending == 0
        assert approved["status"] == "posted"
        assert world.balance()["points"] == 6
        assert passbook(world) == [("award", 6)]

    def test_rejected_award_moves_nothing_and_cannot_be_approved(self, world):
        put_rule(world, "CLEAN", points=3, unit="each", requires_approval=True)
        pending = ok(award(world, "CLEAN", quantity=2), 201)

        rejected = ok(world.client.post(f"/v1/awards/{pending['id']}/reject",
                                        headers=world.staff, json={"reason": "无照片为证"}))
        approve = world.client.post(f"/v1/awards/{pending['id']}/approve", headers=world.staff)

        assert (rejected["status"], rejected["reason"]) == ("rejected", "无照片为证")
        refused(approve, 409)
        assert slug(approve) == "invalid-transition"
        assert world.balance()["points"] == 0
        assert passbook(world) == []

    def test_approve_twice_is_an_invalid_transition(self, world):
        put_rule(world, "CLEAN", points=3, unit="each", requires_approval=True)
        pending = ok(award(world, "CLEAN", quantity=1), 201)
        reverse_pending = world.client.post(f"/v1/awards/{pending['id']}/reverse",
                                            headers=world.staff, json={"reason": "误发"})
        ok(world.client.post(f"/v1/awards/{pending['id']}/approve", headers=world.staff))

        again = world.client.post(f"/v1/awards/{pending['id']}/approve", headers=world.staff)

        refused(again, 409)
        assert slug(again) == "invalid-transition"
        refused(reverse_pending, 409)
        assert slug(reverse_pending) == "invalid-transition"
        assert world.balance()["points"] == 3
        assert passbook(world) == [("award", 3)]



class TestAwardReversal:
    def test_reversing_a_posted_award_takes_its_points_back(self, world):
        posted = world.award(10)

        reversed_ = ok(world.client.post(f"/v1/awards/{posted['id']}/reverse",
                                         headers=world.staff, json={"reason": "误发"}))

        assert reversed_["status"] == "reversed"
        assert world.balance()["points"] == 0
        assert [kind for kind, _ in passbook(world)][0] != "award"
        assert sum(amount for _, amount in passbook(world)) == 0

    def test_reversing_spent_points_is_refused(self, world):
        posted = world.award(10)
        ok(world.redeem(8), 201)

        response = world.client.post(f"/v1/awards/{posted['id']}/reverse",
                                     headers=world.staff, json={"reason": "误发"})

        refused(response, 409)
        assert slug(response) == "insufficient-balance"
        assert world.balance()["points"] == 2
        assert passbook(world) == [("redemption", -8), ("award", 10)]



class TestAwardAmounts:
    def test_daily_cap_cuts_points_then_refuses(self, world):
        put_rule(world, "PATROL", points=1, unit="each", daily_cap=5)

        first = ok(award(world, "PATROL", quantity=3), 201)
        cut = ok(award(world, "PATROL", quantity=3), 201)
        none_left = award(world, "PATROL", quantity=1)

        assert (first["points"], cut["points"]) == (3, 2)
        refused(none_left, 409)
        assert slug(none_left) == "cap-reached"
        assert world.balance()["points"] == 5
        assert world.award(4)["points"] == 4  # another rule is not capped

    def test_pending_awards_count_against_the_cap_until_rejected(self, world):
        put_rule(world, "REVIEWED", points=1, unit="each", daily_cap=5, requires_approval=True)
        pending = ok(award(world, "REVIEWED", quantity=5), 201)
        refused(award(world, "REVIEWED", quantity=1), 409)

        ok(world.client.post(f"/v1/awards/{pending['id']}/reject", headers=world.staff,
                             json={"reason": "不符合条件"}))
        again = ok(award(world, "REVIEWED", quantity=4), 201)

        assert (again["status"], again["points"]) == ("pending", 4)

    def test_hourly_rule_pays_for_the_minutes_worked_rounded_down(self, world):
        put_rule(world, "ESCORT", points=10, unit="hour")

        paid = ok(award(world, "ESCORT", minutes=90), 201)
        short = ok(award(world, "ESCORT", minutes=11), 201)

        assert (paid["status"], paid["points"]) == ("posted", 15)
        assert short["points"] == 1
        assert world.balance()["points"] == 16
