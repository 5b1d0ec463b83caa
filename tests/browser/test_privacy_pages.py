"""Personal data in the staff console: staff print what is held about a resident; an admin
erases a resident's personal data, and the console then shows 「已注销居民」."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call, until
from tests.browser.test_people_at_work import DESKTOP, serious
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Town


def roster_row(page: Any, member_id: str) -> Any:
    page.click("[data-tab-link=register]")
    page.fill("#roster-search", "")
    page.wait_for_selector(f"[data-roster='{member_id}']")
    return page.locator(f"[data-roster='{member_id}']")


def test_staff_print_personal_data_and_an_admin_erases_it(town: Town, browse: Any) -> None:
    staff = browse(town.tokens["staff"], "/web/staff", **DESKTOP)
    row = roster_row(staff, town.member_id)
    assert row.locator("[data-action=erase]").count() == 0  # staff may not erase
    with staff.expect_popup() as paper:
        row.locator("[data-action=personal-data]").click()
    paper.value.wait_for_load_state()
    held = paper.value.inner_text("body")
    assert "个人信息查阅结果" in held and "王秀英" in held and "幸福里3栋2单元101" in held

    admin = browse(ADMIN_TOKEN, f"/web/staff?community_id={town.community_id}", **DESKTOP)
    row = roster_row(admin, town.member_id)
    row.locator("[data-action=erase]").click()
    admin.wait_for_selector("#erase-form")
    assert "不可撤销" in admin.inner_text("#member-dialog")
    assert serious(admin) == []
    admin.fill("#erase-reason", "本人书面申请 2026-12-06")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("#erase-form button[type=submit]")
    admin.wait_for_selector("#erase-result:has-text('已注销')")
    admin.click("#dialog-close")
    until(admin, f"document.querySelector(\"[data-roster='{town.member_id}']\")"
                 "?.innerText.includes('已注销居民')")
    member = call(town.client, "GET", f"/v1/members/{town.member_id}",
                  token=town.tokens["staff"])
    assert member["name"] == "已注销居民"


def test_a_resident_reads_what_is_held_about_them(town: Town, browse: Any) -> None:
    call(town.client, "GET", f"/v1/members/{town.member_id}", token=town.tokens["staff"])
    page = browse(town.tokens["member"], "/web/volunteer")
    page.wait_for_selector("#privacy-section")
    assert serious(page) == []
    with page.expect_popup() as paper:
        page.click("#personal-data")
    paper.value.wait_for_load_state()
    held = paper.value.inner_text("body")
    assert "王秀英" in held and "幸福里3栋2单元101" in held
    assert "社区工作人员" in held  # who read it: the staff's read above


def test_an_auditor_reads_who_read_personal_data(town: Town, browse: Any) -> None:
    call(town.client, "GET", f"/v1/members/{town.member_id}", token=town.tokens["staff"])
    auditor = town.issue_token(role="auditor", community_id=town.community_id)
    page = browse(auditor, "/web/staff")
    page.wait_for_selector("#access-log li[data-read]")
    text = page.inner_text("#access-log")
    assert "社区工作人员" in text and "姓名" in text and town.member_id in text
    assert serious(page) == []
