"""Corrections in the staff console: retiring and restoring a rule, the pending list filtered
by rule with several approved at once, and an award reversed in part, or into debt, from a
resident's passbook."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call
from tests.browser.test_accessibility import UNLABELLED
from tests.scenario import Town


def staff_console(town: Town, browse: Any, tab: str) -> Any:
    return browse(town.tokens["staff"], f"/web/staff?tab={tab}", width=1024, height=900)


def rules(town: Town) -> dict[str, dict[str, Any]]:
    found = call(town.client, "GET", f"/v1/communities/{town.community_id}/rules")
    return {r["code"]: r for r in found["items"]}


def test_a_rule_is_retired_and_restored(town: Town, browse: Any) -> None:
    staff = staff_console(town, browse, "settings")
    staff.click("[data-retire=GIFT]")
    staff.wait_for_selector("[data-restore=GIFT]")
    assert rules(town)["GIFT"]["retired"] is True
    assert staff.locator("#rule-choices [data-rule=GIFT]").count() == 0  # no award under it

    staff.click("[data-restore=GIFT]")
    staff.wait_for_selector("[data-retire=GIFT]")
    restored = rules(town)["GIFT"]
    assert (restored["retired"], restored["version"], restored["points"]) == (False, 2, 1)
    staff.wait_for_selector("#rule-choices [data-rule=GIFT]", state="attached")


def test_pending_awards_filtered_and_approved_together(town: Town, browse: Any) -> None:
    call(town.client, "PUT", f"/v1/communities/{town.community_id}/rules/CHECK", json={
        "name": "楼道检查", "points": 2, "unit": "each", "requires_approval": True})
    mediation = [town.award(1, code="MEDIATION")["id"] for _ in range(2)]
    check = town.award(1, code="CHECK")["id"]
    staff = staff_console(town, browse, "approvals")
    assert staff.locator("#pending [data-award]").count() == 3

    staff.select_option("#pending-rule", "MEDIATION")
    staff.locator(f"#pending [data-award='{check}']").wait_for(state="detached")
    assert staff.locator("#pending [data-award]").count() == 2
    assert staff.evaluate(UNLABELLED) == []
    for award_id in mediation:
        staff.check(f"#select-{award_id}")
    staff.click("#approve-selected")
    staff.wait_for_selector("#batch-result.done:has-text('已通过 2 笔')")

    statuses = {award_id: call(town.client, "GET",
                               f"/v1/members/{town.member_id}/awards",
                               params={"ids": award_id})["items"][0]["status"]
                for award_id in (*mediation, check)}
    assert statuses == {mediation[0]: "posted", mediation[1]: "posted", check: "pending"}


def test_an_award_is_reversed_in_part_and_into_debt_from_the_passbook(
        town: Town, browse: Any) -> None:
    award = town.award(10)["id"]
    staff = staff_console(town, browse, "register")
    staff.locator(f"[data-roster='{town.member_id}'] [data-action=passbook]").click()
    staff.wait_for_selector("#member-dialog[open] #member-passbook")
    form = f"[data-reverse='{award}']"
    staff.locator(f"#member-passbook li:has({form}) summary").click()
    assert staff.evaluate(UNLABELLED) == []
    staff.fill(f"#rev-{award}-points", "4")
    staff.fill(f"#rev-{award}-reason", "多记了")
    staff.click(f"{form} button[type=submit]")
    staff.wait_for_selector("#member-passbook:has-text('部分冲正')")
    assert town.balance()["points"] == 6

    ok_redeem = town.redeem(6)
    assert ok_redeem.status_code == 201, ok_redeem.text
    staff.locator(f"#member-passbook li:has({form}) summary").click()
    staff.fill(f"#rev-{award}-reason", "登记错人")
    staff.click(f"{form} button[type=submit]")
    staff.wait_for_selector(f"#rev-{award}-result:has-text('积分不足')")
    staff.check(f"#rev-{award}-debt")
    staff.click(f"{form} button[type=submit]")
    staff.wait_for_selector("#member-passbook:has-text('冲正 -6')")
    balance = town.balance()
    assert (balance["points"], balance["points_earned"]) == (-6, 0)
