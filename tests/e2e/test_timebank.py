"""The time bank through HTTP: service orders, deposits, withdrawals, gifts, pools, policies
and 通存通兑 across communities, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from projections import queries
from tests.scenario import Town, key, ok

STEPS = ("dispatch", "accept", "complete", "rate", "confirm", "dismiss", "cancel")
LEGAL = {  # the lifecycle table: status -> the steps allowed from it
    "requested": {"dispatch", "cancel"},
    "dispatched": {"dispatch", "accept", "cancel"},
    "accepted": {"dispatch", "complete", "cancel"},
    "completed": {"rate", "confirm"},
    "rated": set(),
    "under_review": {"confirm", "dismiss"},
    "confirmed": set(),
    "dismissed": set(),
    "cancelled": set(),
}
PATHS = {  # how to reach each status from a new request
    "requested": [],
    "dispatched": ["dispatch"],
    "accepted": ["dispatch", "accept"],
    "completed": ["dispatch", "accept", "complete"],
    "rated": ["dispatch", "accept", "complete", "rate"],
    "under_review": ["dispatch", "accept", "complete", "rate_low"],
    "confirmed": ["dispatch", "accept", "complete", "confirm"],
    "dismissed": ["dispatch", "accept", "complete", "rate_low", "dismiss"],
    "cancelled": ["cancel"],
}
PROBLEM = "https://linli.example/problems/"


class Bank:
    """A world with a volunteer and an elder who asks for care."""

    def __init__(self, world: Town) -> None:
        self.w = world
        self.client = world.client
        self.elder = world.member_id
        self.volunteer = world.add_member("王志愿")

    def body(self, step: str, volunteer: str | None = None) -> dict[str, Any]:
        return {"dispatch": {"volunteer_id": volunteer or self.volunteer},
                "accept": {}, "complete": {"minutes": 90}, "rate": {"stars": 5},
                "rate_low": {"stars": 1, "comment": "迟到"}, "confirm": {},
                "dismiss": {"reason": "核实未服务"}, "cancel": {"reason": "不需要了"}}[step]

    def step(self, order: str, step: str, headers: dict[str, str] | None = None,
             **body: Any) -> Any:
        path = "rate" if step == "rate_low" else step
        return self.client.post(f"/v1/service-requests/{order}/{path}",
                                headers=headers or self.w.staff,
                                json=body or self.body(step))

    def request(self, headers: dict[str, str] | None = None, requester: str | None = None,
                **extra: Any) -> str:
        created = ok(self.client.post("/v1/service-requests", headers=headers or self.w.staff,
                                      json={"requester_id": requester or self.elder,
                                            "service_type": "助餐", "description": "送午饭",
                                            **extra}), 201)
        assert created["status"] == "requested"
        return str(created["id"])

    def order_in(self, status: str) -> str:
        order = self.request()
        for step in PATHS[status]:
            ok(self.step(order, step))
        return order

    def minutes(self, member_id: str) -> int:
        return int(self.w.balance(member_id)["minutes"])

    def deposit(self, minutes: int, volunteer: str | None = None, **extra: Any) -> Any:
        return self.client.post("/v1/timebank/deposits", headers=self.w.staff, json={
            "volunteer_id": volunteer or self.volunteer, "minutes": minutes,
            "service_type": "陪诊", **extra})

    def policy(self, **policy: Any) -> dict[str, Any]:
        return ok(self.client.put(f"/v1/communities/{self.w.community_id}/timebank/policy",
                                  headers=self.w.staff, json=policy))


@pytest.fixture
def bank(client) -> Bank:
    return Bank(Town.standard(client))


class TestLifecycle:
    @pytest.mark.parametrize("status", list(LEGAL))
    def test_every_step_from_every_status(self, bank, status):
        """Each legal step succeeds; each illegal one is 409 invalid-transition and changes
        nothing."""
        for step in STEPS:
            order = bank.order_in(status)
            before = ok(bank.client.get(f"/v1/service-requests/{order}", headers=bank.w.staff))
            assert before["status"] == status
            response = bank.step(order, step)
            if step in LEGAL[status]:
                assert response.status_code == 200, (status, step, response.text)
            else:
                assert response.status_code == 409, (status, step, response.text)
                assert response.json()["type"] == PROBLEM + "invalid-transition"
                after = ok(bank.client.get(f"/v1/service-requests/{order}",
                                           headers=bank.w.staff))
                assert after == before

    def test_a_rated_service_deposits_the_minutes_and_keeps_every_step(self, bank):
        order = bank.request(minutes_estimate=60)
        for step in ("dispatch", "accept", "complete"):
            ok(bank.step(order, step))
        assert bank.minutes(bank.volunteer) == 0  # pending until rated
        assert bank.w.balance(bank.volunteer)["minutes_pending"] == 90
        rated = ok(bank.step(order, "rate", stars=4, comment="很耐心"))
        assert rated["status"] == "rated" and rated["minutes"] == 90
        balance = bank.w.balance(bank.volunteer)
        assert (balance["minutes"], balance["minutes_pending"]) == (90, 0)
        history = ok(bank.client.get(f"/v1/service-requests/{order}",
                                     headers=bank.w.staff))["history"]
        assert [h["status"] for h in history] == ["requested", "dispatched", "accepted",
                                                  "completed", "rated"]
        assert all(h["actor"] and h["role"] == "staff" and h["at"] for h in history)
        assert history[-1]["detail"] == {"stars": 4, "comment": "很耐心"}
        line = ok(bank.client.get(f"/v1/members/{bank.volunteer}/passbook?asset=MINUTES",
                                  headers=bank.w.staff))["items"][0]
        assert (line["kind"], line["amount"], line["balance_after"]) == ("deposit", 90, 90)
        record = ok(bank.client.get(f"/v1/members/{bank.volunteer}/service-record",
                                    headers=bank.w.staff))
        assert (record["services"], record["minutes"]) == (1, 90)
        item = record["items"][0]
        assert (item["recipient_id"], item["recipient_name"], item["service_type"],
                item["minutes"], item["stars"], item["service_request_id"]) == (
            bank.elder, "张三", "助餐", 90, 4, order)

    def test_a_low_rating_goes_to_review_where_staff_confirm_or_dismiss(self, bank):
        confirmed, dismissed = bank.order_in("under_review"), bank.order_in("under_review")
        assert bank.minutes(bank.volunteer) == 0
        ok(bank.step(confirmed, "confirm", minutes=60))
        ok(bank.step(dismissed, "dismiss"))
        assert bank.minutes(bank.volunteer) == 60
        record = ok(bank.client.get(f"/v1/members/{bank.volunteer}/service-record",
                                    headers=bank.w.staff))
        assert [(i["minutes"], i["stars"]) for i in record["items"]] == [(60, 1)]

    def test_re_dispatch_sends_the_order_to_another_volunteer(self, bank):
        other = bank.w.add_member("赵志愿")
        order = bank.order_in("accepted")
        redone = ok(bank.step(order, "dispatch", volunteer_id=other))
        assert (redone["status"], redone["volunteer_id"]) == ("dispatched", other)
        for step in ("accept", "complete", "rate"):
            ok(bank.step(order, step))
        assert (bank.minutes(other), bank.minutes(bank.volunteer)) == (90, 0)

    def test_unrated_service_is_confirmed_after_the_communitys_days(self, bank, linli):
        bank.policy(auto_confirm_days=3)
        start = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)
        linli.clock = lambda: start
        order = bank.order_in("completed")
        linli.clock = lambda: start + timedelta(days=3) - timedelta(seconds=1)
        linli.read_your_writes()
        assert linli.sweeper.confirm_due_services() == 0
        linli.clock = lambda: start + timedelta(days=3)
        assert linli.sweeper.confirm_due_services() == 1
        done = ok(bank.client.get(f"/v1/service-requests/{order}", headers=bank.w.staff))
        assert done["status"] == "confirmed"
        assert done["history"][-1]["role"] == "system"
        assert done["history"][-1]["detail"] == {"minutes": 90, "automatic": True}
        assert bank.minutes(bank.volunteer) == 90
        linli.read_your_writes()
        assert linli.sweeper.confirm_due_services() == 0  # once only


class TestWhoMayTakeEachStep:
    def test_requester_and_volunteer_tokens_take_their_own_steps(self, bank):
        elder = bank.w.member
        volunteer = bank.w.token(role="member", member_id=bank.volunteer)
        stranger = bank.w.token(role="member", member_id=bank.w.add_member("路人"))
        order = bank.request(headers=elder)
        assert bank.step(order, "dispatch", headers=elder).status_code == 403
        ok(bank.step(order, "dispatch"))
        assert bank.step(order, "accept", headers=stranger).status_code == 404
        assert bank.step(order, "accept", headers=elder).status_code == 404
        ok(bank.step(order, "accept", headers=volunteer))
        ok(bank.step(order, "complete", headers=volunteer))
        assert bank.step(order, "rate", headers=volunteer).status_code == 404
        assert bank.client.get(f"/v1/service-requests/{order}",
                               headers=stranger).status_code == 404
        ok(bank.step(order, "rate", headers=elder))
        assert bank.minutes(bank.volunteer) == 90
        mine = ok(bank.client.get("/v1/service-requests", headers=volunteer))["items"]
        assert [o["id"] for o in mine] == [order]
        assert ok(bank.client.get("/v1/service-requests", headers=stranger))["items"] == []

    def test_a_member_requests_only_for_itself(self, bank):
        other = bank.w.add_member("李四")
        response = bank.client.post("/v1/service-requests", headers=bank.w.member, json={
            "requester_id": other, "service_type": "助餐"})
        assert response.status_code == 404

    def test_other_communitys_staff_see_nothing(self, bank):
        order = bank.request()
        other = Town.standard(bank.client, "湖滨社区")
        assert bank.client.get(f"/v1/service-requests/{order}",
                               headers=other.staff).status_code == 404
        assert bank.step(order, "dispatch", headers=other.staff).status_code == 404
        listed = ok(bank.client.get("/v1/service-requests", headers=other.staff))["items"]
        assert listed == []

    def test_list_filters_by_status_and_pages(self, bank):
        orders = [bank.order_in("requested") for _ in range(3)] + [bank.order_in("cancelled")]
        page = ok(bank.client.get("/v1/service-requests?status=requested&limit=2",
                                  headers=bank.w.staff))
        rest = ok(bank.client.get(f"/v1/service-requests?status=requested&limit=2"
                                  f"&cursor={page['next_cursor']}", headers=bank.w.staff))
        assert [o["id"] for o in page["items"] + rest["items"]] == orders[2::-1]
        assert rest["next_cursor"] is None


class TestMovements:
    def test_withdrawal_gift_donation_and_allocation(self, bank):
        ok(bank.deposit(120), 201)
        withdrawn = ok(bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.volunteer, "minutes": 30, "service_type": "理发"}), 201)
        assert withdrawn["balance_after"] == 90
        gift = ok(bank.client.post("/v1/timebank/transfers", headers={**bank.w.staff, **key()},
                                   json={"from_member_id": bank.volunteer,
                                         "to_member_id": bank.elder, "minutes": 40}), 201)
        assert gift["balance_after"] == 50
        ok(bank.client.post("/v1/timebank/donations", headers=bank.w.member,
                            json={"member_id": bank.elder, "minutes": 25}), 201)
        needy = bank.w.add_member("孤老刘")
        ok(bank.client.post("/v1/timebank/allocations", headers=bank.w.staff, json={
            "community_id": bank.w.community_id, "member_id": needy, "minutes": 20,
            "reason": "困难老人"}), 201)
        too_much = bank.client.post("/v1/timebank/allocations", headers=bank.w.staff, json={
            "community_id": bank.w.community_id, "member_id": needy, "minutes": 6,
            "reason": "困难老人"})
        assert too_much.json()["type"] == PROBLEM + "insufficient-balance"
        assert (bank.minutes(bank.volunteer), bank.minutes(bank.elder),
                bank.minutes(needy)) == (50, 15, 20)
        pool = ok(bank.client.get(f"/v1/communities/{bank.w.community_id}/timebank",
                                  headers=bank.w.staff))
        assert pool["pool_minutes"] == 5
        kinds = [line["kind"] for line in ok(bank.client.get(
            f"/v1/members/{bank.volunteer}/passbook?asset=MINUTES",
            headers=bank.w.staff))["items"]]
        assert kinds == ["gift", "withdrawal", "deposit"]
        balance = bank.w.balance(bank.volunteer)
        assert (balance["minutes"], balance["minutes_earned"]) == (50, 120)
        assert queries.asset_totals(bank.w.client.app.state.linli.engine)["MINUTES"] == 0

    def test_not_enough_minutes_is_refused_and_changes_nothing(self, bank):
        ok(bank.deposit(30), 201)
        refused = bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.volunteer, "minutes": 31, "service_type": "理发"})
        assert refused.status_code == 409
        assert refused.json()["type"] == PROBLEM + "insufficient-balance"
        gift = bank.client.post("/v1/timebank/transfers", headers={**bank.w.staff, **key()},
                                json={"from_member_id": bank.volunteer,
                                      "to_member_id": bank.elder, "minutes": 31})
        assert gift.json()["type"] == PROBLEM + "insufficient-balance"
        assert bank.minutes(bank.volunteer) == 30

    def test_a_gift_is_keyed_and_only_the_giver_may_give(self, bank):
        ok(bank.deposit(60, volunteer=bank.elder), 201)
        headers = {**bank.w.member, **key()}
        body = {"from_member_id": bank.elder, "to_member_id": bank.volunteer, "minutes": 10}
        first = bank.client.post("/v1/timebank/transfers", headers=headers, json=body)
        again = bank.client.post("/v1/timebank/transfers", headers=headers, json=body)
        assert (first.status_code, first.content) == (again.status_code, again.content)
        assert bank.client.post("/v1/timebank/transfers", headers=bank.w.member,
                                json=body).status_code == 400
        theirs = {"from_member_id": bank.volunteer, "to_member_id": bank.elder, "minutes": 5}
        assert bank.client.post("/v1/timebank/transfers", headers={**bank.w.member, **key()},
                                json=theirs).status_code == 404
        assert (bank.minutes(bank.elder), bank.minutes(bank.volunteer)) == (50, 10)

    def test_minutes_out_of_bounds_are_422(self, bank):
        for minutes in (0, -5, 1441, 1.5, "60"):
            assert bank.deposit(minutes).status_code == 422  # type: ignore[arg-type]
        assert bank.minutes(bank.volunteer) == 0


class TestPolicies:
    def test_storage_cap_refuses_what_goes_over(self, bank):
        bank.policy(storage_cap_minutes=100)
        ok(bank.deposit(90), 201)
        refused = bank.deposit(11)
        assert refused.status_code == 409
        assert refused.json()["type"] == PROBLEM + "storage-cap-reached"
        ok(bank.deposit(10), 201)
        assert bank.minutes(bank.volunteer) == 100

    def test_storage_cap_can_donate_what_goes_over(self, bank):
        bank.policy(storage_cap_minutes=100, over_cap="donate")
        ok(bank.deposit(90), 201)
        over = ok(bank.deposit(30), 201)
        assert (over["balance_after"], over["donated"]) == (100, 20)
        assert bank.w.balance(bank.volunteer)["minutes_earned"] == 120
        pool = ok(bank.client.get(f"/v1/communities/{bank.w.community_id}/timebank",
                                  headers=bank.w.staff))
        assert pool["pool_minutes"] == 20

    def test_gifts_to_relatives_only(self, bank):
        bank.policy(gift_recipients="relatives")
        ok(bank.deposit(100), 201)

        def give(to: str) -> Any:
            return bank.client.post("/v1/timebank/transfers", headers={**bank.w.staff, **key()},
                                    json={"from_member_id": bank.volunteer, "to_member_id": to,
                                          "minutes": 10})

        refused = give(bank.elder)
        assert refused.status_code == 409
        assert refused.json()["type"] == PROBLEM + "gift-not-allowed"
        assert bank.client.post(f"/v1/members/{bank.volunteer}/relatives", headers=bank.w.staff,
                                json={"relative_id": bank.elder, "relation": "父母"}
                                ).status_code == 204
        ok(give(bank.elder), 201)
        household = ok(bank.client.post("/v1/households", headers=bank.w.staff, json={
            "community_id": bank.w.community_id, "address": "3栋201"}), 201)["id"]
        giver = ok(bank.client.post("/v1/members", headers=bank.w.staff, json={
            "community_id": bank.w.community_id, "name": "孙一", "household_id": household}),
            201)["id"]
        spouse = ok(bank.client.post("/v1/members", headers=bank.w.staff, json={
            "community_id": bank.w.community_id, "name": "孙二", "household_id": household}),
            201)["id"]
        ok(bank.deposit(30, volunteer=giver), 201)
        ok(bank.client.post("/v1/timebank/transfers", headers={**bank.w.staff, **key()}, json={
            "from_member_id": giver, "to_member_id": spouse, "minutes": 30}), 201)
        assert (bank.minutes(bank.elder), bank.minutes(spouse)) == (10, 30)

    def test_minimum_age_to_withdraw(self, bank):
        bank.policy(withdraw_min_age=60)
        ok(bank.deposit(100, volunteer=bank.elder), 201)

        def withdraw() -> Any:
            return bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
                "member_id": bank.elder, "minutes": 30, "service_type": "助浴"})

        def born(day: str) -> None:
            assert bank.client.put(f"/v1/members/{bank.elder}/birth-date", headers=bank.w.staff,
                                   json={"birth_date": day}).status_code == 204

        unknown = withdraw()
        assert unknown.json()["type"] == PROBLEM + "age-requirement-not-met"
        today = datetime.now(UTC).date()
        born(today.replace(year=today.year - 59).isoformat())
        assert withdraw().json()["type"] == PROBLEM + "age-requirement-not-met"
        born(today.replace(year=today.year - 61).isoformat())
        ok(withdraw(), 201)
        assert bank.minutes(bank.elder) == 70

    def test_team_minutes_can_only_be_donated(self, bank):
        bank.policy(team_minutes_donate_only=True)
        ok(bank.deposit(60, team="红马甲志愿队"), 201)
        ok(bank.deposit(20), 201)
        withdrawn = bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.volunteer, "minutes": 21, "service_type": "理发"})
        assert withdrawn.status_code == 409
        assert "服务队" in withdrawn.json()["detail"]
        gift = bank.client.post("/v1/timebank/transfers", headers={**bank.w.staff, **key()},
                                json={"from_member_id": bank.volunteer,
                                      "to_member_id": bank.elder, "minutes": 21})
        assert gift.json()["type"] == PROBLEM + "insufficient-balance"
        ok(bank.client.post("/v1/timebank/donations", headers=bank.w.staff,
                            json={"member_id": bank.volunteer, "minutes": 60}), 201)
        ok(bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.volunteer, "minutes": 20, "service_type": "理发"}), 201)
        assert bank.minutes(bank.volunteer) == 0

    def test_service_earns_points_where_a_rule_says_so(self, bank):
        ok(bank.client.put(f"/v1/communities/{bank.w.community_id}/rules/SERVICE",
                           headers=bank.w.staff, json={"name": "志愿服务", "points": 10,
                                                       "unit": "hour", "daily_cap": 25}))
        bank.policy(service_rule_code="SERVICE")
        assert ok(bank.deposit(90), 201)["points_awarded"] == 15
        assert ok(bank.deposit(120), 201)["points_awarded"] == 10  # the rule's daily cap
        assert ok(bank.deposit(60), 201)["points_awarded"] == 0
        balance = bank.w.balance(bank.volunteer)
        assert (balance["points"], balance["minutes"]) == (25, 270)

    def test_an_unknown_service_rule_is_refused(self, bank):
        response = bank.client.put(f"/v1/communities/{bank.w.community_id}/timebank/policy",
                                   headers=bank.w.staff, json={"service_rule_code": "NOPE"})
        assert response.status_code == 404
        policy = ok(bank.client.get(f"/v1/communities/{bank.w.community_id}/timebank/policy",
                                    headers=bank.w.member))
        assert policy["service_rule_code"] is None and policy["auto_confirm_days"] == 7


class TestAcrossCommunities:
    def test_care_from_another_communitys_volunteer_is_owed_within_the_limit(self, bank):
        other = Town.standard(bank.client, "湖滨社区")
        helper = other.member_id
        ok(bank.deposit(200, volunteer=bank.elder), 201)
        order = bank.request()
        ok(bank.step(order, "dispatch", volunteer_id=helper))
        volunteer = other.member
        ok(bank.step(order, "accept", headers=volunteer))
        ok(bank.step(order, "complete", headers=volunteer, minutes=60))
        ok(bank.step(order, "rate", headers=bank.w.member, stars=5))
        assert other.balance(helper)["minutes"] == 60  # issued by the volunteer's community
        ok(bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.elder, "minutes": 60, "service_type": "助餐",
            "service_request_id": order}), 201)
        ours = ok(bank.client.get(f"/v1/communities/{bank.w.community_id}/timebank",
                                  headers=bank.w.staff))["positions"]
        theirs = ok(bank.client.get(f"/v1/communities/{other.community_id}/timebank",
                                    headers=other.staff))["positions"]
        assert [(p["partner_id"], p["owes"]) for p in ours] == [(other.community_id, 60)]
        assert [(p["partner_id"], p["owes"]) for p in theirs] == [(bank.w.community_id, -60)]
        limit = ok(bank.client.put(
            f"/v1/communities/{other.community_id}/timebank/partners/{bank.w.community_id}",
            headers=other.staff, json={"credit_limit_minutes": 100}))
        assert (limit["owes"], limit["we_allow"]) == (-60, 100)
        refused = bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.elder, "minutes": 41, "service_type": "助餐",
            "provider_id": helper})
        assert refused.status_code == 409
        assert refused.json()["type"] == PROBLEM + "credit-limit-reached"
        ok(bank.client.post("/v1/timebank/withdrawals", headers=bank.w.staff, json={
            "member_id": bank.elder, "minutes": 40, "service_type": "助餐",
            "provider_id": helper}), 201)
        ours = ok(bank.client.get(f"/v1/communities/{bank.w.community_id}/timebank",
                                  headers=bank.w.staff))["positions"]
        assert (ours[0]["owes"], ours[0]["partner_allows"]) == (100, 100)
        assert bank.minutes(bank.elder) == 100
        totals = queries.asset_totals(bank.client.app.state.linli.engine)
        assert totals["MINUTES"] == 0 and totals["POINTS"] == 0

    def test_only_own_communitys_staff_set_its_limits(self, bank):
        other = Town.standard(bank.client, "湖滨社区")
        response = bank.client.put(
            f"/v1/communities/{other.community_id}/timebank/partners/{bank.w.community_id}",
            headers=bank.w.staff, json={"credit_limit_minutes": 0})
        assert response.status_code == 404


class TestWhoMayMoveMinutes:
    def test_roles_and_scopes(self, bank):
        body = {"volunteer_id": bank.volunteer, "minutes": 30, "service_type": "陪诊"}
        for headers in (bank.w.merchant, bank.w.auditor, bank.w.member):
            response = bank.client.post("/v1/timebank/deposits", headers=headers, json=body)
            assert response.status_code == 403
        other = Town.standard(bank.client, "湖滨社区")
        assert bank.client.post("/v1/timebank/deposits", headers=other.staff,
                                json=body).status_code == 404
        assert bank.client.post("/v1/timebank/withdrawals", headers=bank.w.member, json={
            "member_id": bank.elder, "minutes": 5, "service_type": "助浴"}).status_code == 403
        assert bank.client.post("/v1/timebank/donations", headers=bank.w.member, json={
            "member_id": bank.volunteer, "minutes": 5}).status_code == 404
        assert bank.client.get(f"/v1/members/{bank.volunteer}/service-record",
                               headers=bank.w.member).status_code == 404
        assert bank.client.get(f"/v1/communities/{bank.w.community_id}/timebank",
                               headers=other.staff).status_code == 404
        assert bank.minutes(bank.volunteer) == 0
