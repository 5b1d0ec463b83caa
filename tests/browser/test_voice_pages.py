"""Care visits, wishes and proposals on the pages: an observer logs a visit from a phone; a
resident posts a wish, a neighbour claims it, staff confirm it and the resident sees it
fulfilled; staff work a proposal through to done on the console and the resident reads the
reply."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call
from tests.scenario import Town


def test_an_observer_logs_a_visit_from_the_phone(town: Town, browse: Any) -> None:
    staff_token = town.tokens["staff"]
    elder = town.add_member("陈奶奶")
    call(town.client, "PUT", f"/v1/members/{elder}/care", token=staff_token, json={
        "categories": ["独居"], "observer_member_id": town.member_id, "visit_every_days": 7})
    staff = browse(staff_token, "/web/staff?tab=orders", width=1024, height=900)
    staff.wait_for_selector("#care-overdue li.empty")

    phone = browse(town.tokens["member"], "/web/volunteer")
    card = phone.locator(f"[data-care='{elder}']")
    card.locator("textarea").fill("血压正常，药还够")
    card.locator("[data-action=visit]").click()
    phone.wait_for_selector(f"[data-care='{elder}']:has-text('已登记探访')")
    cared = call(town.client, "GET", f"/v1/members/{elder}/care", token=staff_token)
    assert cared["visits"][0]["note"] == "血压正常，药还够"
    assert cared["visits"][0]["visitor_member_id"] == town.member_id


def test_a_wish_is_fulfilled_and_a_proposal_answered(town: Town, browse: Any) -> None:
    staff_token = town.tokens["staff"]
    resident = browse(town.tokens["member"], "/web/volunteer")
    resident.fill("#wish-text", "想要一副老花镜")
    resident.click("#wish-form button[type=submit]")
    resident.wait_for_selector("#my-wishes li:has-text('想要一副老花镜'):has-text('待认领')")
    resident.fill("#proposal-text", "楼道灯坏了")
    resident.click("#proposal-form button[type=submit]")
    resident.wait_for_selector("#my-proposals li:has-text('楼道灯坏了'):has-text('待处理')")

    helper_id = town.add_member("李志愿")
    helper = browse(town.issue_token(role="member", member_id=helper_id), "/web/volunteer")
    helper.wait_for_selector("#open-wishes li:has-text('王*英')")
    helper.locator("#open-wishes li:has-text('老花镜') [data-action=claim]").click()
    helper.wait_for_selector("#open-wishes li:has-text('老花镜'):has-text('已认领')")

    staff = browse(staff_token, "/web/staff?tab=orders", width=1024, height=900)
    staff.locator("#staff-wishes li:has-text('老花镜') [data-action=fulfil]").click()
    staff.wait_for_selector("#staff-wishes li.empty")
    staff.click("[data-tab-link=approvals]")  # the 民生清单 is worked through with approvals
    for step, reply in (("listed", ""), ("in_progress", "已报物业"), ("done", "已换新灯")):
        row = staff.locator("#staff-proposals li:has-text('楼道灯坏了')")
        row.locator("[data-field=status]").select_option(step)
        row.locator("[data-field=reply]").fill(reply)
        row.locator("[data-action=save]").click()
        staff.wait_for_selector(f"#staff-proposals li[data-status='{step}']")

    resident.reload()
    resident.wait_for_selector("#my-wishes li:has-text('老花镜'):has-text('已实现')")
    resident.wait_for_selector("#my-proposals li:has-text('已办结'):has-text('答复：已换新灯')")
    resident.wait_for_selector("#public-proposals li:has-text('楼道灯坏了')")


def test_a_buildings_board_on_the_console_and_the_hall_screen(town: Town, browse: Any) -> None:
    staff_token = town.tokens["staff"]
    staff = browse(staff_token, "/web/staff?tab=register", width=1024, height=900)
    staff.fill("#building-name", "3栋")
    staff.click("#building-form button[type=submit]")
    row = staff.locator("#buildings li:has-text('3栋')")
    building = row.get_attribute("data-building")
    call(town.client, "PATCH", f"/v1/households/{town.household_id}", token=staff_token,
         json={"building_id": building})
    outsider = town.add_member("赵路人")
    for member, quantity in ((town.member_id, 3), (outsider, 8)):
        call(town.client, "POST", "/v1/awards", status=201, token=staff_token, json={
            "member_id": member, "rule_code": "GIFT", "quantity": quantity})
    row.locator("[data-action=board]").click()
    staff.wait_for_selector("#building-board li:has-text('王秀英')")
    assert "赵路人" not in staff.inner_text("#building-board")

    call(town.client, "POST", "/v1/wishes", status=201, token=staff_token, json={
        "member_id": town.member_id, "text": "想学用智能手机"})
    screen = browse(town.tokens["member"], f"/web/screen?community_id={town.community_id}"
                    f"&building_id={building}&period=year", width=1280, height=720)
    screen.wait_for_selector("#board-left li:has-text('王*英')")
    assert "赵" not in screen.inner_text("#board-left")
    screen.wait_for_selector("#building:has-text('3栋')")
    screen.click("[data-view=voice]")
    screen.wait_for_selector("#screen-wishes li:has-text('王*英'):has-text('想学用智能手机')")
