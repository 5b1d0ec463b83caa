"""The staff console's residents' list (居民名单): editing a resident's name, household, grid
and status (在册/迁出/去世), on both backends."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call
from tests.browser.test_accessibility import UNLABELLED
from tests.scenario import Town


class TestEditResident:
    def test_staff_rename_move_and_mark_a_resident_moved_out(self, town: Town,
                                                             browse: Any) -> None:
        grid = town.add_grid("第二网格")
        home = town.add_household("幸福里5栋101", grid)
        town.award(5)
        staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
        staff.locator(f"[data-roster='{town.member_id}'] [data-action=edit]").click()
        staff.wait_for_selector("#member-dialog[open]")
        assert staff.evaluate(UNLABELLED) == []
        assert staff.input_value("#edit-name") == "王秀英"
        assert staff.input_value("#edit-household") == town.household_id
        assert staff.input_value("#edit-status") == "active"
        assert [o.strip() for o in staff.locator("#edit-status option").all_inner_texts()] == [
            "在册", "迁出", "去世"]

        staff.fill("#edit-name", "   ")  # a name of spaces: refused, nothing changes
        staff.click("#edit-form button[type=submit]")
        staff.wait_for_selector("#edit-result:not(:empty)")
        assert call(town.client, "GET", f"/v1/members/{town.member_id}")["name"] == "王秀英"

        staff.fill("#edit-name", "王秀兰")
        staff.select_option("#edit-household", home)
        staff.select_option("#edit-status", "moved_out")
        staff.fill("#edit-reason", "搬到女儿家")
        staff.click("#edit-form button[type=submit]")
        staff.wait_for_selector("#edit-result:has-text('已保存')")
        member = call(town.client, "GET", f"/v1/members/{town.member_id}")
        assert (member["name"], member["household_id"], member["grid_id"], member["status"]) \
            == ("王秀兰", home, grid, "moved_out")  # the new household brought its grid
        staff.click("#dialog-close")
        row = staff.locator(f"[data-roster='{town.member_id}']")
        row.locator("text=王秀兰").wait_for()
        assert "迁出" in row.inner_text()

        # Moved out: no more awards; the balance stays readable.
        refused = town.client.post("/v1/awards", json={
            "member_id": town.member_id, "rule_code": "GIFT", "quantity": 1})
        assert refused.status_code == 409
        assert town.balance()["points"] == 5

        row.locator("[data-action=edit]").click()
        staff.wait_for_selector("#member-dialog[open]")
        assert staff.input_value("#edit-status") == "moved_out"
        staff.select_option("#edit-status", "active")
        staff.click("#edit-form button[type=submit]")
        staff.wait_for_selector("#edit-result:has-text('在册')")
        assert call(town.client, "GET", f"/v1/members/{town.member_id}")["status"] == "active"
