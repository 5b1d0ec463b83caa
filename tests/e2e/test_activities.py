"""Activities (活动签到): check-in by QR code or by staff, check-out, closing with points
and time-bank minutes; every refusal with its own problem and nothing moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.scenario import Town, ok, problem_type

START = datetime(2098, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
END = START + timedelta(hours=2)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, linli: Any) -> None:
        self.now = START
        linli.clock = lambda: self.now

    def at(self, minutes: int) -> None:
        """Minutes after the activity's start (negative: before it)."""
        self.now = START + timedelta(minutes=minutes)


@pytest.fixture
def clock(linli: Any) -> Clock:
    return Clock(linli)


@pytest.fixture
def town(client: Any) -> Town:
    town = Town.standard(client)
    town.add_rule("VOL", 10, "hour", name="志愿服务")
    return town


def schedule(town: Town, **extra: Any) -> dict[str, Any]:
    body = {"community_id": town.community_id, "title": "清扫楼道", "place": "3号楼",
            "starts_at": START.isoformat(), "ends_at": END.isoformat(), **extra}
    made: dict[str, Any] = ok(town.client.post("/v1/activities", json=body,
                                               headers=town.staff), 201)
    return made


def check(town: Town, activity: dict[str, Any], way: str = "check-ins",
          headers: dict[str, str] | None = None, **body: Any) -> Any:
    if not body:
        body = {"code": activity["check_in_code"]}
    return town.client.post(f"/v1/activities/{activity['id']}/{way}", json=body,
                            headers=headers if headers is not None else town.member)


def close(town: Town, activity: dict[str, Any]) -> Any:
    return town.client.post(f"/v1/activities/{activity['id']}/close", headers=town.staff)


def test_attendees_earn_points_and_minutes_for_the_time_within_the_window(town, clock):
    activity = schedule(town, rule_code="VOL", timebank=True)
    other = town.add_member("李四")
    late = town.add_member("王五")
    clock.at(-20)  # early: counts from the start
    ok(check(town, activity), 201)
    clock.at(30)
    ok(check(town, activity, member_id=other, headers=town.staff), 201)
    ok(check(town, activity, member_id=late, headers=town.staff), 201)
    clock.at(90)
    ok(check(town, activity, member_id=other, way="check-outs", headers=town.staff), 201)
    clock.at(150)  # after the end: counts until the end
    ok(check(town, activity, way="check-outs"), 201)
    shown = ok(town.client.get(f"/v1/activities/{activity['id']}", headers=town.staff))
    assert [(a["name"], a["minutes"]) for a in shown["attendees"]] == [
        ("张三", 120), ("李四", 60), ("王五", None)]
    closed = ok(close(town, activity))
    assert closed == {"attendees": 3, "awards": 2, "points_awarded": 30,
                      "minutes_deposited": 180, "unfinished": [late]}
    assert (town.balance()["points"], town.balance()["minutes"]) == (20, 120)
    assert (town.balance(other)["points"], town.balance(other)["minutes"]) == (10, 60)
    assert (town.balance(late)["points"], town.balance(late)["minutes"]) == (0, 0)
    again = close(town, activity)
    assert (again.status_code, problem_type(again)) == (409, "activity-closed")
    assert town.balance()["points"] == 20
    line = ok(town.client.get(f"/v1/members/{other}/passbook", headers=town.staff,
                              params={"asset": "POINTS"}))["items"][0]
    assert line["amount"] == 10


def test_points_only_or_minutes_only(town, clock):
    points_only = schedule(town, rule_code="VOL")
    minutes_only = schedule(town, timebank=True)
    for activity in (points_only, minutes_only):
        clock.at(0)
        ok(check(town, activity), 201)
        clock.at(45)
        ok(check(town, activity, way="check-outs"), 201)
    assert ok(close(town, points_only))["awards"] == 1
    assert ok(close(town, minutes_only))["minutes_deposited"] == 45
    assert (town.balance()["points"], town.balance()["minutes"]) == (7, 45)


def test_a_capped_attendee_does_not_stop_the_others(town, clock):
    town.add_rule("CAPPED", 10, "hour", daily_cap=5)
    activity = schedule(town, rule_code="CAPPED")
    other = town.add_member("李四")
    town.award(member_id=other, code="CAPPED", minutes=30)  # the day's 5 points
    for member in (town.member_id, other):
        ok(check(town, activity, member_id=member, headers=town.staff), 201)
    clock.at(60)
    for member in (town.member_id, other):
        ok(check(town, activity, way="check-outs", member_id=member, headers=town.staff), 201)
    assert ok(close(town, activity))["awards"] == 1
    assert town.balance()["points"] == 5 and town.balance(other)["points"] == 5


