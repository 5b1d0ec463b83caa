"""The staff console as its users work it, on a phone (390×844) and a desk (1366×768): a tab
bar by task, each action's result or problem beside it, service orders that say who, where,
when and what, a volunteer picker that searches, review of 待复核 orders, batch approval, the
time bank, settlements, downloads and certificates; the auditor's read-only console; axe-core's
checks on every tab."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import call, screenshot, until
from tests.browser.test_people_at_work import DESKTOP, PHONE, SMALL_TARGETS, serious, spent
from tests.scenario import Town

TABS = ("register", "points", "approvals", "orders", "timebank", "merchants", "reports",
        "settings")
TAB_WORDS = ["登记", "积分", "审批", "服务单", "时间银行", "商户", "报表", "设置"]

# How far (px) the middle of `result` is from the middle of `action`, on screen.
DISTANCE = """([action, result]) => {
  const a = document.querySelector(action).getBoundingClientRect();
  const r = document.querySelector(result).getBoundingClientRect();
  return Math.abs((a.top + a.bottom) / 2 - (r.top + r.bottom) / 2);
}"""

# The smallest text of the SVG charts shown, in CSS px as drawn.
CHART_TEXT = """(selector) => {
  const sizes = [];
  for (const svg of document.querySelectorAll(selector + ' svg')) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll('text')) {
      sizes.push(Number(text.getAttribute('font-size')) * scale);
    }
  }
  return Math.min(...sizes);
}"""


def go(page: Any, tab: str) -> None:
    """Open a tab from the tab bar."""
    page.click(f"[data-tab-link={tab}]")
    page.wait_for_selector(f"#tab-{tab}:not([hidden])")


def order(town: Town, requester: str, description: str) -> str:
    made = call(town.client, "POST", "/v1/service-requests", 201, token=town.tokens["staff"],
                json={"requester_id": requester, "service_type": "助老陪护",
                      "description": description, "minutes_estimate": 60})
    return str(made["id"])


def done_and_rated(town: Town, order_id: str, volunteer: str, stars: int) -> None:
    """Dispatched to `volunteer`, done in 45 minutes, rated `stars` by the requester."""
    for step, body in (("dispatch", {"volunteer_id": volunteer}), ("accept", None),
                       ("complete", {"minutes": 45})):
        call(town.client, "POST", f"/v1/service-requests/{order_id}/{step}",
             token=town.tokens["staff"], json=body)
    call(town.client, "POST", f"/v1/service-requests/{order_id}/rate", token=town.tokens["member"],
         headers={"Idempotency-Key": str(uuid.uuid4())}, json={"stars": stars})


def status(town: Town, order_id: str) -> str:
    return str(call(town.client, "GET", f"/v1/service-requests/{order_id}",
                    token=town.tokens["staff"])["status"])


def waited(page: Any, condition: Callable[[], bool], seconds: float = 10) -> None:
    """Lets the page run (and playwright call its route and event handlers) until
    `condition` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        page.wait_for_timeout(50)


def every_tab(page: Any, size: str) -> None:
    """Each tab: shown alone, no serious axe-core violation, no small target; its picture."""
    for tab in TABS:
        go(page, tab)
        assert page.locator(".panel:visible").count() == 1
        assert serious(page) == [], tab
        assert page.evaluate(SMALL_TARGETS) == [], tab
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size[
            "width"], tab
        screenshot(page, f"console-{tab}-{size}", full_page=True)


