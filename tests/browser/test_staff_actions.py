"""The staff console's actions post once (an Idempotency-Key per action), and its list of the
community's sign-in keys revokes a resident's key."""

from __future__ import annotations

from typing import Any

from tests.scenario import Town


class TestOneKeyPerAction:
    def test_a_double_click_on_the_award_button_posts_once(self, town: Town,
                                                           browse: Any) -> None:
        staff = browse(town.tokens["staff"], "/web/staff", width=1024, height=900)
        sent: list[str | None] = []
        staff.on("request", lambda r: sent.append(r.headers.get("idempotency-key"))
                 if r.method == "POST" and r.url.endswith("/v1/awards") else None)
        staff.click(f"[data-member='{town.member_id}']")
        staff.click("[data-rule='GIFT']")
        staff.fill("#award-amount", "3")

        staff.dblclick("#award-confirm")

        staff.wait_for_selector("#award-result:has-text('+3')")
        staff.wait_for_selector("#award-result.done")
        assert len(sent) == 2 and sent[0] and sent[0] == sent[1], sent
        assert town.balance()["points"] == 3


class TestKeys:
    def test_staff_see_the_keys_and_revoke_a_residents(self, town: Town, browse: Any) -> None:
        staff = browse(town.tokens["staff"], "/web/staff?tab=settings", width=1024, height=900)
        staff.on("dialog", lambda dialog: dialog.accept())
        rows = staff.locator("#keys li[data-key]")
        assert rows.count() == 3  # staff, merchant, member
        staff_row = staff.locator("#keys li", has_text="社区工作人员")
        assert staff_row.locator("[data-action=revoke]").count() == 0
        member_row = staff.locator("#keys li", has_text="居民")

        member_row.locator("[data-action=revoke]").click()

        staff.wait_for_selector("#keys li.revoked:has-text('已作废')")
        assert town.client.get(f"/v1/members/{town.member_id}/balance",
                               headers=town.member).status_code == 401
        page_text = staff.inner_text("#keys")
        assert all(token not in page_text for token in town.tokens.values())
