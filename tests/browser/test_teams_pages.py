"""Volunteer teams, the service catalogue and the service report on the staff console."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call
from tests.scenario import Town


class TestTeamsPages:
    def test_a_team_is_formed_and_takes_an_order_from_the_console(self, town: Town,
                                                                   browse: Any) -> None:
        staff_token = town.tokens["staff"]
        li = town.add_member("李建国")
        zhang = town.add_member("张明")
        staff = browse(staff_token, "/web/staff?tab=orders", width=1024, height=900)

        staff.fill("#team-name", "小飞剪")
        staff.click("#team-form button[type=submit]")
        team = staff.locator("#teams > li:has-text('小飞剪')")
        for member in (li, zhang):
            team.locator("select").select_option(member)
            team.locator("[data-action=join]").click()
            staff.wait_for_selector(f"#teams [data-member='{member}']")
        team.locator(f"[data-member='{zhang}'] [data-action=remove]").click()
        staff.wait_for_selector(f"#teams [data-member='{zhang}']", state="detached")
        team_id = team.get_attribute("data-team")
        assert [m["member_id"] for m in call(town.client, "GET", f"/v1/teams/{team_id}",
                                             token=staff_token)["members"]] == [li]

        staff.fill("#service-code", "助餐")
        staff.fill("#service-name", "助餐")
        staff.fill("#service-minutes", "45")
        staff.select_option("#service-rule", "VOLUNTEER")
        staff.click("#service-form button[type=submit]")
        staff.wait_for_selector("#services [data-service='助餐']:has-text('VOLUNTEER')")

        order = call(town.client, "POST", "/v1/service-requests", status=201,
                     token=staff_token, json={"requester_id": town.member_id,
                                              "service_type": "助餐"})
        assert order["minutes_estimate"] == 45
        staff.reload()
        staff.wait_for_selector("body[data-ready=true]")
        row = staff.locator(f"[data-order='{order['id']}']")
        row.locator("[data-team-select]").select_option(team_id)
        row.locator("[data-action=dispatch-team]").click()
        staff.wait_for_selector(f"[data-order='{order['id']}']:has-text('已派单')")
        assert call(town.client, "GET", f"/v1/service-requests/{order['id']}",
                    token=staff_token)["team_id"] == team_id

        helper = browse(town.issue_token(role="member", member_id=li), "/web/volunteer")
        helper.locator(f"[data-task='{order['id']}'] button:has-text('接单')").click()
        helper.wait_for_selector(f"[data-task='{order['id']}']:has-text('已接单')")
        assert call(town.client, "GET", f"/v1/service-requests/{order['id']}",
                    token=staff_token)["volunteer_id"] == li

        staff.click("[data-tab-link=reports]")
        staff.fill("#report-period", "all")
        staff.dispatch_event("#report-period", "change")
        staff.wait_for_selector("#report-requests:has-text('1')")
        assert staff.locator("#chart-service svg").count() == 1
