"""Consent at the till (付款码) through the pages: the resident's payment code, the till taking
points by code or by passbook number and PIN, and the staff console's sign-in links, PINs and
member cards."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import call, screenshot, until
from tests.browser.test_accessibility import CONTRAST, UNLABELLED
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Rule, Town

CODE = re.compile(r"\d{4} \d{4} \d{4} \d{4} \d{2}")  # 18 digits as the page groups them

# Headless chromium on Linux has no BarcodeDetector: a stand-in that "reads" the QR code the
# test names from whatever the camera (a canvas) shows.
FAKE_SCANNER = """
window.BarcodeDetector = class {
  async detect() { return window.__scanned ? [{ rawValue: window.__scanned }] : []; }
};
const camera = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  canvas.getContext("2d").fillRect(0, 0, 64, 64);
  return canvas.captureStream();
};
if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = camera;
else Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia: camera } });
"""

# The page hidden and shown again, as when a phone's screen goes off and back on.
SET_VISIBILITY = """
(state) => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  document.dispatchEvent(new Event("visibilitychange"));
}
"""


def consenting_town(client: httpx.Client) -> Town:
    """A community whose tills need the resident's consent (a payment code or a PIN), with
    王秀英, a merchant, and keys for staff, merchant and member."""
    town = Town.found(client, "116社区", consent="payment_code",
                      rules={"GIFT": Rule("垃圾分类", 1)})
    return town.cast("王秀英", roles=("staff", "merchant", "member"))


@pytest.fixture
def town(base_url: str) -> Iterator[Town]:
    with httpx.Client(base_url=base_url, timeout=30.0,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
        yield consenting_town(http)


def payment_code(town: Town) -> str:
    """A fresh payment code made by the resident's own token."""
    made = call(town.client, "POST", f"/v1/members/{town.member_id}/payment-codes", 201,
                token=town.tokens["member"], headers={"Idempotency-Key": uuid.uuid4().hex},
                json={})
    code: str = made["code"]
    return code


def redeem_by_code(town: Town, code: str, points: int, status: int = 201) -> Any:
    return call(town.client, "POST", "/v1/redemptions", status, token=town.tokens["merchant"],
                headers={"Idempotency-Key": uuid.uuid4().hex},
                json={"payment_code": code, "points": points, "description": "酱油"})


def shown_code(page: Any) -> str:
    return str(page.get_attribute("#code-digits", "data-code") or "")


class TestResidentPaymentCode:
    def test_the_code_shows_large_and_is_renewed_while_the_page_is_visible(
            self, town: Town, browse: Any) -> None:
        town.award(20)
        made: list[str] = []
        resident = browse(town.tokens["member"], "/web/volunteer", clock=True)
        resident.on("request", lambda r: made.append(r.url)
                    if r.method == "POST" and r.url.endswith("/payment-codes") else None)
        assert resident.is_hidden("#code-box")
        resident.click("#show-code")

        resident.wait_for_selector("#code-digits[data-code]")
        first = shown_code(resident)
        assert re.fullmatch(r"\d{18}", first)
        assert CODE.fullmatch(resident.inner_text("#code-digits"))
        until(resident, "document.querySelector('#code-qr').naturalWidth > 100")
        assert "秒" in resident.inner_text("#code-countdown")
        assert "只能用一次" in resident.inner_text("#paycode")
        digits_px = resident.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#code-digits')).fontSize)")
        assert digits_px >= 28  # large enough to read aloud at the counter
        assert resident.evaluate(CONTRAST) == []
        resident.evaluate("document.querySelector('#paycode').scrollIntoView()")
        screenshot(resident, "payment-code")

        # Not renewed while it has long to live; renewed about 10 s before it runs out (a code
        # lives 60 s; the page's clock is moved on, the server's runs as it does).
        resident.clock.run_for(40_000)
        assert shown_code(resident) == first and len(made) == 1
        resident.clock.run_for(12_000)
        until(resident, f"document.querySelector('#code-digits').dataset.code !== '{first}'")
        second = shown_code(resident)
        assert re.fullmatch(r"\d{18}", second) and second != first

        # Hidden: no new codes, even past the time for one; shown again: a fresh one at once.
        resident.evaluate(SET_VISIBILITY, "hidden")
        asked = len(made)
        resident.clock.run_for(70_000)
        assert len(made) == asked
        assert shown_code(resident) == second
        resident.evaluate(SET_VISIBILITY, "visible")
        until(resident, f"document.querySelector('#code-digits').dataset.code !== '{second}'")
        assert len(made) == asked + 1

        # What the page shows is the resident's code: a till takes points with it.
        assert redeem_by_code(town, shown_code(resident), 5)["balance_after"] == 15

        resident.click("#hide-code")
        assert resident.is_hidden("#code-box") and resident.is_visible("#show-code")

    def test_the_code_fits_a_small_phone(self, town: Town, browse: Any) -> None:
        resident = browse(town.tokens["member"], "/web/volunteer", width=360, height=740)
        resident.click("#show-code")
        resident.wait_for_selector("#code-digits[data-code]")
        until(resident, "document.querySelector('#code-qr').naturalWidth > 100")
        assert resident.evaluate("document.documentElement.scrollWidth") <= 360
        assert resident.evaluate(CONTRAST) == []
        assert CODE.fullmatch(resident.inner_text("#code-digits"))


