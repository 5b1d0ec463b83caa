"""Activities through the pages: staff create one in the console and project its QR code, a
resident checks in and out by the link on a phone, staff close it and the points and minutes
show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.conftest import call, screenshot, until
from tests.browser.test_accessibility import CONTRAST, UNLABELLED
from tests.scenario import Town

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the browser's time zone (see `pages`)


def local(moment: datetime) -> str:
    """What a datetime-local field takes, in the browser's time zone."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_an_activity_from_creation_to_closing(town: Town, browse: Any,
                                              later: Callable[[timedelta], None]) -> None:
    town.add_rule("ACTIVITY", 60, "hour", name="社区活动")  # a point a minute
    now = datetime.now(SHANGHAI)
    staff = browse(town.tokens["staff"], "/web/staff?tab=points", width=1024, height=900)
    staff.fill("#activity-title", "清扫楼道")
    staff.fill("#activity-place", "3号楼")
    staff.fill("#activity-starts", local(now - timedelta(minutes=10)))
    staff.fill("#activity-ends", local(now + timedelta(hours=2)))
    staff.select_option("#activity-rule", "ACTIVITY")
    staff.click("#activity-create")
    staff.wait_for_url(lambda url: "/web/activity?id=" in url)
    staff.wait_for_selector("body[data-ready=true]")
    staff.wait_for_selector("#activity-qr:not([hidden])")
    assert staff.inner_text("#activity-title") == "清扫楼道"
    assert until(staff, "document.querySelector('#activity-qr').naturalWidth") > 100
    screenshot(staff, "activity-qr", full_page=True)
    activity_id = staff.url.split("id=")[1]
    code = call(town.client, "GET", f"/v1/activities/{activity_id}",
                token=town.tokens["staff"])["check_in_code"]

    phone = browse(town.tokens["member"],
                   f"/web/checkin?activity={activity_id}&code={code}", width=360, height=740)
    assert phone.evaluate(UNLABELLED) == [] and phone.evaluate(CONTRAST) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("#check-in")
    phone.wait_for_selector("#checkin-result:has-text('签到成功')")
    assert phone.is_hidden("#check-in") and phone.is_visible("#check-out")
    screenshot(phone, "activity-check-in")
    staff.wait_for_selector(f"#attendees li[data-member='{town.member_id}']")  # live list

    later(timedelta(seconds=61))  # a whole minute on the server's clock: one point
    phone.click("#check-out")
    phone.wait_for_selector("#checkin-result:has-text('签退成功')")
    staff.click("#close-activity")
    staff.wait_for_selector("#close-result:has-text('发放积分1笔共1分')")
    assert staff.is_disabled("#close-activity")
    assert town.balance()["points"] == 1
    phone.reload()
    phone.wait_for_selector("#checkin-result:has-text('活动已结束')")


def test_staff_check_a_resident_in_by_hand(town: Town, browse: Any) -> None:
    now = datetime.now(SHANGHAI)
    made = call(town.client, "POST", "/v1/activities", 201, token=town.tokens["staff"], json={
        "community_id": town.community_id, "title": "义诊", "timebank": True,
        "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()})
    staff = browse(town.tokens["staff"], f"/web/activity?id={made['id']}", width=360,
                   height=740)
    assert staff.evaluate(UNLABELLED) == []
    staff.fill("#hand-search", "王")
    staff.click(f"#hand-choices [data-member='{town.member_id}']")
    staff.wait_for_selector(f"#attendees li[data-member='{town.member_id}']")
    staff.click(f"#attendees li[data-member='{town.member_id}'] button")
    staff.wait_for_selector("#attendees li:has-text('签退')")
    staff.click("#close-activity")
    staff.wait_for_selector("#close-result:has-text('已结束：1人签到')")
