"""Service orders (点单 → 派单 → 接单 → 评单) through the pages."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import call
from tests.scenario import Town, auth


def request_service(town: Town, token: str, description: str) -> dict[str, Any]:
    response = town.client.post("/v1/service-requests", headers=auth(token), json={
        "requester_id": town.member_id, "service_type": "助老陪护",
        "description": description, "minutes_estimate": 60})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class TestServiceOrders:
    def test_request_dispatch_and_rate_through_the_pages(self, town: Town, browse: Any) -> None:
        volunteer = town.add_member("李建国")
        volunteer_token = town.issue_token(role="member", member_id=volunteer)

        resident = browse(town.tokens["member"], "/web/volunteer")
        resident.select_option("#service-type", "助老陪护")
        resident.fill("#request-description", "陪同去社区医院")
        resident.click("#request-form button[type=submit]")
        resident.wait_for_selector("#my-requests li:has-text('已点单')")

        staff = browse(town.tokens["staff"], "/web/staff?tab=orders", width=1024, height=900)
        mine = call(town.client, "GET", f"/v1/service-requests?requester_id={town.member_id}"
                    "&status=requested", token=town.tokens["staff"])["items"]
        order = next(o for o in mine if o["status"] == "requested")
        row = staff.locator(f"[data-order='{order['id']}']")
        row.locator("select").select_option(volunteer)
        row.locator("button:has-text('派单')").click()
        staff.wait_for_selector(f"[data-order='{order['id']}']:has-text('已派单')")

        helper = browse(volunteer_token, "/web/volunteer")  # 接单, then done: 90 minutes
        helper.locator(f"[data-task='{order['id']}'] button:has-text('接单')").click()
        task = helper.locator(f"[data-task='{order['id']}']")
        task.locator("input").fill("90")
        task.locator("button:has-text('完成')").click()
        helper.wait_for_selector(f"[data-task='{order['id']}']:has-text('已完成')")

        resident.reload()
        resident.wait_for_selector("body[data-ready=true]")
        row = resident.locator(f"#my-requests [data-id='{order['id']}']")
        row.locator("select").select_option("5")
        row.locator("button:has-text('评价')").click()
        resident.wait_for_selector(f"#my-requests [data-id='{order['id']}']:has-text('已评价')")
        assert town.balance(volunteer)["minutes"] == 90

    def test_staff_confirm_a_completed_service(self, town: Town, browse: Any) -> None:
        order = request_service(town, town.tokens["staff"], "修水龙头")
        volunteer = town.add_member("李建国")
        for step, body in (("dispatch", {"volunteer_id": volunteer}), ("accept", None),
                           ("complete", {"minutes": 30})):
            call(town.client, "POST", f"/v1/service-requests/{order['id']}/{step}",
                 token=town.tokens["staff"], json=body)
        staff = browse(town.tokens["staff"], "/web/staff?tab=orders", width=1024, height=900)
        row = staff.locator(f"[data-order='{order['id']}']")
        assert "已完成" in row.inner_text()
        row.locator("button:has-text('确认服务')").click()
        staff.wait_for_selector(f"[data-order='{order['id']}']:not(:has-text('已完成'))")
        status = call(town.client, "GET", f"/v1/service-requests/{order['id']}",
                      token=town.tokens["staff"])["status"]
        assert status != "completed"
