"""What residents, staff, merchants and the community screen see, in a real browser."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call, screenshot, until
from tests.scenario import Town


class TestStaffAwardReachesVolunteer:
    def test_three_clicks_then_the_line_on_the_volunteer_page(self, town: Town, browse: Any,
                                                              base_url: str) -> None:
        call(town.client, "PUT", f"/v1/communities/{town.community_id}/policy",
             json={"points_expiry": "end_of_nth_year", "n": 1, "redemption_consent": "member_id"})
        staff = browse(None, "/web/signin", width=1024, height=900)
        staff.fill("#token", town.tokens["staff"])
        staff.click("button[type=submit]")
        staff.wait_for_url("**/web/staff")
        staff.wait_for_selector("body[data-ready=true]")

        staff.click(f"[data-member='{town.member_id}']")
        staff.click("[data-rule='VOLUNTEER']")
        staff.fill("#award-amount", "120")
        staff.click("#award-confirm")

        staff.wait_for_selector("#award-result:has-text('+20')")
        assert "王秀英" in staff.inner_text("#award-result")
        assert town.balance()["points"] == 20
        screenshot(staff, "staff-console", full_page=True)

        call(town.client, "POST", "/v1/redemptions", 201, token=town.tokens["merchant"],
             headers={"Idempotency-Key": "till-1-0001"},
             json={"member_id": town.member_id, "points": 8, "description": "大米5斤"})

        volunteer = browse(town.tokens["member"], "/web/volunteer")
        assert volunteer.inner_text("#points") == "12"
        lines = volunteer.locator("#lines li .what").all_inner_texts()
        assert lines[0].startswith("兑换 大米5斤 -8")
        assert lines[1].startswith("志愿服务 2小时 +20")
        expiring = volunteer.inner_text("#expiring")  # the policy: the end of next year
        assert expiring.startswith("12 分") and "12月31日" in expiring
        assert volunteer.inner_text("#passbook-no") == town.passbook_no
        until(volunteer, "document.querySelector('#qr').naturalWidth > 100")


class TestMerchantTill:
    def test_a_redemption_drops_the_balance_and_a_refund_gives_back(self, town: Town,
                                                                     browse: Any) -> None:
        town.award(50)
        till = browse(town.tokens["merchant"], "/web/till")

        till.fill("#passbook", town.passbook_no)
        till.click("#find")
        till.wait_for_selector("#found:has-text('王*英')")  # a till sees the name masked
        till.fill("#points", "15")
        till.fill("#item", "大米5斤")
        till.click("#redeem")
        till.wait_for_selector("#confirm-name:has-text('王*英')")  # checked before charging
        till.click("#confirm-sale")
        till.wait_for_selector("#balance-after")
        assert till.inner_text("#balance-after") == "35"
        assert town.balance()["points"] == 35
        till.wait_for_selector("#statement li:has-text('大米5斤')")
        assert "兑换 15" in till.inner_text("#totals")

        redemption = till.get_attribute("#receipt", "data-id")
        till.select_option("#refund-of", redemption)
        till.fill("#refund-points", "5")
        till.click("#refund-form button[type=submit]")
        till.wait_for_selector("#refund-result:has-text('40')")
        assert town.balance()["points"] == 40

    def test_scanned_then_too_many_points_moves_nothing_and_says_so(self, town: Town,
                                                                    browse: Any) -> None:
        town.award(10)
        till = browse(town.tokens["merchant"], "/web/till")
        till.fill("#passbook", town.passbook_no)
        till.press("#passbook", "Enter")  # as a USB scanner ends a code
        till.wait_for_selector("#found:has-text('王*英')")
        assert till.evaluate("document.activeElement.id") == "points"
        till.keyboard.type("11")
        till.click("#redeem")
        till.wait_for_selector("#short-warning:has-text('积分不足：可用 10 分')")
        assert town.balance()["points"] == 10


class TestLeaderboardScreen:
    def test_ranks_with_masked_names_for_members_and_households(self, town: Town,
                                                                 browse: Any) -> None:
        second = town.add_member("李建国")
        third = town.add_member("赵红梅", household_id=town.household_id)
        town.award(30)
        town.award(45, second)
        town.award(10, third)

        screen = browse(town.tokens["member"], "/web/screen?period=month", width=1280, height=720)

        rows = screen.locator("#board-left li").all_inner_texts()
        assert [row.split() for row in rows] == [
            ["1", "李*国", "45", "分"], ["2", "王*英", "30", "分"], ["3", "赵*梅", "10", "分"]]
        households = screen.locator("#board-right li").all_inner_texts()
        assert households[0].split()[:3] == ["1", "王*英家", "40"]
        assert screen.get_attribute("[data-period=month]", "aria-pressed") == "true"
        screen.click("[data-period=year]")
        screen.wait_for_selector("[data-period=year][aria-pressed=true]")
        assert screen.locator("#board-left li").count() == 3


class TestDashboard:
    def test_the_charts_are_pictures_with_bars(self, town: Town, browse: Any) -> None:
        town.award(code="VOLUNTEER", minutes=180)
        call(town.client, "POST", "/v1/redemptions", 201, token=town.tokens["merchant"],
             headers={"Idempotency-Key": "till-1-0002"},
             json={"member_id": town.member_id, "points": 12, "description": "食用油"})
        staff = browse(town.tokens["staff"], "/web/staff?tab=reports", width=1024, height=900)
        chart = staff.locator("#chart-points svg")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
        tallest = staff.evaluate(
            "Math.max(...[...document.querySelectorAll('#chart-points svg rect[fill=\"#1f5f99\"]')]"
            ".map(r => r.getBoundingClientRect().height))")
        assert tallest > 50  # this month's 30 points issued, drawn as a bar
        assert staff.locator("#chart-hours svg").bounding_box()["height"] > 100
        staff.locator("#dashboard-section").scroll_into_view_if_needed()
        screenshot(staff, "dashboard")


class TestApprovals:
    def test_a_pending_award_is_approved_from_the_console(self, town: Town,
                                                         browse: Any) -> None:
        pending = town.award(2, code="MEDIATION")
        assert pending["status"] == "pending"
        staff = browse(town.tokens["staff"], "/web/staff?tab=approvals", width=1024,
                       height=900)
        row = staff.locator(f"[data-award='{pending['id']}']")
        assert "王秀英 · 纠纷调解 × 2 +10" in row.inner_text()
        row.locator("button:has-text('通过')").click()
        row.locator(".feedback:has-text('已通过')").wait_for()
        assert town.balance()["points"] == 10


class TestRegistration:
    def test_staff_register_a_household_and_resident_who_then_signs_in(
            self, town: Town, browse: Any, base_url: str) -> None:
        staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
        staff.fill("#household-address", "幸福里5栋101")
        staff.click("#household-form button[type=submit]")
        staff.wait_for_selector("#registered:has-text('幸福里5栋101')")
        staff.fill("#member-name", "陈阿婆")
        staff.click("#member-form button[type=submit]")
        staff.wait_for_selector("#registered:has-text('陈阿婆')")
        staff.click("#registered [data-action=signin-link]")
        staff.wait_for_selector("#member-dialog[open] #link-text", state="attached")
        until(staff, "document.querySelector('#member-dialog img').naturalWidth > 100")
        link = staff.text_content("#link-text") or ""
        assert link.startswith(base_url + "/web/signin#token=")

        resident = browse(None, link.removeprefix(base_url))  # as the resident's phone scans it
        resident.wait_for_url("**/web/volunteer")
        resident.wait_for_selector("body[data-ready=true]")
        assert resident.inner_text("#who") == "陈阿婆"
        found = call(town.client, "GET", f"/v1/members?community_id={town.community_id}&q=陈")
        assert found["items"][0]["household_id"] is not None
