"""Small wishes (微心愿) through HTTP, on both backends: a resident posts a wish, a volunteer
claims it, staff confirm it fulfilled and the claimer earns the WISH rule's points; the
steps out of order are refused; other residents see the wisher's name masked."""

from __future__ import annotations

from typing import Any

from tests.scenario import Town, ok, problem_type


def refused(response: Any) -> tuple[int, str]:
    return response.status_code, problem_type(response)


def test_a_wish_is_posted_claimed_and_fulfilled(client: Any) -> None:
    t = Town.standard(client)  # 张三 posts the wish
    t.add_rule("WISH", 20, name="微心愿")
    volunteer = t.add_member("王志愿")
    phone = t.token(role="member", member_id=volunteer)
    assert client.post("/v1/wishes", headers=t.member, json={
        "member_id": t.member_id, "text": "  "}).status_code == 422
    assert refused(client.post("/v1/wishes", headers=phone, json={
        "member_id": t.member_id, "text": "想要一副老花镜"})) == (404, "not-found")
    wish = ok(client.post("/v1/wishes", headers=t.member, json={
        "member_id": t.member_id, "text": "想要一副老花镜"}), 201)
    assert (wish["status"], wish["name"]) == ("open", "张三")
    wall = ok(client.get("/v1/wishes", headers=phone, params={"status": "open"}))["items"]
    assert [(w["name"], w["member_id"], w["text"]) for w in wall] == [
        ("张*", None, "想要一副老花镜")]
    path = f"/v1/wishes/{wish['id']}"
    assert refused(client.post(f"{path}/fulfil", headers=t.staff)) == (
        409, "invalid-transition")
    assert refused(client.post(f"{path}/claim", headers=t.member)) == (
        409, "invalid-transition")
    claimed = ok(client.post(f"{path}/claim", headers=phone))
    assert (claimed["status"], claimed["claimer_name"]) == ("claimed", "王志愿")
    assert refused(client.post(f"{path}/claim", headers=t.staff, json={
        "member_id": t.add_member("李四")})) == (409, "invalid-transition")
    assert client.post(f"{path}/fulfil", headers=phone).status_code == 403
    done = ok(client.post(f"{path}/fulfil", headers=t.staff))
    assert (done["status"], done["points"]) == ("fulfilled", 20)
    assert t.balance(volunteer)["points"] == 20
    passbook = ok(client.get(f"/v1/members/{volunteer}/passbook", headers=phone))["items"]
    assert passbook[0]["amount"] == 20
    assert refused(client.post(f"{path}/fulfil", headers=t.staff)) == (
        409, "invalid-transition")
    assert ok(client.get(path, headers=t.member))["status"] == "fulfilled"
    assert ok(client.get("/v1/wishes", headers=t.staff, params={"status": "open"}))[
        "items"] == []
    elsewhere = Town.standard(client, "湖滨社区")
    assert refused(client.post(f"{path}/claim", headers=elsewhere.member)) == (
        404, "not-found")
    assert refused(client.get(path, headers=elsewhere.staff)) == (404, "not-found")
