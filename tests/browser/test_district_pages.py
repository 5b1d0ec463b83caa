"""The staff console for a district's staff: its community switcher lists the district's
communities only, and switching shows the chosen community."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import until
from tests.scenario import Town, ok


def test_a_districts_staff_switch_between_its_communities(town: Town, browse: Any) -> None:
    client = town.client
    neighbour = Town.found(client, "湖滨社区")
    Town.found(client, "城东社区")  # of no district: not in the switcher
    district = ok(client.post("/v1/districts", json={"name": "钢花村街道"}), 201)["id"]
    for community in (town.community_id, neighbour.community_id):
        ok(client.post(f"/v1/districts/{district}/communities",
                       json={"community_id": community}))
    token = ok(client.post("/v1/api-keys", json={"role": "district_staff",
                                                  "district_id": district}), 201)["token"]
    staff = browse(token, f"/web/staff?community_id={town.community_id}", width=1024,
                   height=900)
    options = staff.locator("#community-switcher option")
    assert sorted(options.all_inner_texts()) == ["116社区", "湖滨社区"]
    assert staff.inner_text("#community") == "116社区"

    staff.select_option("#community-switcher", neighbour.community_id)

    staff.wait_for_url(f"**/web/staff?community_id={neighbour.community_id}")
    until(staff, "document.body.dataset.ready === 'true'")
    assert staff.inner_text("#community") == "湖滨社区"
