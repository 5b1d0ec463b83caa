"""The resident's page, the till and the hall screen as their users work them: a resident on a
phone (390×844), a shop's till on a desktop (1366×768) and a phone, the community's screen on a
TV (1920×1080) and a laptop (1366×768); and axe-core's checks on each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import call, screenshot, until
from tests.scenario import Town

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
TV = {"width": 1920, "height": 1080}
SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMES = ("张建国", "李秀兰", "刘德华", "陈桂英", "杨志强", "赵淑珍", "黄立新", "周玉梅", "吴国庆",
         "徐翠花", "孙海涛", "马丽娟")

# Whether an element lies wholly inside the viewport (seen without scrolling).
IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.height > 0 && box.top >= -1 && box.bottom <= innerHeight + 1;
}"""

# Controls smaller than 44 px in either direction (inline links in running text excepted).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    "button, input, select, textarea, nav a, .tools a, a.button, .skip")]
  .filter((n) => n.getClientRects().length && getComputedStyle(n).visibility !== "hidden")
  .filter((n) => !n.classList.contains("skip"))
  .map((n) => [n, n.type === "checkbox" ? n.closest(".check") : n])
  .filter(([, box]) => {
    const r = box.getBoundingClientRect();
    return r.height < 44 || r.width < 44;
  })
  .map(([n]) => n.outerHTML.slice(0, 80))"""


def awarded(town: Town, points: int, days_ago: int = 0, member_id: str | None = None) -> None:
    """An award of `points` (rule GIFT) for a deed done `days_ago`."""
    when = (datetime.now(UTC) - timedelta(days=days_ago)).replace(tzinfo=None, microsecond=0)
    town.award(points, member_id, when=when.isoformat())


def spent(town: Town, points: int, item: str = "大米5斤") -> dict[str, Any]:
    """A redemption at the cast's shop, named by member id (the browser town's policy)."""
    done: dict[str, Any] = call(town.client, "POST", "/v1/redemptions", 201,
                                token=town.tokens["merchant"],
                                headers={"Idempotency-Key": str(uuid.uuid4())},
                                json={"member_id": town.member_id, "points": points,
                                      "description": item})
    return done


def consent_by_code(town: Town) -> None:
    call(town.client, "PUT", f"/v1/communities/{town.community_id}/policy",
         json={"redemption_consent": "payment_code"})


def serious(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in found
            if v["impact"] in ("serious", "critical")]


def nav_links(page: Any) -> list[str]:
    return [text.strip() for text in page.locator(".top nav a:visible").all_inner_texts()]


class TestResident:
    def test_passbook_lines_are_dated_by_the_deed_coloured_and_name_the_shop(
            self, town: Town, browse: Any) -> None:
        awarded(town, 30, days_ago=3)
        spent(town, 8)
        friend = town.add_member("李建国")
        call(town.client, "POST", "/v1/timebank/deposits", 201, token=town.tokens["staff"],
             json={"volunteer_id": town.member_id, "minutes": 120, "service_type": "助老陪护"})
        call(town.client, "POST", "/v1/timebank/transfers", 201, token=town.tokens["member"],
             headers={"Idempotency-Key": str(uuid.uuid4())},
             json={"from_member_id": town.member_id, "to_member_id": friend, "minutes": 30})
        page = browse(town.tokens["member"], "/web/volunteer", **PHONE)
        gift = page.locator("#minute-lines li").first
        assert "转给 李建国" in gift.inner_text() and "minus" in (gift.get_attribute("class") or "")
        redemption, award = page.locator("#lines li").all()
        assert "兑换 大米5斤 -8" in redemption.inner_text()
        assert "在 文明积分超市" in redemption.inner_text()  # the shop is named
        deed = datetime.now(SHANGHAI) - timedelta(days=3)
        assert award.locator(".day").inner_text().startswith(f"{deed.month}月{deed.day}日")
        red = redemption.locator(".what").evaluate("n => getComputedStyle(n).color")
        green = award.locator(".what").evaluate("n => getComputedStyle(n).color")
        r, g, _ = (int(c) for c in red.removeprefix("rgb(").rstrip(")").split(", "))
        assert r > 2 * g  # − in red
        r, g, _ = (int(c) for c in green.removeprefix("rgb(").rstrip(")").split(", "))
        assert g > 2 * r  # + in green
        assert page.evaluate(SMALL_TARGETS) == []
        assert serious(page) == []
        screenshot(page, "volunteer", full_page=True)

    def test_more_pages_through_the_whole_passbook(self, town: Town, browse: Any) -> None:
        for n in range(1, 26):
            town.award(n)
        page = browse(town.tokens["member"], "/web/volunteer", **PHONE)
        assert page.locator("#lines li").count() == 20
        page.click("#more-lines")
        until(page, "document.querySelectorAll('#lines li').length === 25")
        assert page.is_hidden("#more-lines")
        assert page.locator("#lines li .what").last.inner_text().endswith("+1")

    def test_a_task_says_who_where_and_when_and_taking_it_answers_beside_it(
            self, town: Town, browse: Any) -> None:
        household = town.add_household("幸福里5栋302")
        elder = town.add_member("李桂兰", household)
        order = call(town.client, "POST", "/v1/service-requests", 201, token=town.tokens["staff"],
                     json={"requester_id": elder, "service_type": "聊天陪伴",
                           "description": "周六下午陪我聊聊天", "minutes_estimate": 60})
        call(town.client, "POST", f"/v1/service-requests/{order['id']}/dispatch",
             token=town.tokens["staff"], json={"volunteer_id": town.member_id})
        page = browse(town.tokens["member"], "/web/volunteer", **PHONE)
        task = page.locator(f"[data-task='{order['id']}']")
        text = task.inner_text()
        assert "李桂兰" in text and "幸福里5栋302" in text and "周六下午陪我聊聊天" in text
        assert "下单时间" in text and "1小时" in text
        task.locator("button:has-text('接单')").click()
        page.wait_for_selector(f"[data-task='{order['id']}'] .feedback:has-text('已接单')")
        assert page.evaluate(IN_VIEW, f"[data-task='{order['id']}'] .feedback")

    def test_elder_mode_is_larger_shorter_and_remembered(self, town: Town, browse: Any) -> None:
        for n in range(1, 9):
            town.award(n)
        page = browse(town.tokens["member"], "/web/volunteer", **PHONE)
        assert page.is_visible("#request-form")
        page.click("#elder-mode")
        until(page, "document.querySelectorAll('#lines li').length === 5")
        assert page.get_attribute("#elder-mode", "aria-pressed") == "true"
        assert page.is_hidden("#request-form") and page.is_hidden("#minute-lines")
        size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
        assert float(size.removesuffix("px")) >= 26
        assert page.is_visible("#more-lines")
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert page.evaluate("document.documentElement.classList.contains('elder')")
        assert page.locator("#lines li").count() == 5
        assert serious(page) == []
        screenshot(page, "volunteer-elder")

    def test_each_role_sees_its_own_links_and_is_told_where_it_may_not_go(
            self, town: Town, browse: Any) -> None:
        resident = browse(town.tokens["member"], "/web/volunteer", **PHONE)
        assert nav_links(resident) == ["我的积分", "公益达人榜"]
        resident.goto(resident.url.replace("/web/volunteer", "/web/till"))
        resident.wait_for_selector("#denied")
        assert "/web/till" in resident.url  # not silently sent to the sign-in page
        assert "商户" in resident.inner_text("#denied")
        resident.click("#denied a.button")
        resident.wait_for_url("**/web/volunteer")

        till = browse(town.tokens["merchant"], "/web/till", **DESKTOP)
        assert nav_links(till) == ["商户收银", "公益达人榜"]
        till.goto(till.url.replace("/web/till", "/web/volunteer"))
        till.wait_for_selector("#denied:has-text('居民')")

    def test_sign_in_speaks_plainly_and_its_controls_are_large(self, browse: Any) -> None:
        page = browse(None, "/web/signin", **PHONE)
        page.wait_for_selector("#signin-form")
        assert "令牌" not in page.inner_text("body")
        assert page.inner_text("label[for=token]") == "登录码"
        box = page.locator("#remember").bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 24
        assert page.evaluate(SMALL_TARGETS) == []
        page.keyboard.press("Tab")  # the first stop is the skip link, and it shows
        assert page.evaluate("document.activeElement.className") == "skip"
        assert page.evaluate(IN_VIEW, ".skip")
        assert serious(page) == []
        screenshot(page, "signin")


class TestTill:
    def test_a_sale_is_checked_then_shown_large_and_the_screen_cleared(
            self, town: Town, browse: Any) -> None:
        consent_by_code(town)
        awarded(town, 50)
        till = browse(town.tokens["merchant"], "/web/till", **PHONE)
        till.fill("#code", town.payment_code())
        till.fill("#points", "15")
        till.fill("#item", "大米5斤")
        till.click("#redeem")
        till.wait_for_selector("#confirm-box:visible")
        assert till.inner_text("#confirm-name") == "王*英"
        assert till.inner_text("#confirm-available") == "50 分"
        assert till.inner_text("#confirm-points") == "15 分"
        assert till.inner_text("#confirm-item") == "大米5斤"
        assert town.balance()["points"] == 50  # nothing taken before the confirmation
        assert till.evaluate(IN_VIEW, "#confirm-sale")
        till.click("#confirm-sale")
        till.wait_for_selector("#balance-after")
        assert town.balance()["points"] == 35
        assert till.inner_text("#sale-who") == "王*英"  # whose sale, on the phone's screen
        assert till.evaluate(IN_VIEW, "#redeem-result")
        assert len(till.inner_text("#receipt")) == 6
        assert till.input_value("#code") == "" and till.input_value("#points") == ""
        assert till.evaluate(SMALL_TARGETS) == []
        screenshot(till, "till-result")

        till.fill("#code", "1234")  # the next customer: the last one's message goes
        assert till.inner_text("#redeem-result") == ""
        assert till.is_hidden("#next-customer")

    def test_the_same_sale_again_within_a_minute_is_questioned(self, town: Town,
                                                               browse: Any) -> None:
        consent_by_code(town)
        awarded(town, 50)
        till = browse(town.tokens["merchant"], "/web/till", **DESKTOP)
        for _ in range(2):
            till.fill("#code", town.payment_code())
            till.fill("#points", "10")
            till.click("#redeem")
            till.wait_for_selector("#confirm-box:visible")
            if till.is_visible("#repeat-warning"):
                break
            till.click("#confirm-sale")
            till.wait_for_selector("#balance-after")
        assert "秒前刚给同一位居民扣过 10 分" in till.inner_text("#repeat-warning")
        assert till.inner_text("#confirm-sale") == "确认再扣一次"
        screenshot(till, "merchant-till")
        till.click("#cancel-sale")
        assert till.is_hidden("#confirm-box")
        assert town.balance()["points"] == 40

    def test_too_few_points_says_how_many_there_are(self, town: Town, browse: Any) -> None:
        awarded(town, 12)
        till = browse(town.tokens["merchant"], "/web/till", **PHONE)
        till.fill("#passbook", town.passbook_no)
        till.press("#passbook", "Enter")
        till.wait_for_selector("#found:has-text('王*英')")
        till.fill("#points", "20")
        till.click("#redeem")
        till.wait_for_selector("#short-warning:has-text('积分不足：可用 12 分')")
        assert till.is_disabled("#confirm-sale")

    def test_a_refund_is_chosen_from_todays_receipts(self, town: Town, browse: Any) -> None:
        awarded(town, 50)
        first = spent(town, 15, "大米5斤")
        spent(town, 6, "酱油")
        till = browse(town.tokens["merchant"], "/web/till", **DESKTOP)
        short = first["id"].replace("-", "")[:6].upper()
        options = till.locator("#refund-of option").all_inner_texts()
        assert any(short in o and "大米5斤" in o and "王*英" in o for o in options)
        till.locator("#statement li", has_text="大米5斤").locator("button").click()
        assert till.input_value("#refund-of") == first["id"]
        assert till.input_value("#refund-points") == "15"
        till.fill("#refund-points", "5")
        till.click("#refund-form button[type=submit]")
        till.wait_for_selector(f"#refund-result:has-text('{short}')")
        assert town.balance()["points"] == 34
        assert serious(till) == []


class TestHallScreen:
    @pytest.mark.parametrize("size", [TV, DESKTOP], ids=["tv", "laptop"])
    def test_ten_rows_and_the_time_fit_and_kiosk_hides_the_controls(
            self, size: dict[str, int], town: Town, browse: Any) -> None:
        homes = [town.add_household(f"幸福里{n}栋101") for n in range(1, 5)]
        for n, name in enumerate(NAMES):
            member = town.add_member(name, homes[n % len(homes)])
            town.award(3 * n + 2, member)
        screen = browse(town.tokens["member"], "/web/screen?kiosk=1", **size)
        assert screen.locator("#board-left li").count() == 10
        assert screen.evaluate(IN_VIEW, "#board-left li:last-child")
        assert screen.evaluate(IN_VIEW, ".updated")
        assert screen.is_hidden("#controls")
        assert screen.evaluate("document.documentElement.scrollHeight") <= size["height"]
        if size is TV:
            assert serious(screen) == []
            screenshot(screen, "leaderboard-screen")

    def test_the_points_board_gives_way_to_hours_and_teams(self, town: Town,
                                                           browse: Any) -> None:
        staff = town.tokens["staff"]
        team = call(town.client, "POST", "/v1/teams", 201, token=staff,
                    json={"community_id": town.community_id, "name": "小飞剪"})
        call(town.client, "POST", f"/v1/teams/{team['id']}/members", token=staff,
             json={"member_id": town.member_id})
        elder = town.add_member("李桂兰")
        order = call(town.client, "POST", "/v1/service-requests", 201, token=staff,
                     json={"requester_id": elder, "service_type": "理发", "description": "剪发"})
        for verb, body in (("dispatch", {"team_id": team["id"]}), ("accept", None),
                           ("complete", {"minutes": 90}), ("rate", {"stars": 5})):
            call(town.client, "POST", f"/v1/service-requests/{order['id']}/{verb}",
                 token=town.tokens["member"] if verb in ("accept", "complete") else staff,
                 json=body or {})
        screen = browse(town.tokens["member"], "/web/screen?kiosk=1&rotate=1", **TV)
        assert screen.inner_text("#left-name") == "个人榜"
        until(screen, "document.body.dataset.view === 'hours'")
        until(screen, "document.querySelector('#board-right').dataset.subject === 'team'")
        assert screen.inner_text("#right-name") == "服务队榜"
        assert "服务时长榜" in screen.inner_text("h1")
        assert screen.inner_text("#board-right li").split() == ["1", "小飞剪", "1小时30分钟"]
        assert screen.inner_text("#board-left li").split()[1:] == ["王*英", "1小时30分钟"]
        screenshot(screen, "leaderboard-hours")

    def test_the_controls_choose_the_board(self, town: Town, browse: Any) -> None:
        call(town.client, "POST", "/v1/timebank/deposits", 201, token=town.tokens["staff"],
             json={"volunteer_id": town.member_id, "minutes": 120, "service_type": "助老陪护"})
        screen = browse(town.tokens["member"], "/web/screen", **DESKTOP)
        assert screen.is_visible("#controls")
        assert screen.evaluate(SMALL_TARGETS) == []
        assert screen.evaluate(IN_VIEW, ".updated")  # the controls shown, it still fits
        screen.click("[data-view=hours]")
        screen.wait_for_selector("[data-view=hours][aria-pressed=true]")
        until(screen, "document.querySelector('#board-left').dataset.asset === 'MINUTES'")
        assert "2小时" in screen.inner_text("#board-left li:first-child")