class TestStaffOnAPhone:
    def test_awards_refusals_beside_the_button_orders_reviewed_and_short_pages(
            self, town: Town, browse: Any) -> None:
        call(town.client, "PUT", f"/v1/communities/{town.community_id}/rules/CLEAN",
             json={"name": "清扫楼道", "points": 5, "unit": "each", "daily_cap": 5,
                   "requires_approval": False})
        volunteer = town.add_member("李建国")
        for n in range(22):  # more residents than a picker's first page
            town.add_member(f"居民{n:02d}")
        late = town.add_member("赵志愿")
        asked = order(town, town.member_id, "陪同去社区医院复查")
        reviewed = order(town, town.member_id, "修理门锁")
        done_and_rated(town, reviewed, volunteer, stars=2)
        assert status(town, reviewed) == "under_review"

        page = browse(town.tokens["staff"], "/web/staff", **PHONE)

        # A tab bar by task; one task on screen, not a 12,000 px page.
        links = page.locator("#tabbar a:visible").all_inner_texts()
        assert [text.strip() for text in links] == TAB_WORDS
        assert page.evaluate("document.documentElement.scrollHeight") < 3000

        # An award, then the same refused (the daily cap): the refusal is beside the button,
        # in Chinese, and the earlier success is gone.
        go(page, "points")
        page.fill("#member-search", "王秀英")
        page.click(f"[data-member='{town.member_id}']")
        page.click("[data-rule='CLEAN']")
        page.click("#award-confirm")
        page.wait_for_selector("#award-result.done:has-text('已记分')")
        page.fill("#award-amount", "2")
        page.click("#award-confirm")
        page.wait_for_selector("#award-result.failed:has-text('没有记分')")
        refused = page.inner_text("#award-result")
        assert "+5" not in refused and "上限" in refused, refused
        assert page.evaluate(DISTANCE, ["#award-confirm", "#award-result"]) < 150
        assert page.is_visible("#notice") is False

        # Service orders: who asked, where, when and what; a volunteer found by search,
        # though the award's search found only 王秀英.
        go(page, "orders")
        row = page.locator(f"[data-order='{asked}']")
        text = row.inner_text()
        assert "王秀英" in text and "幸福里3栋2单元101" in text and "陪同去社区医院复查" in text
        assert "点单时间" in text
        row.locator("[data-picker-search]").fill("赵志")
        until(page, f"[...document.querySelectorAll(\"[data-order='{asked}'] option\")]"
                    f".some((o) => o.value === '{late}')")
        row.locator("[data-picker-select]").select_option(late)
        row.locator("[data-action=dispatch]").click()
        page.wait_for_selector(f"[data-order='{asked}'] .feedback:has-text('已派单给 赵志愿')")
        assert status(town, asked) == "dispatched"

        # A 2★ order waits for review: confirmed here, its minutes banked.
        review = page.locator(f"[data-order='{reviewed}']")
        assert "待复核" in review.inner_text() and "修理门锁" in review.inner_text()
        review.locator("[data-action=review-confirm]").click()
        page.wait_for_selector(f"[data-order='{reviewed}'] .feedback:has-text('已确认')")
        assert status(town, reviewed) == "confirmed"
        assert town.balance(volunteer)["minutes"] == 45

        # The charts keep their text legible on a phone.
        go(page, "reports")
        until(page, "document.querySelectorAll('#chart-points svg text').length > 0")
        assert page.evaluate(CHART_TEXT, "#chart-points") >= 11
        every_tab(page, "phone")