class TestTillByPaymentCode:
    def test_a_typed_code_takes_the_points_once(self, town: Town, browse: Any) -> None:
        town.award(50)
        code = payment_code(town)
        till = browse(town.tokens["merchant"], "/web/till")
        assert till.is_hidden("#scan")  # no BarcodeDetector here: typing it is the way

        till.fill("#code", " ".join(code[i:i + 4] for i in range(0, 18, 4)))  # as read aloud
        till.fill("#points", "15")
        till.fill("#item", "大米5斤")
        till.click("#redeem")
        till.click("#confirm-sale")
        till.wait_for_selector("#balance-after")
        assert till.inner_text("#balance-after") == "35"
        assert town.balance()["points"] == 35
        assert till.input_value("#code") == ""  # ready for the next customer

        till.fill("#code", code)
        till.fill("#points", "5")
        till.click("#redeem")
        till.click("#confirm-sale")
        till.wait_for_selector("#redeem-result:has-text('已使用')")
        assert town.balance()["points"] == 35

    def test_a_refused_code_stays_usable_and_a_wrong_one_is_named(self, town: Town,
                                                                  browse: Any) -> None:
        town.award(10)
        code = payment_code(town)
        till = browse(town.tokens["merchant"], "/web/till")
        till.fill("#code", code)
        till.fill("#points", "11")
        till.click("#redeem")
        till.wait_for_selector("#short-warning:has-text('积分不足：可用 10 分')")
        assert till.input_value("#code") == code  # still the resident's to use
        till.fill("#points", "10")
        till.click("#redeem")
        till.click("#confirm-sale")
        till.wait_for_selector("#balance-after")
        assert town.balance()["points"] == 0

        till.fill("#code", "123")
        till.fill("#points", "1")
        till.click("#redeem")
        till.wait_for_selector("#redeem-result:has-text('18位数字')")
        till.fill("#code", "1" * 18)
        till.click("#redeem")
        till.wait_for_selector("#redeem-result:has-text('无效')")

    def test_a_scanned_code_fills_the_field(self, town: Town, browse: Any) -> None:
        town.award(20)
        code = payment_code(town)
        till = browse(town.tokens["merchant"], "/web/till",
                      init_script=FAKE_SCANNER + f"window.__scanned = '{code}';")
        assert till.is_visible("#scan")
        till.click("#scan")
        until(till, "document.querySelector('#code').value.length === 18")
        assert till.input_value("#code") == code
        assert till.evaluate("document.activeElement.id") == "points"
        till.keyboard.type("8")
        till.click("#redeem")
        till.click("#confirm-sale")
        till.wait_for_selector("#balance-after")
        assert town.balance()["points"] == 12


class TestPin:
    def test_staff_set_a_pin_and_the_till_takes_points_with_it(self, town: Town,
                                                               browse: Any) -> None:
        town.award(30)
        staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
        staff.locator(f"[data-roster='{town.member_id}'] [data-action=set-pin]").click()
        staff.wait_for_selector("#member-dialog[open]")
        assert staff.get_attribute("#pin-new", "type") == "password"
        assert staff.evaluate(UNLABELLED) == []
        staff.fill("#pin-new", "246810")
        staff.fill("#pin-again", "246811")
        staff.click("#pin-form button[type=submit]")
        staff.wait_for_selector("#pin-result:has-text('不一样')")
        staff.fill("#pin-new", "246810")
        staff.fill("#pin-again", "246810")
        staff.click("#pin-form button[type=submit]")
        staff.wait_for_selector("#pin-result:has-text('密码已设置')")

        till = browse(town.tokens["merchant"], "/web/till")
        assert till.get_attribute("#pin", "type") == "password"
        assert till.get_attribute("#pin", "inputmode") == "numeric"
        till.fill("#passbook", town.passbook_no)
        till.press("#passbook", "Enter")
        # The look-up names no member where the resident must consent: it asks for the PIN.
        till.wait_for_selector("#found:has-text('王*英')")
        assert "密码" in till.inner_text("#found")
        assert till.evaluate("document.activeElement.id") == "pin"
        till.fill("#points", "10")
        till.click("#redeem")
        till.wait_for_selector("#redeem-result:has-text('付款码')")  # neither code nor PIN
        assert town.balance()["points"] == 30

        till.fill("#pin", "111111")
        till.click("#redeem")
        till.wait_for_selector("#redeem-result:has-text('密码不对')")
        assert till.input_value("#pin") == ""
        assert town.balance()["points"] == 30

        till.fill("#pin", "246810")
        till.click("#redeem")
        till.click("#confirm-sale")
        till.wait_for_selector("#balance-after")
        assert till.inner_text("#balance-after") == "20"
        assert town.balance()["points"] == 20


