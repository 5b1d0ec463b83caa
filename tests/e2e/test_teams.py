"""Volunteer teams, the service catalogue and the service report through HTTP, on both
backends: a team takes an order (the first member to accept wins), the teams' board, a
catalogue's services and defaults and rules, and the report's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.bootstrap import Linli
from tests.scenario import Town, auth, ok, problem_type

T0 = datetime(2098, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 on 10 March in Shanghai


class Teams:
    """116社区 with an elder (the cast's member), the team 小飞剪 of two volunteers, and an
    outsider who is in no team."""

    def __init__(self, client: Any) -> None:
        self.t = Town.standard(client)
        self.client = client
        self.a = self.t.add_member("王志愿")
        self.b = self.t.add_member("李志愿")
        self.outsider = self.t.add_member("赵路人")
        self.team = ok(client.post("/v1/teams", headers=self.t.staff, json={
            "community_id": self.t.community_id, "name": "小飞剪"}), 201)["id"]
        for member in (self.a, self.b):
            self.add(member)

    def add(self, member_id: str, team_id: str | None = None, status: int = 200) -> Any:
        return self.client.post(f"/v1/teams/{team_id or self.team}/members",
                                headers=self.t.staff, json={"member_id": member_id})

    def token(self, member_id: str) -> dict[str, str]:
        return self.t.token(role="member", member_id=member_id)

    def order(self, service_type: str = "助餐", **extra: Any) -> dict[str, Any]:
        return dict(ok(self.client.post("/v1/service-requests", headers=self.t.staff, json={
            "requester_id": self.t.member_id, "service_type": service_type, **extra}), 201))

    def step(self, order_id: str, step: str, body: Any = None,
             headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/v1/service-requests/{order_id}/{step}", json=body,
                                headers=headers if headers is not None else self.t.staff)


@pytest.fixture
def teams(client: Any) -> Teams:
    return Teams(client)


def test_a_team_forms_and_changes(teams: Teams) -> None:
    t = teams.t
    team = ok(teams.client.get(f"/v1/teams/{teams.team}", headers=t.staff))
    assert (team["name"], [m["name"] for m in team["members"]]) == ("小飞剪", ["王志愿", "李志愿"])
    ok(teams.client.delete(f"/v1/teams/{teams.team}/members/{teams.b}", headers=t.staff))
    listed = ok(teams.client.get("/v1/teams", headers=t.staff,
                                 params={"community_id": t.community_id}))
    assert [(i["name"], [m["member_id"] for m in i["members"]]) for i in listed["items"]] == [
        ("小飞剪", [teams.a])]
    assert ok(teams.client.get("/v1/teams", headers=t.auditor))["items"][0]["id"] == teams.team


def test_the_first_member_of_the_team_to_accept_takes_the_order(teams: Teams) -> None:
    t = teams.t
    order = teams.order()["id"]
    dispatched = ok(teams.step(order, "dispatch", {"team_id": teams.team}))
    assert (dispatched["status"], dispatched["team_id"], dispatched["volunteer_id"]) == (
        "dispatched", teams.team, None)
    a, b = teams.token(teams.a), teams.token(teams.b)
    for headers, seen in ((b, [order]), (teams.token(teams.outsider), [])):
        assert [i["id"] for i in ok(teams.client.get("/v1/service-requests", headers=headers,
                                                     params={"volunteer_id": teams.b}))[
            "items"]] == seen
    assert ok(teams.client.get(f"/v1/service-requests/{order}", headers=b))["id"] == order
    outsider = teams.step(order, "accept", headers=teams.token(teams.outsider))
    assert (outsider.status_code, problem_type(outsider)) == (404, "not-found")
    staff = teams.step(order, "accept")
    assert (staff.status_code, problem_type(staff)) == (409, "invalid-transition")
    listed = ok(teams.client.get("/v1/service-requests", headers=t.staff))["items"][0]
    assert (listed["status"], listed["volunteer_id"]) == ("dispatched", None)
    accepted = ok(teams.step(order, "accept", headers=a))
    assert (accepted["status"], accepted["volunteer_id"]) == ("accepted", teams.a)
    listed = ok(teams.client.get("/v1/service-requests", headers=t.staff))["items"][0]
    assert (listed["status"], listed["volunteer_id"]) == ("accepted", teams.a)
    assert [i["id"] for i in ok(teams.client.get("/v1/service-requests", headers=a))[
        "items"]] == [order]
    assert ok(teams.client.get("/v1/service-requests", headers=b))["items"] == []
    second = teams.step(order, "accept", headers=b)
    assert (second.status_code, problem_type(second)) == (409, "invalid-transition")
    ok(teams.step(order, "complete", {"minutes": 60}, headers=a))
    ok(teams.step(order, "rate", {"stars": 5}, headers=t.member))
    assert (t.balance(teams.a)["minutes"], t.balance(teams.b)["minutes"]) == (60, 0)
    record = ok(teams.client.get(f"/v1/members/{teams.a}/service-record", headers=t.staff))
    assert record["items"][0]["team"] == "小飞剪"
    board = ok(teams.client.get("/v1/leaderboards", headers=t.staff, params={
        "community_id": t.community_id, "subject": "team"}))
    assert [(i["rank"], i["name"], i["earned"]) for i in board["items"]] == [(1, "小飞剪", 60)]
    assert board["subject"] == "team"
    # the board keeps what was earned for the team after its volunteer leaves it
    ok(teams.client.delete(f"/v1/teams/{teams.team}/members/{teams.a}", headers=t.staff))
    assert ok(teams.client.get("/v1/leaderboards", headers=t.staff, params={
        "subject": "team", "period": "2000"}))["items"] == []
    assert [i["earned"] for i in ok(teams.client.get("/v1/leaderboards", headers=t.staff,
                                                     params={"subject": "team"}))["items"]] == [60]


def test_a_free_text_team_on_a_deposit_still_works(teams: Teams) -> None:
    t = teams.t
    ok(teams.client.put(f"/v1/communities/{t.community_id}/timebank/policy", headers=t.staff,
                        json={"team_minutes_donate_only": True}))
    ok(teams.client.post("/v1/timebank/deposits", headers=t.staff, json={
        "volunteer_id": teams.a, "minutes": 30, "service_type": "助洁", "team": "小飞剪"}), 201)
    refused = teams.client.post("/v1/timebank/withdrawals", headers=t.staff, json={
        "member_id": teams.a, "minutes": 10, "service_type": "助餐"})
    assert (refused.status_code, problem_type(refused)) == (409, "insufficient-balance")


def test_teams_refuse_what_does_not_fit(teams: Teams, client: Any) -> None:
    t = teams.t
    other = Town.standard(client, "湖滨社区")
    stranger = other.member_id
    foreign_team = ok(client.post("/v1/teams", headers=other.staff, json={
        "community_id": other.community_id, "name": "湖滨先锋队"}), 201)["id"]
    cases = [
        (teams.add(stranger), 422, "of-another-community"),
        (teams.add(teams.a), 422, "invalid-request"),
        (teams.add("00000000-0000-0000-0000-000000000000"), 404, "not-found"),
        (teams.add(teams.a, "00000000-0000-0000-0000-000000000000"), 404, "not-found"),
        (client.delete(f"/v1/teams/{teams.team}/members/{teams.outsider}", headers=t.staff),
         404, "not-found"),
        (client.post(f"/v1/teams/{foreign_team}/members", headers=t.staff,
                     json={"member_id": teams.a}), 404, "not-found"),
        (client.get(f"/v1/teams/{foreign_team}", headers=t.staff), 404, "not-found"),
        (client.post("/v1/teams", headers=t.staff, json={
            "community_id": other.community_id, "name": "越界队"}), 404, "not-found"),
        (client.post("/v1/teams", headers=t.staff, json={
            "community_id": t.community_id, "name": "   "}), 422, "validation-error"),
        (client.post("/v1/teams", headers=t.member, json={
            "community_id": t.community_id, "name": "自建队"}), 403, "forbidden"),
    ]
    order = teams.order()["id"]
    cases += [
        (teams.step(order, "dispatch", {"team_id": "00000000-0000-0000-0000-000000000000"}),
         404, "not-found"),
        (teams.step(order, "dispatch", {"team_id": foreign_team}), 422, "of-another-community"),
        (teams.step(order, "dispatch", {"team_id": teams.team, "volunteer_id": teams.a}),
         422, "validation-error"),
        (teams.step(order, "dispatch", {}), 422, "validation-error"),
    ]
    for response, status, slug in cases:
        assert (response.status_code, problem_type(response)) == (status, slug), response.text
    assert ok(teams.client.get(f"/v1/service-requests/{order}", headers=t.staff))[
        "status"] == "requested"
    assert [m["member_id"] for m in ok(client.get(f"/v1/teams/{teams.team}", headers=t.staff))[
        "members"]] == [teams.a, teams.b]


def test_the_catalogue_checks_requests_and_awards_its_rule(teams: Teams) -> None:
    t = teams.t
    c = teams.client
    path = f"/v1/communities/{t.community_id}/services"
    assert ok(c.get(path, headers=t.member))["items"] == []
    teams.order("随便什么")  # no catalogue yet: any service type
    t.add_rule("SERVICE", 1, "hour", name="助餐服务")
    ok(c.put(f"{path}/助餐", headers=t.staff, json={
        "name": "助餐", "default_minutes": 45, "rule_code": "SERVICE"}))
    ok(c.put(f"{path}/日间照料", headers=t.staff, json={"name": "日间照料",
                                                    "default_minutes": 240}))
    ok(c.put(f"{path}/助餐", headers=t.staff, json={
        "name": "助餐(送餐上门)", "default_minutes": 60, "rule_code": "SERVICE"}))
    listed = ok(c.get(path, headers=t.auditor))["items"]
    assert [(i["code"], i["name"], i["default_minutes"], i["rule_code"]) for i in listed] == [
        ("助餐", "助餐(送餐上门)", 60, "SERVICE"), ("日间照料", "日间照料", 240, None)]
    refused = c.post("/v1/service-requests", headers=t.staff, json={
        "requester_id": t.member_id, "service_type": "代购"})
    assert (refused.status_code, problem_type(refused)) == (422, "service-not-in-catalogue")
    assert "代购" in refused.json()["detail"]
    for body, status, slug in [
        ({"name": "助医", "default_minutes": 30, "rule_code": "NOPE"}, 404, "not-found"),
        ({"name": "助医", "default_minutes": 0}, 422, "validation-error"),
        ({"name": "助医", "default_minutes": 30, "colour": "red"}, 422, "validation-error"),
    ]:
        response = c.put(f"{path}/助医", headers=t.staff, json=body)
        assert (response.status_code, problem_type(response)) == (status, slug)
    for headers in (t.member, t.auditor):
        assert c.put(f"{path}/助医", headers=headers, json={
            "name": "助医", "default_minutes": 30}).status_code == 403
    assert teams.order("日间照料")["minutes_estimate"] == 240
    assert teams.order("日间照料", minutes_estimate=90)["minutes_estimate"] == 90
    order = teams.order("助餐")["id"]
    ok(teams.step(order, "dispatch", {"volunteer_id": teams.a}))
    ok(teams.step(order, "accept"))
    ok(teams.step(order, "complete", {"minutes": 120}))
    ok(teams.step(order, "rate", {"stars": 4}))
    assert (t.balance(teams.a)["minutes"], t.balance(teams.a)["points"]) == (120, 2)


def test_the_service_report(teams: Teams, linli: Linli) -> None:
    t = teams.t
    c = teams.client

    def at(minutes: int) -> None:
        linli.clock = lambda: T0 + timedelta(minutes=minutes)

    at(0)
    first, second, third = (teams.order()["id"] for _ in range(3))
    at(5)
    ok(teams.step(first, "dispatch", {"team_id": teams.team}))
    at(9)
    ok(teams.step(first, "dispatch", {"volunteer_id": teams.a}))  # the first dispatch counts
    ok(teams.step(second, "dispatch", {"volunteer_id": teams.b}))
    ok(teams.step(third, "dispatch", {"volunteer_id": teams.b}))
    for order, done, stars in ((first, 60, 5), (second, 120, 2), (third, 180, 4)):
        ok(teams.step(order, "accept"))
        at(done)
        ok(teams.step(order, "complete", {"minutes": 30}))
        ok(teams.step(order, "rate", {"stars": stars}))
    at(24 * 60)
    teams.order()
    report = ok(c.get("/v1/reports/service", headers=t.auditor, params={"period": "2098-03"}))
    assert {k: v for k, v in report.items() if k not in ("community_id", "period")} == {
        "requests": 4, "completed": 3, "rated": 3, "satisfaction_percent": 66.7,
        "median_dispatch_minutes": 9, "median_completion_minutes": 120}
    assert ok(c.get("/v1/reports/service", headers=t.staff, params={
        "community_id": t.community_id, "period": "2098-Q2"}))["requests"] == 0
    assert ok(c.get("/v1/reports/service", headers=t.staff))["requests"] == 4
    for params, status, slug in [({"period": "2098-13"}, 422, "invalid-period"),
                                 ({"community_id": "00000000-0000-0000-0000-000000000000"},
                                  404, "not-found")]:
        response = c.get("/v1/reports/service", headers=t.staff, params=params)
        assert (response.status_code, problem_type(response)) == (status, slug)
    assert c.get("/v1/reports/service", headers=t.member).status_code == 403
    review = ok(c.get(f"/v1/communities/{t.community_id}/reviews/2098-Q1", headers=t.staff))
    assert (review["service"]["requests"], review["service"]["satisfaction_percent"],
            review["previous_service"]["requests"]) == (4, 66.7, 0)
    sheet = c.get(f"/v1/communities/{t.community_id}/reviews/2098-Q1?format=csv",
                  headers=t.staff).text
    assert "志愿服务,,satisfaction_percent,满意度(%),66.7,," in sheet
    assert c.get("/v1/reports/service", headers=auth("nonsense")).status_code == 401
