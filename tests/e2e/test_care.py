"""The care roster through HTTP, on both backends: a resident put in care with an observer,
visits logged by the observer (earning the catalogue's minutes) or staff, the overdue list,
the observer's own list, and who may see the sensitive categories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.bootstrap import Linli
from tests.scenario import Town, ok, problem_type

T0 = datetime(2098, 3, 10, 2, 0, tzinfo=UTC)


def refused(response: Any) -> tuple[int, str]:
    return response.status_code, problem_type(response)


def test_an_observer_visits_and_staff_see_who_is_overdue(client: Any, linli: Linli) -> None:
    linli.clock = lambda: T0
    t = Town.standard(client)
    elder, other_elder = t.add_member("王奶奶"), t.add_member("陈爷爷")
    observer, stranger = t.add_member("李观察"), t.add_member("赵路人")
    elsewhere = Town.standard(client, "湖滨社区").member_id
    care = {"categories": ["独居", "高龄"], "observer_member_id": observer,
            "visit_every_days": 7}
    assert refused(client.put(f"/v1/members/{elder}/care", headers=t.staff, json={
        **care, "observer_member_id": elsewhere})) == (404, "not-found")
    assert client.put(f"/v1/members/{elder}/care", headers=t.staff, json={
        **care, "categories": ["富裕"]}).status_code == 422
    put = ok(client.put(f"/v1/members/{elder}/care", headers=t.staff, json=care))
    assert (put["categories"], put["observer_name"], put["due_at"]) == (
        ["独居", "高龄"], "李观察", "2098-03-17T02:00:00Z")
    ok(client.put(f"/v1/members/{other_elder}/care", headers=t.staff, json={
        **care, "categories": ["困难"], "visit_every_days": 3}))
    # the catalogue's 探访: 30 minutes, and 10 points an hour under VISIT
    t.add_rule("VISIT", 10, "hour", name="关爱探访")
    ok(client.put(f"/v1/communities/{t.community_id}/services/探访", headers=t.staff,
                  json={"name": "关爱探访", "default_minutes": 30, "rule_code": "VISIT"}))

    phone = t.token(role="member", member_id=observer)
    linli.clock = lambda: T0 + timedelta(days=2)
    visit = ok(client.post(f"/v1/members/{elder}/visits", headers=phone,
                           json={"note": "精神好，冰箱有菜"}), 201)
    assert (visit["minutes_deposited"], visit["last_visit_at"], visit["due_at"]) == (
        30, "2098-03-12T02:00:00Z", "2098-03-19T02:00:00Z")
    assert (t.balance(observer)["minutes"], t.balance(observer)["points"]) == (30, 5)
    # nobody else logs a visit; none in the future; bad input changes nothing
    for headers in (t.token(role="member", member_id=stranger),
                    t.token(role="member", member_id=elder)):
        assert refused(client.post(f"/v1/members/{elder}/visits", headers=headers,
                                   json={"note": "路过"})) == (403, "forbidden")
    assert refused(client.post(f"/v1/members/{elder}/visits", headers=phone, json={
        "occurred_at": "2098-03-20T02:00:00Z"})) == (422, "invalid-request")
    assert refused(client.post(f"/v1/members/{stranger}/visits", headers=t.staff,
                               json={})) == (404, "not-found")
    assert t.balance(observer)["minutes"] == 30

    # eight days on: 陈爷爷 (every 3 days, never visited) is the most overdue
    linli.clock = lambda: T0 + timedelta(days=10)
    late = ok(client.get("/v1/care/overdue", headers=t.staff))["items"]
    assert [(i["name"], i["overdue_days"]) for i in late] == [("陈爷爷", 7), ("王奶奶", 1)]
    staff_visit = ok(client.post(f"/v1/members/{other_elder}/visits", headers=t.staff,
                                 json={"note": "电话回访", "occurred_at": "2098-03-19T02:00:00Z"}),
                     201)
    assert staff_visit["visits"][0]["role"] == "staff"
    assert [i["name"] for i in ok(client.get("/v1/care/overdue", headers=t.staff))[
        "items"]] == ["王奶奶"]
    mine = ok(client.get("/v1/care/roster", headers=phone))["items"]
    assert [(i["name"], i["due_at"]) for i in mine] == [
        ("王奶奶", "2098-03-19T02:00:00Z"), ("陈爷爷", "2098-03-22T02:00:00Z")]
    assert ok(client.get(f"/v1/members/{elder}/care", headers=phone))["visits"][0][
        "note"] == "精神好，冰箱有菜"
    # the categories are for staff and the observer only
    assert refused(client.get(f"/v1/members/{elder}/care", headers=t.member)) == (
        404, "not-found")
    assert client.get(f"/v1/members/{elder}/care", headers=t.auditor).status_code == 403
    assert ok(client.get("/v1/care/roster", headers=t.token(role="member", member_id=elder))
              )["items"] == []
    assert client.get("/v1/care/overdue", headers=phone).status_code == 403
