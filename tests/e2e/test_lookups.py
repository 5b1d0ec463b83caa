"""The reads the pages need (who am I, passbook lookup, member search, pending awards) and the
pages' own routes (shells, QR codes, charts), through the real app on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.scenario import Town, auth, ok


class TestWhoAmI:
    def test_a_token_tells_its_role_and_scope(self, client: TestClient) -> None:
        world = Town.standard(client)
        me = ok(client.get("/v1/me", headers=world.member))
        assert me == {"role": "member", "community_id": world.community_id,
                      "merchant_id": None, "member_id": world.member_id,
                      "district_id": None, "communities": None}
        assert ok(client.get("/v1/me", headers=world.merchant))["merchant_id"] == \
            world.merchant_id

    def test_an_unknown_token_is_401(self, client: TestClient) -> None:
        assert client.get("/v1/me", headers=auth("nope")).status_code == 401


class TestPassbookLookup:
    def test_a_till_finds_the_member_with_the_name_masked(self, client: TestClient) -> None:
        world = Town.standard(client)
        number = ok(client.get(f"/v1/members/{world.member_id}", headers=world.staff))[
            "passbook_no"]
        found = ok(client.get(f"/v1/passbooks/{number}", headers=world.merchant))
        assert found["member_id"] == world.member_id
        assert found["name"] == "张*"
        assert ok(client.get(f"/v1/passbooks/{number}", headers=world.staff))["name"] == "张三"

    def test_another_communitys_passbook_is_not_found(self, client: TestClient) -> None:
        here, there = Town.standard(client), Town.standard(client, "湖滨社区")
        number = ok(client.get(f"/v1/members/{there.member_id}", headers=there.staff))[
            "passbook_no"]
        response = client.get(f"/v1/passbooks/{number}", headers=here.merchant)
        assert response.status_code == 404
        assert response.json()["type"].endswith("/not-found")

    def test_a_member_may_not_look_up_passbooks(self, client: TestClient) -> None:
        world = Town.standard(client)
        assert client.get("/v1/passbooks/X-000001", headers=world.member).status_code == 403


class TestMemberSearch:
    def test_by_the_start_of_a_name_in_name_order(self, client: TestClient) -> None:
        world = Town.standard(client)
        world.add_member("李红")
        world.add_member("李建国")
        found = ok(client.get(f"/v1/members?community_id={world.community_id}&q=李",
                              headers=world.staff))["items"]
        assert [m["name"] for m in found] == ["李建国", "李红"]
        everyone = ok(client.get("/v1/members", headers=world.staff))["items"]
        assert [m["name"] for m in everyone] == ["李建国", "李红", "张三"]  # latest first
        wildcard = ok(client.get("/v1/members?q=%25", headers=world.staff))["items"]
        assert wildcard == []  # % is a character here, not a pattern

    def test_outside_the_staff_community_is_404(self, client: TestClient) -> None:
        here, there = Town.standard(client), Town.standard(client, "湖滨社区")
        response = client.get(f"/v1/members?community_id={there.community_id}",
                              headers=here.staff)
        assert response.status_code == 404


class TestPendingAwards:
    def test_pending_until_approved_or_rejected(self, client: TestClient) -> None:
        world = Town.standard(client)
        ok(client.put(f"/v1/communities/{world.community_id}/rules/MEDIATION", json={
            "name": "纠纷调解", "points": 5, "unit": "each", "requires_approval": True}))
        first = ok(client.post("/v1/awards", headers=world.staff, json={
            "member_id": world.member_id, "rule_code": "MEDIATION", "quantity": 2}), 201)
        second = ok(client.post("/v1/awards", headers=world.staff, json={
            "member_id": world.member_id, "rule_code": "MEDIATION"}), 201)
        world.award(3)  # posted at once: never pending

        listed = ok(client.get("/v1/awards?status=pending", headers=world.staff))["items"]
        assert [(a["id"], a["points"], a["member_name"], a["rule_name"]) for a in listed] == [
            (first["id"], 10, "张三", "纠纷调解"), (second["id"], 5, "张三", "纠纷调解")]

        ok(client.post(f"/v1/awards/{first['id']}/approve", headers=world.staff))
        ok(client.post(f"/v1/awards/{second['id']}/reject", headers=world.staff,
                       json={"reason": "重复登记"}))
        assert ok(client.get("/v1/awards", headers=world.staff))["items"] == []

    def test_other_communities_pending_awards_are_not_listed(self, client: TestClient) -> None:
        here, there = Town.standard(client), Town.standard(client, "湖滨社区")
        ok(client.put(f"/v1/communities/{there.community_id}/rules/M", json={
            "name": "纠纷调解", "points": 5, "unit": "each", "requires_approval": True}))
        ok(client.post("/v1/awards", headers=there.staff, json={
            "member_id": there.member_id, "rule_code": "M"}), 201)
        assert ok(client.get("/v1/awards", headers=here.staff))["items"] == []
        assert len(ok(client.get("/v1/awards", headers=there.staff))["items"]) == 1
        assert client.get("/v1/awards", headers=here.merchant).status_code == 403


class TestPageRoutes:
    def test_pages_are_chinese_by_default_and_english_on_request(
            self, client: TestClient) -> None:
        for name in ("", "signin", "volunteer", "screen", "staff", "till"):
            page = client.get(f"/web/{name}")
            assert page.status_code == 200
            assert '<html lang="zh-CN">' in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
        english = client.get("/web/volunteer?lang=en")
        assert '<html lang="en">' in english.text and "Passbook" in english.text
        assert client.get("/web/nowhere").status_code == 404
        assert client.get("/", follow_redirects=False).headers["location"] == "/web/"

    def test_a_qr_code_is_an_svg(self, client: TestClient) -> None:
        qr = client.get("/web/qr.svg?text=0001-000001")
        assert qr.headers["content-type"] == "image/svg+xml"
        assert qr.text.startswith("<svg") and "0001-000001" in qr.text
        secret = client.post("/web/qr.svg", json={"text": "http://x/web/signin#token=abc"})
        assert secret.status_code == 200 and secret.headers["cache-control"] == "no-store"
        assert client.get("/web/qr.svg?text=" + "x" * 301).status_code == 422

    def test_the_dashboard_chart_draws_the_months_bars(self, client: TestClient) -> None:
        world = Town.standard(client)
        world.award(30)
        assert world.redeem(12).status_code == 201
        year = ok(client.get(f"/v1/members/{world.member_id}/balance"))["as_of"][:4]
        chart = client.get(f"/web/charts/dashboard.svg?year={year}", headers=world.staff)
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
        assert "发放 30</title>" in chart.text and "兑换 12</title>" in chart.text
        hours = client.get(f"/web/charts/dashboard.svg?year={year}&figure=hours&lang=en",
                           headers=world.staff)
        assert "Hours banked per month" in hours.text
        denied = client.get(f"/web/charts/dashboard.svg?year={year}", headers=world.member)
        assert denied.status_code == 403


class TestAwardDetails:
    def test_a_member_reads_what_lies_behind_its_own_award_lines(
            self, client: TestClient) -> None:
        world = Town.standard(client)
        ok(client.put(f"/v1/communities/{world.community_id}/rules/VOLUNTEER", json={
            "name": "志愿服务", "points": 10, "unit": "hour"}))
        hours = ok(client.post("/v1/awards", headers=world.staff, json={
            "member_id": world.member_id, "rule_code": "VOLUNTEER", "minutes": 120}), 201)
        other = world.award(3, member_id=world.add_member())
        lines = ok(client.get(f"/v1/members/{world.member_id}/passbook",
                              headers=world.member))["items"]
        ids = ",".join(line["reference"].removeprefix("award:") for line in lines)

        found = ok(client.get(f"/v1/members/{world.member_id}/awards?ids={ids},{other['id']}",
                              headers=world.member))["items"]
        assert [(a["id"], a["minutes"], a["points"]) for a in found] == [
            (hours["id"], 120, 20)]  # the other member's award is left out

    def test_bad_ids_are_422_and_another_member_is_404(self, client: TestClient) -> None:
        world = Town.standard(client)
        bad = client.get(f"/v1/members/{world.member_id}/awards?ids=nope", headers=world.member)
        assert bad.status_code == 422 and bad.json()["type"].endswith("/invalid-request")
        stranger = world.add_member()
        response = client.get(f"/v1/members/{stranger}/awards?ids=", headers=world.member)
        assert response.status_code == 404
