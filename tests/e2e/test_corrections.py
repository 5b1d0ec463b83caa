"""Corrections of awards and what the passbook and the statement say, through the real HTTP app
on both backends: partial reversals and reversals into debt, the rule version in force when
the deed was done, caps that show, retired rules, four eyes, the pending list, passbook dates
and counterparties."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import update

from ledger import ids
from projections.tables import passbook_lines
from tests.e2e.conftest import NOW
from tests.scenario import Town, key, ok, problem_type


def reverse(town: Town, award_id: str, **body: Any) -> Any:
    return town.client.post(f"/v1/awards/{award_id}/reverse", headers=town.staff,
                            json={"reason": "登记有误", **body})


def refused(response: Any, status: int, slug: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert problem_type(response) == slug, response.text


@pytest.fixture
def cast(town: Town) -> Town:
    return town.cast()


class TestPartialReversals:
    def test_parts_add_up_to_at_most_the_award(self, cast):
        award = cast.award(10)

        first = ok(reverse(cast, award["id"], points=4))
        assert (first["status"], first["points"], first["reversed_points"]) == ("posted", 10, 4)
        assert (cast.balance()["points"], cast.balance()["points_earned"]) == (6, 6)

        refused(reverse(cast, award["id"], points=7), 409, "reversal-exceeds-award")
        assert cast.balance()["points"] == 6  # nothing moved

        last = ok(reverse(cast, award["id"], points=6))
        assert (last["status"], last["reversed_points"]) == ("reversed", 10)
        assert (cast.balance()["points"], cast.balance()["points_earned"]) == (0, 0)
        refused(reverse(cast, award["id"], points=1), 409, "award-already-reversed")
        refused(reverse(cast, award["id"]), 409, "award-already-reversed")

        kinds = [(line["kind"], line["amount"]) for line in ok(cast.client.get(
            f"/v1/members/{cast.member_id}/passbook", headers=cast.staff))["items"]]
        assert kinds == [("award_reversal", -6), ("award_part_reversal", -4), ("award", 10)]

    def test_without_points_the_rest_is_reversed(self, cast):
        award = cast.award(10)
        ok(reverse(cast, award["id"], points=3))
        rest = ok(reverse(cast, award["id"]))
        assert (rest["status"], rest["reversed_points"]) == ("reversed", 10)
        assert cast.balance()["points"] == 0

    def test_a_rejected_or_pending_award_is_not_reversed(self, cast):
        cast.add_rule("CHECKED", 5, requires_approval=True)
        pending = cast.award(1, code="CHECKED")
        refused(reverse(cast, pending["id"]), 409, "invalid-transition")
        ok(cast.client.post(f"/v1/awards/{pending['id']}/reject", headers=cast.staff,
                            json={"reason": "不符合"}))
        refused(reverse(cast, pending["id"]), 409, "invalid-transition")

    @pytest.mark.parametrize("body", [{"points": 0}, {"points": -3}, {"points": "2"},
                                      {"points": 1.5}, {"allow_debt": "yes"}, {"reason": ""},
                                      {"colour": "red"}])
    def test_bad_input_is_refused_and_nothing_moves(self, cast, body):
        award = cast.award(10)
        response = cast.client.post(f"/v1/awards/{award['id']}/reverse", headers=cast.staff,
                                    json={"reason": "登记有误", **body})
        assert response.status_code == 422, response.text
        assert cast.balance()["points"] == 10

    def test_an_unknown_award_is_not_found(self, cast):
        refused(reverse(cast, "00000000-0000-0000-0000-000000000000"), 404, "not-found")

    def test_a_member_or_merchant_may_not_reverse(self, cast):
        award = cast.award(10)
        for headers in (cast.member, cast.merchant):
            response = cast.client.post(f"/v1/awards/{award['id']}/reverse", headers=headers,
                                        json={"reason": "x"})
            assert response.status_code == 403, response.text
        assert cast.balance()["points"] == 10


class TestReversalIntoDebt:
    def test_spent_points_are_reversed_only_into_debt(self, cast):
        award = cast.award(10)
        ok(cast.redeem(8), 201)

        refused(reverse(cast, award["id"]), 409, "insufficient-balance")
        assert cast.balance()["points"] == 2

        reversed_ = ok(reverse(cast, award["id"], allow_debt=True))
        assert reversed_["status"] == "reversed"
        balance = cast.balance()
        assert (balance["points"], balance["points_available"], balance["points_earned"]) == (
            -8, -8, 0)

        refused(cast.redeem(1), 409, "insufficient-balance")  # owing: no redemption
        cast.award(5)
        assert cast.balance()["points"] == -3
        refused(cast.redeem(1), 409, "insufficient-balance")
        cast.award(5)  # earnings repay the debt first
        assert cast.balance()["points"] == 2
        ok(cast.redeem(2), 201)
        assert (cast.balance()["points"], cast.balance()["points_earned"]) == (0, 10)

    def test_a_part_into_debt(self, cast):
        award = cast.award(10)
        ok(cast.redeem(10), 201)
        ok(reverse(cast, award["id"], points=4, allow_debt=True))
        assert (cast.balance()["points"], cast.balance()["points_earned"]) == (-4, 6)


class TestReversalLowersTheAwardsPeriod:
    def test_boards_households_and_the_review_drop_it(self, town):
        home = town.add_household("湖滨路1号")
        wang = town.add_member("王秀英", household_id=home)
        li = town.add_member("李桂兰")
        october = town.award(10, wang, when="2098-10-10T02:00:00")["id"]
        town.award(8, li, when="2098-10-11T02:00:00")
        assert town.names_on(period="2098-10") == [("王秀英", 10), ("李桂兰", 8)]

        ok(town.client.post(f"/v1/awards/{october}/reverse", json={"reason": "记错人",
                                                                  "points": 4}))

        assert town.names_on(period="2098-10") == [("李桂兰", 8), ("王秀英", 6)]
        assert town.names_on(period="2098-Q4") == [("李桂兰", 8), ("王秀英", 6)]
        assert town.names_on(period="2098") == [("李桂兰", 8), ("王秀英", 6)]
        assert town.names_on(period="all") == [("李桂兰", 8), ("王秀英", 6)]
        assert town.names_on(period="2098-10", subject="household") == [("湖滨路1号", 6)]
        household = ok(town.client.get(f"/v1/households/{home}/balance"))
        assert household["points_earned"] == 6
        review = ok(town.client.get(f"/v1/communities/{town.community_id}/reviews/2098-Q4"))
        assert review["summary"]["points_earned"] == 14
        by_rule = {r["rule_code"]: (r["points"], r.get("awards"))
                   for r in review["points_by_rule"]}
        assert by_rule["GIFT"] == (14, 2)  # a part reversed: still two awards

        ok(town.client.post(f"/v1/awards/{october}/reverse", json={"reason": "记错人"}))
        review = ok(town.client.get(f"/v1/communities/{town.community_id}/reviews/2098-Q4"))
        assert {r["rule_code"]: (r["points"], r.get("awards"))
                for r in review["points_by_rule"]}["GIFT"] == (8, 1)
        assert town.names_on(period="2098-10") == [("李桂兰", 8)]


class TestVersionInForce:
    def test_a_past_deed_is_priced_by_the_version_of_its_day(self, town, linli):
        linli.clock = lambda: NOW - timedelta(days=60)
        town.add_rule("CLEAN", 2, name="清扫楼道")
        linli.clock = lambda: NOW - timedelta(days=20)
        town.add_rule("CLEAN", 5, name="清扫楼道")
        linli.clock = lambda: NOW
        member = town.add_member("王秀英")

        then = town.award(1, member, code="CLEAN", when="2098-10-10T02:00:00")
        now = town.award(1, member, code="CLEAN")
        before = town.award(1, member, code="CLEAN", when="2098-09-01T02:00:00")

        assert (then["rule_version"], then["points"]) == (1, 2)
        assert (now["rule_version"], now["points"]) == (2, 5)
        assert (before["rule_version"], before["points"]) == (1, 2)  # before v1: the first

    def test_the_answer_says_when_a_cap_cut_the_points(self, town):
        town.add_rule("PATROL", 3, daily_cap=5)
        member = town.add_member()
        first = town.award(3, member, code="PATROL")
        assert (first["points"], first["requested_points"], first["capped"]) == (5, 9, True)
        town.add_rule("WALK", 3)
        plain = town.award(2, member, code="WALK")
        assert (plain["points"], plain["requested_points"], plain["capped"]) == (6, 6, False)
        got = ok(town.client.post(f"/v1/awards/{first['id']}/reverse",
                                  json={"reason": "x", "points": 1}))
        assert (got["requested_points"], got["capped"]) == (9, True)


class TestRetiredRules:
    def test_retire_refuse_and_bring_back(self, cast):
        path = f"/v1/communities/{cast.community_id}/rules/GIFT"
        retired = ok(cast.client.delete(path, headers=cast.staff))
        assert (retired["code"], retired["version"], retired["retired"]) == ("GIFT", 1, True)

        refused(cast.client.post("/v1/awards", headers=cast.staff, json={
            "member_id": cast.member_id, "rule_code": "GIFT", "quantity": 1}), 409,
            "rule-retired")
        assert cast.balance()["points"] == 0
        rules = ok(cast.client.get(f"/v1/communities/{cast.community_id}/rules",
                                   headers=cast.staff))["items"]
        assert [(r["code"], r["retired"]) for r in rules] == [("GIFT", True)]
        refused(cast.client.delete(path, headers=cast.staff), 409, "rule-retired")

        back = ok(cast.client.put(path, headers=cast.staff, json={
            "name": "志愿服务", "points": 2, "unit": "each"}))
        assert (back["version"], back["retired"]) == (2, False)
        assert cast.award(1)["points"] == 2

    def test_unknown_rule_other_roles_and_other_communities(self, cast, client):
        base = f"/v1/communities/{cast.community_id}/rules"
        refused(cast.client.delete(f"{base}/NOPE", headers=cast.staff), 404, "not-found")
        assert cast.client.delete(f"{base}/bad code!", headers=cast.staff).status_code in (
            404, 422)
        for headers in (cast.member, cast.merchant, cast.auditor):
            assert cast.client.delete(f"{base}/GIFT", headers=headers).status_code == 403
        other = Town.found(client, "别的社区")
        stranger = other.token(role="staff", community_id=other.community_id)
        assert cast.client.delete(f"{base}/GIFT", headers=stranger).status_code in (403, 404)
        assert cast.award(1)["points"] == 1  # still open


class TestFourEyes:
    def policy(self, town: Town, **body: Any) -> Any:
        return town.client.put(f"/v1/communities/{town.community_id}/policy",
                               json={"redemption_consent": "member_id", **body})

    def test_another_staff_member_approves(self, cast):
        cast.add_rule("CHECKED", 5, requires_approval=True)
        assert ok(self.policy(cast, award_approval="another_staff"))["award_approval"] == (
            "another_staff")
        other = cast.token(role="staff", community_id=cast.community_id)
        pending = cast.award(1, code="CHECKED")  # recorded by the cast's staff key

        refused(cast.client.post(f"/v1/awards/{pending['id']}/approve", headers=cast.staff),
                403, "four-eyes-required")
        assert cast.balance()["points"] == 0
        approved = ok(cast.client.post(f"/v1/awards/{pending['id']}/approve", headers=other))
        assert approved["status"] == "posted"
        assert cast.balance()["points"] == 5

    def test_by_default_any_staff_member_approves(self, cast):
        cast.add_rule("CHECKED", 5, requires_approval=True)
        assert ok(cast.client.get(f"/v1/communities/{cast.community_id}/policy",
                                  headers=cast.staff))["award_approval"] == "any_staff"
        pending = cast.award(1, code="CHECKED")
        ok(cast.client.post(f"/v1/awards/{pending['id']}/approve", headers=cast.staff))

    def test_an_unknown_value_is_refused(self, cast):
        assert self.policy(cast, award_approval="nobody").status_code == 422


class TestPendingList:
    def test_paged_and_filtered_by_rule(self, cast):
        cast.add_rule("A", 1, requires_approval=True)
        cast.add_rule("B", 1, requires_approval=True)
        made = [cast.award(1, code="A")["id"] for _ in range(3)]
        b = cast.award(1, code="B")["id"]
        params = {"community_id": cast.community_id, "status": "pending"}

        first = ok(cast.client.get("/v1/awards", headers=cast.staff,
                                   params={**params, "limit": 3}))
        assert [i["id"] for i in first["items"]] == made
        second = ok(cast.client.get("/v1/awards", headers=cast.staff, params={
            **params, "limit": 3, "cursor": first["next_cursor"]}))
        assert ([i["id"] for i in second["items"]], second["next_cursor"]) == ([b], None)
        only_b = ok(cast.client.get("/v1/awards", headers=cast.staff,
                                    params={**params, "rule_code": "B"}))
        assert [i["id"] for i in only_b["items"]] == [b]

        ok(cast.client.post(f"/v1/awards/{made[0]}/approve", headers=cast.staff))
        left = ok(cast.client.get("/v1/awards", headers=cast.staff,
                                  params={**params, "rule_code": "A"}))
        assert [i["id"] for i in left["items"]] == made[1:]

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"cursor": -1},
                                        {"rule_code": "no spaces"}, {"status": "posted"}])
    def test_bad_paging_is_refused(self, cast, params):
        response = cast.client.get("/v1/awards", headers=cast.staff, params={
            "community_id": cast.community_id, **params})
        assert response.status_code == 422, response.text


class TestPassbookLines:
    def test_an_award_line_carries_when_the_deed_was_done(self, cast):
        award = cast.award(3, when="2098-10-01T02:00:00")
        line = ok(cast.client.get(f"/v1/members/{cast.member_id}/passbook",
                                  headers=cast.staff))["items"][0]
        assert line["occurred_at"].startswith("2098-10-01T02:00:00")
        assert line["occurred_at"] != line["at"]
        assert line["counterparty"] == "志愿服务"
        assert line["reference"] == f"award:{award['id']}"

    def test_a_captured_hold_carries_its_description(self, cast):
        cast.award(20)
        hold = ok(cast.client.post("/v1/holds", headers={**cast.merchant, **key()}, json={
            "member_id": cast.member_id, "points": 12, "description": "食用油一桶"}), 201)
        ok(cast.client.post(f"/v1/holds/{hold['id']}/capture", headers=cast.merchant,
                            json={"points": 10}))

        line = ok(cast.client.get(f"/v1/members/{cast.member_id}/passbook",
                                  headers=cast.staff))["items"][0]
        assert (line["kind"], line["description"], line["counterparty"]) == (
            "redemption", "食用油一桶", "文明积分超市")
        statement = ok(cast.client.get(f"/v1/merchants/{cast.merchant_id}/statement",
                                       headers=cast.merchant))["items"][0]
        assert (statement["description"], statement["counterparty"]) == ("食用油一桶", "张*")

    def test_a_hold_description_is_bounded(self, cast):
        cast.award(5)
        response = cast.client.post("/v1/holds", headers={**cast.merchant, **key()}, json={
            "member_id": cast.member_id, "points": 1, "description": "x" * 501})
        assert response.status_code == 422

    def test_a_gift_names_the_other_member(self, cast):
        li = cast.add_member("李桂兰")
        ok(cast.client.post("/v1/timebank/deposits", headers=cast.staff, json={
            "volunteer_id": cast.member_id, "minutes": 60, "service_type": "陪护"}), 201)
        ok(cast.client.post("/v1/timebank/transfers", headers={**cast.staff, **key()}, json={
            "from_member_id": cast.member_id, "to_member_id": li, "minutes": 30}), 201)

        def first_line(member_id: str) -> dict[str, Any]:
            line: dict[str, Any] = ok(cast.client.get(
                f"/v1/members/{member_id}/passbook", headers=cast.staff,
                params={"asset": "MINUTES"}))["items"][0]
            return line

        assert (first_line(cast.member_id)["kind"], first_line(cast.member_id)["counterparty"]
                ) == ("gift", "李桂兰")
        assert first_line(li)["counterparty"] == "张三"

    def test_a_redemption_names_the_shop(self, cast):
        cast.award(5)
        ok(cast.redeem(2), 201)
        line = ok(cast.client.get(f"/v1/members/{cast.member_id}/passbook",
                                  headers=cast.member))["items"][0]
        assert (line["description"], line["counterparty"]) == ("大米", "文明积分超市")
        assert line["occurred_at"] == line["at"]

    def test_the_household_passbook_names_the_counterparty(self, town):
        home = town.add_household("湖滨路2号")
        wang = town.add_member("王秀英", household_id=home)
        town.award(2, wang, when="2098-11-01T02:00:00")
        line = ok(town.client.get(f"/v1/households/{home}/passbook"))["items"][0]
        assert line["counterparty"] == "志愿服务"
        assert line["occurred_at"].startswith("2098-11-01T02:00:00")


class TestRetiredServiceRule:
    def test_a_deposit_still_banks_its_minutes_without_points(self, cast):
        cast.add_rule("SERVICE", 10, "hour", name="志愿服务时长")
        ok(cast.client.put(f"/v1/communities/{cast.community_id}/timebank/policy",
                           json={"service_rule_code": "SERVICE"}))
        body = {"volunteer_id": cast.member_id, "minutes": 60, "service_type": "陪护"}
        first = ok(cast.client.post("/v1/timebank/deposits", headers=cast.staff, json=body), 201)
        assert first["points_awarded"] == 10
        ok(cast.client.delete(f"/v1/communities/{cast.community_id}/rules/SERVICE",
                              headers=cast.staff))

        second = ok(cast.client.post("/v1/timebank/deposits", headers=cast.staff, json=body),
                    201)
        assert (second["points_awarded"], second["balance_after"]) == (0, 120)
        assert cast.balance()["points"] == 10


class TestLinesRecordedBefore:
    def test_an_award_line_without_its_date_takes_it_from_the_award(self, cast, linli):
        cast.award(3, when="2098-10-02T02:00:00")
        account = str(ids.account_id(UUID(cast.member_id), "POINTS"))
        with linli.engine.begin() as conn:  # as a line recorded before the column existed
            conn.execute(update(passbook_lines).where(passbook_lines.c.account_id == account)
                         .values(occurred_at=None))
        line = ok(cast.client.get(f"/v1/members/{cast.member_id}/passbook",
                                  headers=cast.staff))["items"][0]
        assert line["occurred_at"].startswith("2098-10-02T02:00:00")
