"""A resident without a phone pays with the passbook number and a PIN, through the real app on
both backends: who may set the PIN, what a PIN is, and the lock after five wrong PINs in a row.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from harness.serving import serving
from ledger.domain import pins
from tests.conftest import ADMIN_TOKEN
from tests.e2e.test_payment_codes import (
    Clock,
    all_events,
    assert_untouched,
    community,
    hand_clock,
    hold,
    in_chinese,
    pay,
    problem,
    statement,
)
from tests.scenario import Town, key, ok

PIN = "493817"
OTHER_PIN = "250961"
WRONG = "000000"


@pytest.fixture
def clock(linli: Any) -> Clock:
    return hand_clock(linli)


@pytest.fixture(autouse=True)
def cheap_pin_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """PINs set here are hashed at a low scrypt cost (the cost is stored with each hash, so
    they are checked at it): the tests try hundreds of PINs, and what a till sees is the
    same."""
    if hasattr(pins, "_N"):
        monkeypatch.setattr(pins, "_N", 2**8)


def set_pin(town: Town, pin: object, headers: dict[str, str] | None = None,
            member_id: str | None = None) -> object:
    """PUT a member's PIN (the cast's), by the member's own token unless `headers` say
    otherwise ({} is the client's admin token); the response."""
    return town.client.put(f"/v1/members/{member_id or town.member_id}/pin",
                           headers=town.member if headers is None else headers,
                           json={"pin": pin})


def pay_by_pin(town: Town, points: int, pin: str, passbook_no: str | None = None,
               **extra: object) -> object:
    return pay(town, points, passbook_no=passbook_no or town.passbook_no, pin=pin, **extra)


def with_pin(client: object, consent: str = "payment_code", points: int = 20) -> Town:
    town = community(client, consent, points=points)
    assert set_pin(town, PIN).status_code == 204  # type: ignore[attr-defined]
    return town


def wrong_tries(town: Town, times: int) -> None:
    for _ in range(times):
        assert problem(pay_by_pin(town, 1, WRONG)) == (409, "pin-invalid")


class TestSettingThePin:
    def test_the_member_staff_and_an_admin_set_the_pin(self, client):
        town = community(client, points=20)

        by_member = set_pin(town, PIN)
        paid_after_member = pay_by_pin(town, 1, PIN)
        by_staff = set_pin(town, OTHER_PIN, town.staff)
        old_after_staff = pay_by_pin(town, 1, PIN)
        paid_after_staff = pay_by_pin(town, 1, OTHER_PIN)
        by_admin = set_pin(town, PIN, {})
        paid_after_admin = pay_by_pin(town, 1, PIN)

        assert [r.status_code for r in (by_member, by_staff, by_admin)] == [204, 204, 204]
        assert by_member.content == b""
        assert ok(paid_after_member, 201)["balance_after"] == 19
        assert problem(old_after_staff) == (409, "pin-invalid")
        assert ok(paid_after_staff, 201)["balance_after"] == 18
        assert ok(paid_after_admin, 201)["balance_after"] == 17

    def test_a_merchant_another_member_or_another_communitys_staff_may_not(self, client):
        town = with_pin(client)
        neighbour = town.add_member("李四")
        neighbours_token = town.token(role="member", member_id=neighbour)
        elsewhere = community(client)

        by_merchant = set_pin(town, OTHER_PIN, town.merchant)
        by_neighbour = set_pin(town, OTHER_PIN, neighbours_token)
        by_other_staff = set_pin(town, OTHER_PIN, elsewhere.staff)

        assert problem(by_merchant)[0] == 403
        assert problem(by_neighbour)[0] in (403, 404)
        assert problem(by_other_staff)[0] in (403, 404)
        assert problem(pay_by_pin(town, 1, OTHER_PIN)) == (409, "pin-invalid")
        assert ok(pay_by_pin(town, 1, PIN), 201)["balance_after"] == 19

    def test_a_pin_is_six_digits(self, client):
        town = with_pin(client)
        not_pins = ["12345", "1234567", "12345a", "abcdef", "", "12 345", "１２３４５６",
                    123456, None]

        answers = [set_pin(town, pin) for pin in not_pins]
        by_staff = set_pin(town, "12345", town.staff)

        assert [problem(a) for a in [*answers, by_staff]] == [
            (422, "validation-error")] * (len(not_pins) + 1)
        assert ok(pay_by_pin(town, 1, PIN), 201)["balance_after"] == 19  # unchanged


class TestPayingByPin:
    def test_passbook_and_pin_pay_whatever_the_policy(self, client):
        town = with_pin(client, "payment_code")
        where_ids_do = with_pin(client, "member_id")

        paid = ok(pay_by_pin(town, 5, PIN), 201)
        again = ok(pay_by_pin(town, 3, PIN), 201)
        there = ok(pay_by_pin(where_ids_do, 5, PIN), 201)

        assert set(paid) == {"id", "member_id", "merchant_id", "points", "balance_after"}
        assert (paid["member_id"], paid["merchant_id"], paid["balance_after"]) == (
            town.member_id, town.merchant_id, 15)
        assert again["balance_after"] == 12
        assert statement(town)["totals"]["redeemed"] == 8
        assert (there["member_id"], there["balance_after"]) == (where_ids_do.member_id, 15)

    def test_passbook_and_pin_place_a_hold(self, client):
        town = with_pin(client)

        placed = ok(hold(town, 6, passbook_no=town.passbook_no, pin=PIN), 201)

        assert (placed["status"], placed["member_id"], placed["points"]) == (
            "held", town.member_id, 6)
        assert town.balance()["points_available"] == 14

    def test_a_wrong_pin_no_pin_or_an_unknown_passbook_is_refused(self, client):
        town = with_pin(client)
        no_pin = town.add_member("李四")
        town.award(10, no_pin)
        elsewhere = community(client, points=10)
        assert set_pin(elsewhere, PIN).status_code == 204

        wrong = pay_by_pin(town, 1, WRONG)
        without = pay_by_pin(town, 1, PIN, town.passbooks[no_pin])
        unknown = pay_by_pin(town, 1, PIN, "NOPE-000000")
        other_community = pay_by_pin(town, 1, PIN, elsewhere.passbook_no)
        held = hold(town, 1, passbook_no=town.passbook_no, pin=WRONG)

        for response in (wrong, without, unknown, other_community, held):
            assert problem(response) == (409, "pin-invalid"), response.text
        assert in_chinese(wrong)
        assert_untouched(town, 20)
        assert town.balance(no_pin)["points"] == 10
        assert elsewhere.balance()["points"] == 10

    def test_a_retry_replays_the_payment_even_once_the_pin_changed_or_locked(self, client):
        town = with_pin(client)
        same = key()
        first = pay_by_pin(town, 5, PIN, idempotency=same)

        assert set_pin(town, OTHER_PIN, town.staff).status_code == 204
        after_change = pay_by_pin(town, 5, PIN, idempotency=same)
        for _ in range(6):
            pay_by_pin(town, 1, WRONG)
        after_lock = pay_by_pin(town, 5, PIN, idempotency=same)

        assert first.status_code == 201
        assert (after_change.status_code, after_change.content) == (201, first.content)
        assert (after_lock.status_code, after_lock.content) == (201, first.content)
        assert town.balance()["points"] == 15

    def test_a_refused_payment_by_pin_is_not_a_wrong_pin(self, client):
        town = with_pin(client, points=3)

        refused = [pay_by_pin(town, 4, PIN) for _ in range(6)]

        assert {problem(r) for r in refused} == {(409, "insufficient-balance")}
        assert ok(pay_by_pin(town, 3, PIN), 201)["balance_after"] == 0


class TestLock:
    def test_five_wrong_pins_in_a_row_lock_even_the_right_one(self, client, clock):
        town = with_pin(client)

        wrong_tries(town, 5)
        right = pay_by_pin(town, 1, PIN)
        wrong = pay_by_pin(town, 1, WRONG)
        held = hold(town, 1, passbook_no=town.passbook_no, pin=PIN)

        for response in (right, wrong, held):
            assert problem(response) == (409, "pin-locked")
        assert in_chinese(right)
        assert_untouched(town, 20)

    def test_the_lock_lifts_after_fifteen_minutes(self, client, clock):
        town = with_pin(client)
        wrong_tries(town, 5)

        clock.advance(minutes=14, seconds=59)
        still = pay_by_pin(town, 1, PIN)
        clock.advance(seconds=2)
        lifted = pay_by_pin(town, 1, PIN)

        assert problem(still) == (409, "pin-locked")
        assert ok(lifted, 201)["balance_after"] == 19

    def test_a_right_pin_resets_the_count(self, client, clock):
        town = with_pin(client)

        wrong_tries(town, 4)
        ok(pay_by_pin(town, 1, PIN), 201)
        wrong_tries(town, 4)
        paid = pay_by_pin(town, 1, PIN)

        assert ok(paid, 201)["balance_after"] == 18

    def test_staff_setting_the_pin_again_lifts_the_lock(self, client, clock):
        town = with_pin(client)
        wrong_tries(town, 5)
        assert problem(pay_by_pin(town, 1, PIN)) == (409, "pin-locked")

        reset = set_pin(town, OTHER_PIN, town.staff)

        assert reset.status_code == 204
        assert ok(pay_by_pin(town, 1, OTHER_PIN), 201)["balance_after"] == 19
        wrong_tries(town, 4)  # the count starts again
        assert ok(pay_by_pin(town, 1, OTHER_PIN), 201)["balance_after"] == 18

    def test_the_member_setting_the_pin_again_lifts_the_lock(self, client, clock):
        town = with_pin(client)
        wrong_tries(town, 5)

        assert set_pin(town, PIN).status_code == 204
        assert ok(pay_by_pin(town, 1, PIN), 201)["balance_after"] == 19

    def test_another_communitys_till_cannot_lock_a_members_pin(self, client, clock):
        town = with_pin(client)
        elsewhere = community(client)

        guesses = [pay_by_pin(elsewhere, 1, WRONG, town.passbook_no) for _ in range(6)]

        assert {problem(g) for g in guesses} == {(409, "pin-invalid")}
        assert ok(pay_by_pin(town, 1, PIN), 201)["balance_after"] == 19

    def test_a_lock_is_the_members_own(self, client, clock):
        town = with_pin(client)
        neighbour = town.add_member("李四")
        town.award(10, neighbour)
        assert set_pin(town, OTHER_PIN, town.staff, member_id=neighbour).status_code == 204
        wrong_tries(town, 5)

        paid = pay_by_pin(town, 1, OTHER_PIN, town.passbooks[neighbour])

        assert ok(paid, 201)["balance_after"] == 9


class TestGuessingAtOnce:
    TILLS = 10

    def test_ten_wrong_pins_sent_at_once_get_five_tries(self, linli):
        with serving(linli) as base_url, httpx.Client(
                base_url=base_url, timeout=30.0,
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            town = with_pin(http)
            start = threading.Barrier(self.TILLS, timeout=30)

            def till(guess: int) -> httpx.Response:
                with httpx.Client(base_url=base_url, timeout=30.0) as own:
                    start.wait()
                    return own.post("/v1/redemptions", headers={**town.merchant, **key()},
                                    json={"passbook_no": town.passbook_no,
                                          "pin": f"{guess:06d}", "points": 1})

            with ThreadPoolExecutor(max_workers=self.TILLS) as pool:
                answers = list(pool.map(till, range(self.TILLS)))  # 000000…000009

            slugs = sorted(problem(a)[1] for a in answers)
            assert slugs == ["pin-invalid"] * 5 + ["pin-locked"] * 5, slugs
            assert problem(pay_by_pin(town, 1, PIN)) == (409, "pin-locked")
            assert town.balance()["points"] == 20


class TestPinNotInTheRecord:
    def test_the_pin_is_not_in_the_events_in_clear(self, client):
        town = with_pin(client)
        ok(pay_by_pin(town, 1, PIN), 201)
        assert set_pin(town, OTHER_PIN, town.staff).status_code == 204
        wrong_tries(town, 2)
        digests = {hashlib.sha256(p.encode()).hexdigest() for p in (PIN, OTHER_PIN)}

        for headers in ({}, town.auditor):
            events = all_events(client, headers)
            text = str([e["data"] for e in events])
            assert events
            assert PIN not in text and OTHER_PIN not in text
            assert not any(d[:16] in text for d in digests)  # nor merely hashed