def test_check_in_window_twice_and_check_out_refusals(town, clock):
    activity = schedule(town)
    clock.at(-31)
    early = check(town, activity)
    assert (early.status_code, problem_type(early)) == (409, "check-in-outside-window")
    clock.at(121)
    late = check(town, activity)
    assert (late.status_code, problem_type(late)) == (409, "check-in-outside-window")
    clock.at(-30)
    no_in = check(town, activity, way="check-outs")
    assert (no_in.status_code, problem_type(no_in)) == (409, "not-checked-in")
    ok(check(town, activity), 201)
    twice = check(town, activity)
    assert (twice.status_code, problem_type(twice)) == (409, "already-checked-in")
    ok(check(town, activity, way="check-outs"), 201)
    out_twice = check(town, activity, way="check-outs")
    assert (out_twice.status_code, problem_type(out_twice)) == (409, "already-checked-out")
    ok(close(town, activity))
    after = check(town, activity, member_id=town.add_member(), headers=town.staff)
    assert (after.status_code, problem_type(after)) == (409, "activity-closed")


def test_a_wrong_or_stale_code_is_refused(town, clock):
    activity = schedule(town)
    earlier = schedule(town)
    for code in ("not-the-code", earlier["check_in_code"]):
        wrong = check(town, activity, code=code)
        assert (wrong.status_code, problem_type(wrong)) == (409, "check-in-code-invalid")
    shown = ok(town.client.get(f"/v1/activities/{activity['id']}", headers=town.member))
    assert shown["attendees"] == [] and shown["check_in_code"] is None


def test_another_communitys_members_and_staff_are_not_found(town, client, clock):
    activity = schedule(town)
    there = Town.standard(client, "别的社区")
    stranger = check(town, activity, headers=there.member, code=activity["check_in_code"])
    assert (stranger.status_code, problem_type(stranger)) == (404, "not-found")
    named = check(town, activity, member_id=there.member_id, headers=town.staff)
    assert (named.status_code, problem_type(named)) == (404, "not-found")
    by_their_staff = check(town, activity, member_id=town.member_id, headers=there.staff)
    assert by_their_staff.status_code == 404
    assert client.get(f"/v1/activities/{activity['id']}", headers=there.staff).status_code == 404
    assert close(there, activity).status_code == 404
    listed = client.get("/v1/activities", params={"community_id": town.community_id},
                        headers=there.staff)
    assert listed.status_code == 404


def test_who_may_do_what(town, clock):
    activity = schedule(town)
    body = {"community_id": town.community_id, "title": "义诊", "starts_at": START.isoformat(),
            "ends_at": END.isoformat()}
    for headers in (town.member, town.merchant, town.auditor):
        assert town.client.post("/v1/activities", json=body, headers=headers).status_code == 403
        refused = town.client.post(f"/v1/activities/{activity['id']}/close", headers=headers)
        assert refused.status_code == 403
    member_names = check(town, activity, member_id=town.member_id)
    assert (member_names.status_code, problem_type(member_names)) == (422, "invalid-request")
    staff_no_member = check(town, activity, code=activity["check_in_code"], headers=town.staff)
    assert staff_no_member.status_code == 422
    both = check(town, activity, code="x", member_id=town.member_id, headers=town.staff)
    assert both.status_code == 422


def test_bad_activities_are_refused(town):
    bad = [({"ends_at": START.isoformat()}, 422),
           ({"ends_at": (START + timedelta(hours=25)).isoformat()}, 422),
           ({"rule_code": "NOPE"}, 404), ({"rule_code": "GIFT"}, 422), ({"title": "   "}, 422),
           ({"community_id": "00000000-0000-0000-0000-000000000000"}, 404)]
    for extra, status in bad:
        body = {"community_id": town.community_id, "title": "清扫楼道",
                "starts_at": START.isoformat(), "ends_at": END.isoformat(), **extra}
        refused = town.client.post("/v1/activities", json=body, headers=town.staff)
        assert refused.status_code == status, (extra, refused.text)


def test_the_list_shows_the_latest_first(town, client):
    first = schedule(town)
    second = schedule(town, title="义诊")
    listed = ok(client.get("/v1/activities", params={"community_id": town.community_id},
                           headers=town.staff))["items"]
    assert [a["id"] for a in listed] == [second["id"], first["id"]]
    assert listed[0]["check_in_code"] == second["check_in_code"]
    by_member = ok(client.get("/v1/activities", params={"community_id": town.community_id},
                              headers=town.member))["items"]
    assert by_member[0]["check_in_code"] is None