class TestStaffConsole:
    def test_a_sign_in_link_signs_a_phone_in_and_replaces_the_earlier_one(
            self, town: Town, browse: Any, base_url: str) -> None:
        staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
        row = staff.locator(f"[data-roster='{town.member_id}']")
        assert "王秀英" in row.inner_text() and town.passbook_no in row.inner_text()

        row.locator("[data-action=signin-link]").click()
        staff.wait_for_selector("#member-dialog[open] #link-text", state="attached")
        until(staff, "document.querySelector('#member-dialog img').naturalWidth > 100")
        assert staff.inner_text("#link-expires")
        assert "失效" in staff.inner_text("#member-dialog")
        first = staff.text_content("#link-text") or ""
        screenshot(staff, "staff-signin-link")
        staff.click("#dialog-close")
        staff.wait_for_selector("#member-dialog", state="hidden")

        row.locator("[data-action=signin-link]").click()
        staff.wait_for_selector("#member-dialog[open] #link-text", state="attached")
        second = staff.text_content("#link-text") or ""
        assert first.startswith(base_url + "/web/signin#token=")
        assert second.startswith(base_url + "/web/signin#token=") and second != first

        stale = browse(None, first.removeprefix(base_url))
        stale.wait_for_selector("#notice:has-text('已失效')")
        assert "/web/signin" in stale.url

        phone = browse(None, second.removeprefix(base_url))
        phone.wait_for_url("**/web/volunteer")
        phone.wait_for_selector("body[data-ready=true]")
        assert phone.inner_text("#who") == "王秀英"
        # The phone keeps a token of its own: the link was used up, the phone stays signed in.
        used = browse(None, second.removeprefix(base_url))
        used.wait_for_selector("#notice:has-text('已失效')")
        phone.reload()
        phone.wait_for_selector("body[data-ready=true]")
        assert phone.inner_text("#who") == "王秀英"

    def test_a_payment_code_made_at_the_counter(self, town: Town, browse: Any) -> None:
        town.award(10)
        staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
        staff.locator(f"[data-roster='{town.member_id}'] [data-action=pay-code]").click()
        staff.wait_for_selector("#member-dialog[open] #counter-digits")
        until(staff, "document.querySelector('#member-dialog img').naturalWidth > 100")
        assert CODE.fullmatch(staff.inner_text("#counter-digits"))
        code = staff.get_attribute("#counter-digits", "data-code") or ""
        assert redeem_by_code(town, code, 4)["balance_after"] == 6

    def test_the_member_card_shows_the_name_number_and_qr_and_prints_as_one_card(
            self, town: Town, browse: Any) -> None:
        staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
        staff.locator(f"[data-roster='{town.member_id}'] [data-action=card]").click()
        staff.wait_for_url(f"**/web/card?member_id={town.member_id}")
        staff.wait_for_selector("body[data-ready=true]")
        assert staff.inner_text("#card-name") == "王秀英"
        assert staff.inner_text("#card-passbook") == town.passbook_no
        assert staff.inner_text("#card-community") == "116社区"
        until(staff, "document.querySelector('#card-qr').naturalWidth > 100")
        box = staff.locator("#member-card").bounding_box()
        assert box is not None and abs(box["width"] / box["height"] - 85.6 / 54) < 0.02
        screenshot(staff, "member-card")

        pdf = staff.pdf(prefer_css_page_size=True, print_background=True)
        page_sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
        width, height = (float(x) for x in page_sizes[0])
        assert abs(width - 85.6 / 25.4 * 72) < 2 and abs(height - 54 / 25.4 * 72) < 2
