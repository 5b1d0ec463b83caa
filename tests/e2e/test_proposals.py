"""Residents' voice (民意 → 民生清单) through HTTP, on both backends: a member posts a
proposal, staff list it with a priority and work it through to done with a reply the
resident reads; an adopted 金点子 earns points once; steps out of order are refused; the
public list and the street office's export."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from tests.scenario import Town, ok, problem_type


def refused(response: Any) -> tuple[int, str]:
    return response.status_code, problem_type(response)


def test_a_proposal_is_listed_worked_through_and_answered(client: Any) -> None:
    t = Town.standard(client)
    t.add_rule("PROPOSAL", 10, name="建言献策")
    neighbour = t.token(role="member", member_id=t.add_member("李四"))
    post = {"community_id": t.community_id, "text": "楼道灯坏了，晚上看不见"}
    for text in ("", "   ", "长" * 501):
        assert client.post("/v1/proposals", headers=t.member,
                           json={**post, "text": text}).status_code == 422
    first = ok(client.post("/v1/proposals", headers=t.member, json=post), 201)
    assert (first["status"], first["priority"], first["name"]) == ("submitted", None, "张三")
    second = ok(client.post("/v1/proposals", headers=neighbour, json={
        **post, "kind": "complaint", "text": "广场舞太吵"}), 201)
    path = f"/v1/proposals/{first['id']}"
    # a submitted one is not on the public list yet, nor for another resident
    assert ok(client.get("/v1/proposals", headers=neighbour))["items"][0]["id"] == second["id"]
    assert refused(client.get(path, headers=neighbour)) == (404, "not-found")
    assert refused(client.patch(path, headers=t.staff, json={"status": "done"})) == (
        409, "invalid-transition")
    assert client.patch(path, headers=t.staff, json={"priority": 4}).status_code == 422
    assert client.patch(path, headers=t.member, json={"status": "listed"}).status_code == 403
    listed = ok(client.patch(path, headers=t.staff, json={"status": "listed", "priority": 1}))
    assert (listed["status"], listed["priority"]) == ("listed", 1)
    awarded = ok(client.patch(path, headers=t.staff, json={"award_rule_code": "PROPOSAL"}))
    assert (awarded["points"], awarded["award_status"]) == (10, "posted")
    assert refused(client.patch(path, headers=t.staff, json={
        "award_rule_code": "PROPOSAL"})) == (409, "invalid-transition")
    assert t.balance()["points"] == 10
    ok(client.patch(path, headers=t.staff, json={"status": "in_progress",
                                                 "reply": "已报物业，三天内修好"}))
    done = ok(client.patch(path, headers=t.staff, json={"status": "done",
                                                        "reply": "已换新灯"}))
    assert [s["status"] for s in done["history"]] == [
        "submitted", "listed", "in_progress", "done"]
    assert refused(client.patch(path, headers=t.staff, json={"status": "declined",
                                                             "reply": "x"})) == (
        409, "invalid-transition")
    seen = ok(client.get(path, headers=t.member))
    assert (seen["status"], seen["reply"]) == ("done", "已换新灯")
    assert refused(client.patch(f"/v1/proposals/{second['id']}", headers=t.staff, json={
        "status": "declined"})) == (422, "invalid-request")
    ok(client.patch(f"/v1/proposals/{second['id']}", headers=t.staff, json={
        "status": "declined", "reply": "请到居委会协商时段"}))
    public = ok(client.get("/v1/proposals", headers=neighbour))["items"]
    assert [(p["name"], p["status"], p["member_id"]) for p in public] == [
        ("张*", "done", None), ("李四", "declined", second["member_id"])]
    assert [p["status"] for p in ok(client.get("/v1/proposals", headers=t.staff, params={
        "status": "done"}))["items"]] == ["done"]

    csv = client.get("/v1/proposals/export", headers=t.auditor)
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号,优先级,类别,内容,提出人,状态,答复")
    assert "楼道灯坏了，晚上看不见,张三,已办结,已换新灯" in lines[1]
    xlsx = client.get("/v1/proposals/export", headers=t.staff, params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:3] == ["序号", "优先级", "类别"]
    assert sheet.max_row == 3
    elsewhere = Town.standard(client, "湖滨社区")
    assert refused(client.post("/v1/proposals", headers=elsewhere.member, json=post)) == (
        404, "not-found")
    assert refused(client.get(path, headers=elsewhere.staff)) == (404, "not-found")
