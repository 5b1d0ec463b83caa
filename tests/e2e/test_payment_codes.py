"""Consent at the till (付款码) through the real app, on both backends: a member's payment code,
issued to the member's own token or at the staff's counter, is what a till needs to take points
where the community asks for consent; it is consumed once, by the one redemption or hold that
succeeds with it, and every refusal moves nothing."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import open_linli
from harness.serving import serving
from tests.conftest import ADMIN_TOKEN
from tests.e2e.at_the_till import (
    CODE,
    Clock,
    all_events,
    assert_untouched,
    code_of,
    community,
    hand_clock,
    hold,
    in_chinese,
    issue,
    pay,
    problem,
    set_consent,
    statement,
    when,
)
from tests.scenario import Town, auth, key, ok


@pytest.fixture
def clock(linli: Any) -> Clock:
    return hand_clock(linli)

class TestPolicy:
    def test_a_new_community_asks_for_a_payment_code(self, client):
        created = ok(client.post("/v1/communities", json={"name": "新建社区"}), 201)
        town = Town(client, created["id"])
        town.add_rule("GIFT", 1)
        town.cast()
        town.award(10)

        policy = ok(client.get(f"/v1/communities/{town.community_id}/policy"))
        refused = pay(town, 3, member_id=town.member_id)

        assert policy["redemption_consent"] == "payment_code"
        assert problem(refused) == (403, "payment-code-required")
        assert_untouched(town, 10)

    def test_the_policy_chosen_is_shown_and_a_policy_without_it_asks_for_codes(self, client):
        town = community(client, "payment_code")
        url = f"/v1/communities/{town.community_id}/policy"

        chosen = set_consent(town, "member_id")
        shown = ok(client.get(url, headers=town.staff))
        replaced = set_consent(town, None)  # PUT replaces the whole policy

        assert chosen["redemption_consent"] == shown["redemption_consent"] == "member_id"
        assert replaced["redemption_consent"] == "payment_code"
        assert ok(client.get(url, headers=town.staff))["redemption_consent"] == "payment_code"

    def test_an_unknown_consent_is_refused(self, client):
        town = community(client, "member_id")

        response = client.put(f"/v1/communities/{town.community_id}/policy", json={
            "points_expiry": "never", "n": 0, "redemption_consent": "anything"})

        assert problem(response) == (422, "validation-error")
        assert ok(client.get(f"/v1/communities/{town.community_id}/policy"))[
            "redemption_consent"] == "member_id"


# --- issuing codes --------------------------------------------------------------------------
class TestIssuing:
    def test_the_member_gets_an_18_digit_code_living_a_minute(self, client, clock):
        town = community(client)

        response = issue(town)

        body = ok(response, 201)
        assert CODE.fullmatch(body["code"]), body
        assert body["member_id"] == town.member_id
        lives = when(body["expires_at"]) - clock.now
        assert timedelta(seconds=59) <= lives <= timedelta(seconds=61), body

    def test_staff_of_its_community_and_an_admin_issue_codes(self, client):
        town = community(client)

        by_staff = ok(issue(town, town.staff), 201)
        by_admin = ok(issue(town, {}), 201)

        assert by_staff["member_id"] == by_admin["member_id"] == town.member_id
        assert CODE.fullmatch(by_staff["code"]) and CODE.fullmatch(by_admin["code"])
        assert by_staff["code"] != by_admin["code"]

    def test_a_merchant_is_forbidden_and_others_are_not_told_the_member_exists(self, client):
        town = community(client)
        neighbour = town.add_member("李四")
        neighbours_token = town.token(role="member", member_id=neighbour)
        elsewhere = community(client)

        by_merchant = issue(town, town.merchant)
        by_neighbour = issue(town, neighbours_token)
        by_other_staff = issue(town, elsewhere.staff)
        by_other_member = issue(town, elsewhere.member)
        nobody = issue(town, {}, member_id=str(uuid.uuid4()))

        assert problem(by_merchant)[0] == 403
        for response in (by_neighbour, by_other_staff, by_other_member, nobody):
            assert problem(response)[0] == 404, response.text

    def test_an_idempotency_key_is_required_and_a_retry_gives_the_same_code(self, client):
        town = community(client)
        url = f"/v1/members/{town.member_id}/payment-codes"
        same = key()

        without = client.post(url, headers=town.member, json={})
        first = issue(town, idempotency=same)
        retried = issue(town, idempotency=same)
        another = issue(town)
        no_body = client.post(url, headers={**town.member, **key()})

        assert problem(without) == (400, "idempotency-key-required")
        assert first.status_code == retried.status_code == 201
        assert retried.json()["code"] == first.json()["code"]
        assert retried.json()["expires_at"] == first.json()["expires_at"]
        assert ok(another, 201)["code"] != first.json()["code"]
        assert CODE.fullmatch(ok(no_body, 201)["code"])


# --- paying with a code ---------------------------------------------------------------------
class TestRedeemingByCode:
    def test_a_code_pays_once_and_is_then_used(self, client):
        town = community(client, points=20)
        code = code_of(town)

        paid = pay(town, 8, payment_code=code)
        again = pay(town, 1, payment_code=code)

        body = ok(paid, 201)
        assert set(body) == {"id", "member_id", "merchant_id", "points", "balance_after"}
        assert (body["member_id"], body["merchant_id"], body["points"],
                body["balance_after"]) == (town.member_id, town.merchant_id, 8, 12)
        assert problem(again) == (409, "payment-code-used")
        assert in_chinese(again)
        assert town.balance()["points"] == 12
        taken = statement(town)
        assert [(i["kind"], i["points"]) for i in taken["items"]] == [("redemption", 8)]
        assert taken["totals"]["redeemed"] == 8

    def test_spaces_and_hyphens_typed_between_digits_are_ignored(self, client):
        town = community(client, points=20)
        code = code_of(town)
        typed = f"{code[:4]} {code[4:8]}-{code[8:12]} - {code[12:]}"

        paid = ok(pay(town, 5, payment_code=typed), 201)
        again = pay(town, 1, payment_code=code)

        assert paid["balance_after"] == 15
        assert problem(again) == (409, "payment-code-used")

    def test_a_retry_with_the_same_key_replays_the_payment_even_once_the_code_expired(
            self, client, clock):
        town = community(client, points=20)
        code = code_of(town)
        same = key()

        first = pay(town, 5, idempotency=same, payment_code=code)
        retried = pay(town, 5, idempotency=same, payment_code=code)
        clock.advance(minutes=5)
        late = pay(town, 5, idempotency=same, payment_code=code)

        assert first.status_code == retried.status_code == late.status_code == 201
        assert retried.content == first.content == late.content
        assert town.balance()["points"] == 15

    def test_a_refused_redemption_leaves_the_code_usable(self, client):
        town = community(client, points=10)
        code = code_of(town)

        too_much = pay(town, 11, payment_code=code)
        paid = pay(town, 10, payment_code=code)

        assert problem(too_much) == (409, "insufficient-balance")
        assert ok(paid, 201)["balance_after"] == 0

    def test_a_code_names_its_member_at_any_till_of_the_community(self, client):
        town = community(client, points=10)
        neighbour = town.add_member("李四")
        town.award(7, neighbour)
        other = town.add_merchant("便民理发店")
        other_till = town.token(role="merchant", merchant_id=other)

        at_other = ok(pay(town, 4, other_till, payment_code=code_of(town)), 201)
        from_counter = ok(pay(town, 3, payment_code=code_of(
            town, town.staff, member_id=neighbour)), 201)

        assert (at_other["member_id"], at_other["merchant_id"], at_other["balance_after"]) == (
            town.member_id, other, 6)
        assert (from_counter["member_id"], from_counter["balance_after"]) == (neighbour, 4)
        assert town.balance()["points"] == 6

    def test_the_code_is_not_recorded_in_clear(self, client):
        town = community(client, points=10)
        code = code_of(town)
        ok(pay(town, 3, payment_code=code), 201)

        events = all_events(client, {})

        assert events
        assert [e["type"] for e in events if code in str(e)] == []


class TestRefusals:
    """Every refusal is 409 (or 403) with a problem in Chinese, and moves nothing."""

    def test_an_unknown_or_malformed_code_is_invalid(self, client):
        town = community(client, points=10)
        code_of(town)  # a live code the till does not have
        typed = ["123456789012345678",  # 18 digits never issued
                 "12345", "1234567890123456789", "12345678901234567a", "",
                 "１２３４５６７８９０１２３４５６７８"]  # full-width digits

        refused = [pay(town, 1, payment_code=code) for code in typed]
        held = [hold(town, 1, payment_code=code) for code in typed]

        assert [problem(r) for r in refused + held] == [
            (409, "payment-code-invalid")] * 2 * len(typed)
        assert in_chinese(refused[0])
        assert_untouched(town, 10)

    def test_another_communitys_members_code_is_invalid_there(self, client):
        here = community(client, points=10)
        there = community(client, points=10)
        code = code_of(there)

        refused = pay(here, 1, payment_code=code)
        held = hold(here, 1, payment_code=code)

        assert problem(refused) == (409, "payment-code-invalid")
        assert problem(held) == (409, "payment-code-invalid")
        assert_untouched(there, 10)
        assert_untouched(here, 10)
        assert ok(pay(there, 1, payment_code=code), 201)["balance_after"] == 9

    def test_a_till_naming_a_member_needs_a_code(self, client):
        town = community(client, "payment_code", points=10)

        refused = [pay(town, 1, member_id=town.member_id) for _ in range(2)]  # route, fast path
        held = hold(town, 1, member_id=town.member_id)

        for response in (*refused, held):
            assert problem(response) == (403, "payment-code-required")
        assert in_chinese(refused[0])
        assert refused[1].json() == refused[0].json()
        assert_untouched(town, 10)

    def test_a_refusal_with_a_used_code_moves_nothing_more(self, client):
        town = community(client, points=10)
        code = code_of(town)
        ok(pay(town, 4, payment_code=code), 201)

        again = pay(town, 1, payment_code=code)
        held = hold(town, 1, payment_code=code)

        assert problem(again) == (409, "payment-code-used")
        assert problem(held) == (409, "payment-code-used")
        balance = town.balance()
        assert (balance["points"], balance["points_held"]) == (6, 0)
        assert statement(town)["totals"]["redeemed"] == 4

    def test_one_way_of_naming_the_member_exactly(self, client):
        town = community(client, "member_id", points=10)
        code = code_of(town)
        bodies = [{"member_id": town.member_id, "payment_code": code},
                  {"payment_code": code, "passbook_no": town.passbook_no, "pin": "123456"},
                  {},
                  {"passbook_no": town.passbook_no},  # without a PIN
                  {"pin": "123456"}]  # without a passbook

        refused = [pay(town, 1, **body) for body in bodies]
        held = [hold(town, 1, **body) for body in bodies]

        assert [problem(r) for r in refused + held] == [
            (422, "validation-error")] * 2 * len(bodies)
        assert_untouched(town, 10)
        assert ok(pay(town, 1, payment_code=code), 201)["balance_after"] == 9  # still usable


class TestExpiry:
    def test_a_code_pays_until_it_expires(self, client, clock):
        town = community(client, points=10)
        on_time, late = code_of(town), code_of(town)

        clock.advance(seconds=59)
        paid = pay(town, 2, payment_code=on_time)
        clock.advance(seconds=2)
        refused = pay(town, 2, payment_code=late)
        held = hold(town, 2, payment_code=late)

        assert ok(paid, 201)["balance_after"] == 8
        assert problem(refused) == (409, "payment-code-invalid")
        assert problem(held) == (409, "payment-code-invalid")
        assert problem(pay(town, 2, payment_code=on_time))[1] in {  # used, then expired
            "payment-code-invalid", "payment-code-used"}
        assert town.balance()["points"] == 8
        assert statement(town)["totals"]["redeemed"] == 2


class TestRestart:
    def test_a_live_code_outlives_a_restart(self, settings):
        admin = auth(ADMIN_TOKEN)
        before = open_linli(settings)
        try:
            with TestClient(create_app(linli=before), headers=admin) as client:
                town = community(client, points=10)
                code = code_of(town)
        finally:
            before.close()
        after = open_linli(settings)
        try:
            with TestClient(create_app(linli=after), headers=admin) as client:
                town.client = client
                paid = pay(town, 1, payment_code=code)
                again = pay(town, 1, payment_code=code)

                assert ok(paid, 201)["balance_after"] == 9
                assert problem(again) == (409, "payment-code-used")
        finally:
            after.close()


class TestExpiryFromTheSetting:
    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update={"payment_code_seconds": 30})

    def test_a_code_lives_as_long_as_the_setting_says(self, client, clock):
        town = community(client, points=10)
        issued_at = clock.now
        issued = ok(issue(town), 201)
        other = code_of(town)

        clock.advance(seconds=29)
        paid = pay(town, 1, payment_code=issued["code"])
        clock.advance(seconds=2)
        refused = pay(town, 1, payment_code=other)

        lives = when(issued["expires_at"]) - issued_at
        assert timedelta(seconds=29) <= lives <= timedelta(seconds=31), issued
        assert ok(paid, 201)["balance_after"] == 9
        assert problem(refused) == (409, "payment-code-invalid")


# --- holds by code --------------------------------------------------------------------------
class TestHoldsByCode:
    def test_a_hold_by_code_holds_and_uses_the_code(self, client):
        town = community(client, points=20)
        code = code_of(town)

        placed = ok(hold(town, 12, payment_code=code), 201)
        again = pay(town, 1, payment_code=code)

        assert (placed["status"], placed["member_id"], placed["merchant_id"],
                placed["points"]) == ("held", town.member_id, town.merchant_id, 12)
        assert problem(again) == (409, "payment-code-used")
        balance = town.balance()
        assert (balance["points"], balance["points_held"], balance["points_available"]) == (
            20, 12, 8)
        captured = ok(client.post(f"/v1/holds/{placed['id']}/capture", headers=town.merchant,
                                  json={"points": 10}))
        assert captured["balance_after"] == 10
        assert statement(town)["totals"]["redeemed"] == 10

    def test_a_voided_holds_code_stays_used(self, client):
        town = community(client, points=20)
        code = code_of(town)
        placed = ok(hold(town, 12, payment_code=code), 201)

        ok(client.post(f"/v1/holds/{placed['id']}/void", headers=town.merchant))
        again = pay(town, 1, payment_code=code)

        assert problem(again) == (409, "payment-code-used")
        assert town.balance()["points_available"] == 20

    def test_a_refused_hold_leaves_the_code_usable(self, client):
        town = community(client, points=5)
        code = code_of(town)

        refused = hold(town, 6, payment_code=code)
        placed = hold(town, 5, payment_code=code)

        assert problem(refused) == (409, "insufficient-balance")
        assert ok(placed, 201)["status"] == "held"


# --- where a till may still name the member -------------------------------------------------
class TestMemberIdCommunity:
    def test_a_till_may_name_the_member_and_a_code_pays_there_too_once(self, client):
        town = community(client, "member_id", points=20)
        code = code_of(town)

        paid = [ok(pay(town, 1, member_id=town.member_id), 201) for _ in range(2)]
        placed = ok(hold(town, 3, member_id=town.member_id), 201)
        by_code = pay(town, 4, payment_code=code)
        again = pay(town, 1, payment_code=code)

        assert [p["balance_after"] for p in paid] == [19, 18]
        assert placed["status"] == "held"
        assert ok(by_code, 201)["balance_after"] == 14
        assert problem(again) == (409, "payment-code-used")
        assert town.balance()["points_available"] == 11


# --- the passbook look-up at a till ---------------------------------------------------------
class TestPassbookLookup:
    def test_a_till_where_codes_are_asked_for_gets_only_the_masked_name(self, client):
        town = community(client, "payment_code", member="张三明")

        found = ok(client.get(f"/v1/passbooks/{town.passbook_no}", headers=town.merchant))
        at_desk = ok(client.get(f"/v1/passbooks/{town.passbook_no}", headers=town.staff))

        assert found == {"member_id": None, "community_id": town.community_id,
                         "name": "张*明", "passbook_no": town.passbook_no}
        assert (at_desk["member_id"], at_desk["name"]) == (town.member_id, "张三明")

    def test_a_till_that_may_name_members_gets_the_member_id(self, client):
        town = community(client, "member_id", member="张三明")

        found = ok(client.get(f"/v1/passbooks/{town.passbook_no}", headers=town.merchant))

        assert found == {"member_id": town.member_id, "community_id": town.community_id,
                         "name": "张*明", "passbook_no": town.passbook_no}


# --- one code at many tills at once ---------------------------------------------------------
class TestRace:
    TILLS = 10

    def test_one_code_at_ten_tills_at_once_pays_once(self, linli):
        with serving(linli) as base_url, httpx.Client(
                base_url=base_url, timeout=30.0,
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            town = community(http, points=50)
            second = town.add_merchant("便民理发店")
            # Half the tills share the merchant's key; a quarter have keys of their own for
            # the same merchant; the rest are another merchant's.
            tills = [town.merchant if i % 2 == 0 else
                     auth(town.issue_token(role="merchant",
                                           merchant_id=town.merchant_id if i % 4 == 1
                                           else second))
                     for i in range(self.TILLS)]
            code = code_of(town)
            start = threading.Barrier(self.TILLS, timeout=30)

            def till(headers: dict[str, str]) -> httpx.Response:
                with httpx.Client(base_url=base_url, timeout=30.0) as own:
                    start.wait()
                    return own.post("/v1/redemptions", headers={**headers, **key()}, json={
                        "payment_code": code, "points": 7, "description": "一瓶酱油"})

            with ThreadPoolExecutor(max_workers=self.TILLS) as pool:
                answers = list(pool.map(till, tills))

            statuses = sorted(a.status_code for a in answers)
            assert statuses == [201] + [409] * (self.TILLS - 1), statuses
            assert {problem(a) for a in answers if a.status_code == 409} == {
                (409, "payment-code-used")}
            assert town.balance()["points"] == 43
            redeemed = [statement(town, m)["totals"]["redeemed"]
                        for m in (town.merchant_id, second)]
            assert sorted(redeemed) == [0, 7]
