"""The till through HTTP: holds, statements, settlement, the points policy, rate limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import open_linli
from api.exports import XLSX_TYPE
from tests.e2e.test_reports import rows_of_csv, rows_of_xlsx, same_cells
from tests.scenario import Town, auth, key, ok, problem_type


def hold(world, points: int, seconds: int = 600, member_id: str | None = None):
    return world.client.post("/v1/holds", headers={**world.merchant, **key()}, json={
        "member_id": member_id or world.member_id, "points": points,
        "expires_in_seconds": seconds})


class TestHolds:
    def test_hold_then_partial_capture(self, client):
        world = Town.standard(client)
        world.award(50)
        placed = ok(hold(world, 30), 201)
        assert placed["status"] == "held"
        balance = world.balance()
        assert (balance["points"], balance["points_held"], balance["points_available"]) == (
            50, 30, 20)
        assert problem_type(world.redeem(21)) == "insufficient-balance"

        captured = ok(client.post(f"/v1/holds/{placed['id']}/capture", headers=world.merchant,
                                  json={"points": 12}))

        assert (captured["status"], captured["points"], captured["balance_after"]) == (
            "captured", 12, 38)
        balance = world.balance()
        assert (balance["points"], balance["points_held"]) == (38, 0)
        shown = ok(client.get(f"/v1/holds/{placed['id']}", headers=world.merchant))
        assert (shown["status"], shown["redemption_id"]) == ("captured",
                                                             captured["redemption_id"])

    def test_void_releases_and_a_second_void_changes_nothing(self, client):
        world = Town.standard(client)
        world.award(10)
        placed = ok(hold(world, 10), 201)

        for _ in range(2):
            voided = ok(client.post(f"/v1/holds/{placed['id']}/void", headers=world.merchant))
            assert voided["status"] == "voided"

        assert world.balance()["points_available"] == 10
        after = client.post(f"/v1/holds/{placed['id']}/capture", headers=world.merchant)
        assert (after.status_code, problem_type(after)) == (409, "hold-voided")

    def test_double_capture_and_void_after_capture_are_refused(self, client):
        world = Town.standard(client)
        world.award(10)
        placed = ok(hold(world, 4), 201)
        ok(client.post(f"/v1/holds/{placed['id']}/capture", headers=world.merchant))

        again = client.post(f"/v1/holds/{placed['id']}/capture", headers=world.merchant)
        void = client.post(f"/v1/holds/{placed['id']}/void", headers=world.merchant)

        assert (again.status_code, problem_type(again)) == (409, "hold-already-captured")
        assert (void.status_code, problem_type(void)) == (409, "hold-already-captured")
        assert world.balance()["points"] == 6

    def test_capture_after_expiry_is_refused_and_the_sweeper_releases_the_points(
            self, client, linli):
        world = Town.standard(client)
        world.award(10)
        placed = ok(hold(world, 10, seconds=30), 201)
        linli.clock = lambda: datetime.now(UTC) + timedelta(seconds=31)

        late = client.post(f"/v1/holds/{placed['id']}/capture", headers=world.merchant)
        assert (late.status_code, problem_type(late)) == (409, "hold-expired")
        linli.read_your_writes()
        assert linli.sweeper is not None and linli.sweeper.run_once() == (1, 0)

        shown = ok(client.get(f"/v1/holds/{placed['id']}", headers=world.merchant))
        assert shown["status"] == "expired"
        assert world.balance()["points_available"] == 10

    def test_capture_more_than_held_is_refused(self, client):
        world = Town.standard(client)
        world.award(10)
        placed = ok(hold(world, 4), 201)
        over = client.post(f"/v1/holds/{placed['id']}/capture", headers=world.merchant,
                           json={"points": 5})
        assert (over.status_code, problem_type(over)) == (409, "capture-exceeds-hold")

    def test_another_merchant_cannot_touch_the_hold(self, client):
        world = Town.standard(client)
        world.award(10)
        placed = ok(hold(world, 4), 201)
        other = ok(client.post("/v1/merchants", json={"community_id": world.community_id,
                                                       "name": "理发店"}), 201)
        other_till = world.token(role="merchant", merchant_id=other["id"])

        for step in ("capture", "void"):
            response = client.post(f"/v1/holds/{placed['id']}/{step}", headers=other_till)
            assert response.status_code == 404
        assert world.balance()["points_held"] == 4

    def test_a_hold_needs_an_idempotency_key_and_replays(self, client):
        world = Town.standard(client)
        world.award(10)
        body = {"member_id": world.member_id, "points": 3}
        missing = client.post("/v1/holds", headers=world.merchant, json=body)
        assert (missing.status_code, problem_type(missing)) == (400, "idempotency-key-required")
        headers = {**world.merchant, **key()}
        first = client.post("/v1/holds", headers=headers, json=body)
        second = client.post("/v1/holds", headers=headers, json=body)
        assert first.status_code == second.status_code == 201
        assert first.content == second.content
        assert world.balance()["points_held"] == 3


class TestStatementAndSettlement:
    def test_statement_totals_equal_its_lines_and_settling_twice_settles_once(self, client):
        world = Town.standard(client)
        world.award(100)
        first = ok(world.redeem(40), 201)
        ok(world.redeem(25), 201)
        ok(client.post(f"/v1/redemptions/{first['id']}/refunds",
                       headers={**world.merchant, **key()}, json={"points": 10}), 201)

        settled = ok(client.post(f"/v1/merchants/{world.merchant_id}/settlements",
                                 headers=world.staff, json={}), 201)
        again = client.post(f"/v1/merchants/{world.merchant_id}/settlements",
                            headers=world.staff, json={})

        assert settled["points"] == 55
        assert (again.status_code, problem_type(again)) == (409, "nothing-to-settle")
        statement = ok(client.get(f"/v1/merchants/{world.merchant_id}/statement",
                                  headers=world.merchant))
        totals = statement["totals"]
        assert totals == {"redeemed": 65, "refunded": 10, "settled": 55, "adjusted": 0,
                          "unsettled": 0}
        lines = statement["items"]
        assert [line["kind"] for line in lines] == [
            "settlement", "refund", "redemption", "redemption"]
        assert sum(line["points"] for line in lines) == (
            totals["redeemed"] - totals["refunded"] - totals["settled"])

    def test_the_statement_as_csv_and_xlsx_holds_every_line_and_the_totals(self, client):
        world = Town.standard(client)
        world.award(100)
        for points in (10, 20, 30):
            ok(world.redeem(points), 201)
        url = f"/v1/merchants/{world.merchant_id}/statement"
        as_csv = rows_of_csv(client.get(url, params={"format": "csv", "limit": 1},
                                        headers=world.merchant).content)
        as_xlsx = rows_of_xlsx(client.get(url, headers={
            **world.merchant, "Accept": XLSX_TYPE}).content)
        assert same_cells([r[1:] for r in as_csv]) == same_cells([r[1:] for r in as_xlsx])
        assert as_csv[0] == ["时间", "类别", "积分", "余额", "凭证号", "摘要"]
        assert [(r[1], r[2], r[3]) for r in as_csv[1:5]] == [
            ("期初余额", "0", "0"), ("积分兑换", "10", "10"),
            ("积分兑换", "20", "30"), ("积分兑换", "30", "60")]
        assert ["合计：兑换", "60"] in [r[1:3] for r in as_csv]

    def test_a_keyed_settlement_replays(self, client):
        world = Town.standard(client)
        world.award(10)
        ok(world.redeem(10), 201)
        headers = {**world.staff, **key()}
        url = f"/v1/merchants/{world.merchant_id}/settlements"
        first = client.post(url, headers=headers, json={})
        second = client.post(url, headers=headers, json={})
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.content == second.content

    def test_statement_period_and_paging(self, client):
        world = Town.standard(client)
        world.award(10)
        for _ in range(5):
            ok(world.redeem(1), 201)
        url = f"/v1/merchants/{world.merchant_id}/statement"
        page = ok(client.get(url, headers=world.merchant, params={"limit": 2}))
        rest = ok(client.get(url, headers=world.merchant,
                             params={"limit": 10, "cursor": page["next_cursor"]}))
        assert len(page["items"]) == 2 and len(rest["items"]) == 3
        assert rest["next_cursor"] is None
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        empty = ok(client.get(url, headers=world.merchant, params={"from": future}))
        assert empty["items"] == [] and empty["opening_balance"] == 5
        assert empty["totals"]["unsettled"] == 5
        for bad in ("abc", "-1"):
            response = client.get(url, headers=world.merchant, params={"cursor": bad})
            assert (response.status_code, problem_type(response)) == (422, "validation-error")

    def test_only_the_merchant_itself_reads_its_statement(self, client):
        world = Town.standard(client)
        other = ok(client.post("/v1/merchants", json={"community_id": world.community_id,
                                                       "name": "理发店"}), 201)
        response = client.get(f"/v1/merchants/{other['id']}/statement", headers=world.merchant)
        assert response.status_code == 404
        passbook = client.get(f"/v1/members/{world.member_id}/passbook",
                              headers=world.merchant)
        assert passbook.status_code == 403
        assert ok(client.get(f"/v1/merchants/{other['id']}/statement",
                             headers=world.staff))["items"] == []


class TestPolicy:
    def test_staff_set_expiry_and_the_balance_shows_it(self, client):
        world = Town.standard(client)
        policy = ok(client.put(f"/v1/communities/{world.community_id}/policy",
                               headers=world.staff, json={
                                   "points_expiry": "end_of_nth_year", "n": 1,
                                   "daily_redemption_limit_points": 30,
                                   "redemption_consent": "member_id"}))
        assert policy["points_expiry"] == "end_of_nth_year"
        world.award(40)

        balance = world.balance()

        assert balance["points_expiring_next"] == 40
        expected_year = datetime.now(UTC).year + 2  # midnight of 1 January, Shanghai
        assert balance["points_expiring_at"].startswith(f"{expected_year - 1}-12-31T16:00")
        assert problem_type(world.redeem(31)) == "redemption-limit-reached"
        assert ok(client.get(f"/v1/communities/{world.community_id}/policy",
                             headers=world.member))["daily_redemption_limit_points"] == 30

    @pytest.mark.parametrize("body", [{"points_expiry": "sometimes"}, {"n": -1},
                                      {"daily_redemption_limit_points": 0}, {"extra": 1}])
    def test_bad_policies_are_refused(self, client, body):
        world = Town.standard(client)
        response = client.put(f"/v1/communities/{world.community_id}/policy",
                              headers=world.staff, json=body)
        assert (response.status_code, problem_type(response)) == (422, "validation-error")

    def test_a_merchant_cannot_set_the_policy(self, client):
        world = Town.standard(client)
        response = client.put(f"/v1/communities/{world.community_id}/policy",
                              headers=world.merchant, json={})
        assert response.status_code == 403


class TestRateLimit:
    def test_a_hundred_requests_in_a_second_on_one_token_are_mostly_refused(self, settings):
        limited = settings.model_copy(update={"rate_limit_per_second": 10.0,
                                              "rate_limit_burst": 10})
        linli = open_linli(limited)
        with TestClient(create_app(linli=linli)) as client:
            headers = auth(limited.admin_token or "")
            community = client.post("/v1/communities", headers=headers,
                                    json={"name": f"c{uuid.uuid4().hex[:6]}"}).json()
            responses = [client.get(f"/v1/communities/{community['id']}", headers=headers)
                         for _ in range(100)]
        linli.close()

        refused = [r for r in responses if r.status_code == 429]
        assert len(refused) >= 70
        assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
        assert problem_type(refused[0]) == "rate-limited"
        assert sum(r.status_code == 200 for r in responses) >= 5