class TestStaffAtADesk:
    def test_batch_approval_time_bank_settlements_rules_and_review(
            self, town: Town, browse: Any) -> None:
        for _ in range(22):
            town.award(1, code="MEDIATION")
        town.award(50)
        spent(town, 8)
        volunteer = town.add_member("李建国")
        reviewed = order(town, town.member_id, "修理门锁")
        done_and_rated(town, reviewed, volunteer, stars=1)

        page = browse(town.tokens["staff"], "/web/staff?tab=approvals", **DESKTOP)

        # Twenty-two awards approved at once; the count beside the button.
        assert page.locator("#pending li[data-award]").count() == 22
        page.check("#select-all-pending")
        page.click("#approve-selected")
        page.wait_for_selector("#batch-result.done:has-text('已通过 22 笔')")
        assert town.balance()["points"] == 50 - 8 + 22 * 5
        assert page.evaluate(DISTANCE, ["#approve-selected", "#batch-result"]) < 150

        # The time bank: a deposit, a gift, and a withdrawal too large, refused beside it.
        go(page, "timebank")
        form = page.locator("#deposit-form")
        form.locator("[data-picker-search]").fill("李建国")
        until(page, "document.querySelector('#deposit-form select').selectedOptions[0]"
                    f"?.value === '{volunteer}'")
        form.locator("input[name=service_type]").fill("助老陪护")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#deposit-form-result.done:has-text('已存入 1小时')")
        gift = page.locator("#transfer-form")
        gift.locator("[data-picker-search]").first.fill("李建国")
        until(page, "document.querySelector('#transfer-form select').selectedOptions[0]"
                    f"?.value === '{volunteer}'")
        gift.locator("[data-picker-select]").last.select_option(town.member_id)
        gift.locator("input[name=minutes]").fill("30")
        gift.locator("button[type=submit]").click()
        page.wait_for_selector("#transfer-form-result.done:has-text('已转赠 30分钟')")
        take = page.locator("#withdrawal-form")
        take.locator("input[name=minutes]").fill("600")
        take.locator("input[name=service_type]").fill("助老陪护")
        take.locator("button[type=submit]").click()
        page.wait_for_selector("#withdrawal-form-result.failed")
        assert town.balance(volunteer)["minutes"] == 60 - 30

        # A merchant settled; the points beside its button.
        go(page, "merchants")
        shop = page.locator(f"[data-merchant='{town.merchant_id}']")
        assert "未结算 8 分" in shop.inner_text()
        shop.locator("[data-action=settle]").click()
        shop.locator(".result:has-text('已结算 8 分')").wait_for()

        # A 1★ order dismissed with a reason.
        go(page, "orders")
        page.select_option("#orders-status", "under_review")
        page.wait_for_selector(f"[data-order='{reviewed}']")
        row = page.locator(f"[data-order='{reviewed}']")
        row.locator("input").fill("居民反映未上门")
        row.locator("[data-action=review-dismiss]").click()
        page.wait_for_selector("#orders .feedback:has-text('已驳回')")
        assert status(town, reviewed) == "dismissed"

        # A new rule from the settings tab.
        go(page, "settings")
        page.fill("#rule-code", "LIBRARY")
        page.fill("#rule-name", "图书整理")
        page.fill("#rule-points", "3")
        page.click("#rule-form button[type=submit]")
        page.wait_for_selector("#rule-result.done:has-text('图书整理')")
        page.wait_for_selector("[data-rule-row=LIBRARY]")

        # An empty year says so, in Chinese, rather than drawing blank axes.
        go(page, "reports")
        page.fill("#dashboard-year", "2001")
        page.dispatch_event("#dashboard-year", "change")
        page.wait_for_selector("#chart-points .chart-empty:has-text('这一年还没有数据')")
        assert page.evaluate(CHART_TEXT, "#chart-points") >= 12
        left, right = (page.locator(s).bounding_box() for s in ("#report-section",
                                                                 "#dashboard-section"))
        assert left["y"] == right["y"] and right["x"] > left["x"] + left["width"]  # two columns

        # The quarter's review as a spreadsheet, and a volunteer's certificate to print.
        with page.expect_download() as got:
            page.click("[data-download=review-xlsx]")
        assert got.value.suggested_filename.endswith(".xlsx")
        page.wait_for_selector("#downloads-result.done:has-text('已下载')")
        who = page.locator("#certificates-section")
        who.locator("[data-picker-search]").fill("李建国")
        until(page, "document.querySelector('#certificates-section select').selectedOptions[0]"
                    f"?.value === '{volunteer}'")
        with page.expect_popup() as paper:
            page.click("#print-certificate")
        paper.value.wait_for_load_state()
        assert "志愿服务" in paper.value.inner_text("body")
        page.wait_for_selector("#certificate-result.done")
        every_tab(page, "desktop")

    def test_a_slow_answer_for_an_earlier_year_never_covers_the_year_asked_for(
            self, town: Town, browse: Any) -> None:
        town.award(50)
        page = browse(town.tokens["staff"], "/web/staff?tab=reports", **DESKTOP)
        this_year = page.input_value("#dashboard-year")
        held: list[Any] = []
        finished: list[str] = []
        page.on("requestfinished", lambda request: finished.append(request.url))
        page.route("**/web/charts/dashboard.svg?*", lambda route: (
            held.append(route) if f"year={this_year}&" in route.request.url
            else route.continue_()))

        # This year's charts asked for and held back; then 2001's, answered at once.
        page.dispatch_event("#dashboard-year", "change")
        waited(page, lambda: len(held) == 2)
        page.fill("#dashboard-year", "2001")
        page.dispatch_event("#dashboard-year", "change")
        page.wait_for_selector("#chart-points .chart-empty:has-text('这一年还没有数据')")
        page.wait_for_selector("#chart-hours .chart-empty")

        # This year's answers come in last, and are dropped: 2001's charts stay.
        for route in held:
            route.continue_()
        waited(page, lambda: all(route.request.url in finished for route in held))
        page.wait_for_timeout(300)  # time for the page to read them
        assert page.locator("#chart-points .chart-empty").count() == 1
        assert page.locator("#chart-hours .chart-empty").count() == 1


class TestAuditor:
    def test_the_auditor_reads_reports_and_verifies_but_never_sees_the_award_form(
            self, town: Town, browse: Any) -> None:
        auditor = town.issue_token(role="auditor", community_id=town.community_id)
        page = browse(auditor, "/web/staff", **PHONE)
        links = [text.strip() for text in page.locator("#tabbar a:visible").all_inner_texts()]
        assert links == ["报表"]
        assert page.is_visible("#tab-reports") and not page.is_visible("#award-confirm")
        page.click("#verify-books")
        page.wait_for_selector("#downloads-result.done:has-text('核查通过')")
        assert serious(page) == []
        screenshot(page, "console-auditor-phone", full_page=True)

        page.goto(page.url.split("?")[0] + "?tab=points")
        page.wait_for_selector("body[data-ready=true]")
        assert page.is_visible("#tab-denied") and not page.is_visible("#award-confirm")
        assert "只有社区工作人员能用" in page.inner_text("#tab-denied")

        desk = browse(auditor, "/web/staff", **DESKTOP)
        assert not desk.is_visible("[data-download=ledger-csv]")  # every community's books
        with desk.expect_download() as got:
            desk.click("[data-download=dashboard-csv]")
        assert got.value.suggested_filename.startswith("dashboard-")
        desk.wait_for_selector("#downloads-result.done:has-text('已下载')")
        assert desk.locator("#award-section:visible, #rule-form:visible").count() == 0
        screenshot(desk, "console-auditor-desktop", full_page=True)

        merchant = browse(town.tokens["merchant"], "/web/staff", **DESKTOP)
        assert "社区工作人员的控制台" in merchant.inner_text("#denied")
