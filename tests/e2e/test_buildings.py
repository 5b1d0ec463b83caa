"""Buildings (楼栋) through HTTP, on both backends: a building in a grid with its leader,
households put in it (the building brings its grid), the building's board and ledger
(一楼栋一账本), and a proposal about a building."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.scenario import Town, ok, problem_type


def refused(response: Any) -> tuple[int, str]:
    return response.status_code, problem_type(response)


def test_a_building_keeps_its_own_board_and_ledger(client: Any) -> None:
    t = Town.standard(client)
    grid, other_grid = t.add_grid("第一网格"), t.add_grid("第二网格")
    elsewhere = Town.standard(client, "湖滨社区")
    path = f"/v1/communities/{t.community_id}/buildings"
    body = {"name": "3栋", "grid_id": grid, "leader_member_id": t.member_id}
    assert refused(client.post(path, headers=t.staff, json={
        **body, "leader_member_id": elsewhere.member_id})) == (404, "not-found")
    assert refused(client.post(path, headers=t.staff, json={
        **body, "grid_id": elsewhere.add_grid("外网格")})) == (404, "not-found")
    assert refused(client.post(f"/v1/communities/{elsewhere.community_id}/buildings",
                               headers=t.staff, json=body)) == (404, "not-found")
    building = ok(client.post(path, headers=t.staff, json=body), 201)
    assert (building["name"], building["leader_name"]) == ("3栋", "张三")
    assert refused(client.post(path, headers=t.staff, json=body)) == (409, "already-exists")
    assert [b["name"] for b in ok(client.get(path, headers=t.member))["items"]] == ["3栋"]

    households = "/v1/households"
    home = ok(client.post(households, headers=t.staff, json={
        "community_id": t.community_id, "address": "3栋101", "building_id": building["id"]}),
        201)
    assert home["grid_id"] == grid
    assert refused(client.post(households, headers=t.staff, json={
        "community_id": t.community_id, "address": "3栋102", "building_id": building["id"],
        "grid_id": other_grid})) == (422, "invalid-request")
    away = t.add_household("5栋201", other_grid)
    inside, outside = t.add_member("王一", home["id"]), t.add_member("赵二", away)
    t.award(5, inside)
    t.award(9, outside)
    ok(t.redeem(2, inside), 201)
    ok(t.redeem(4, outside), 201)
    board = ok(client.get("/v1/leaderboards", headers=t.staff, params={
        "building_id": building["id"]}))["items"]
    assert [(i["name"], i["earned"]) for i in board] == [("王一", 5)]
    assert [(i["name"], i["earned"]) for i in ok(client.get("/v1/leaderboards", headers=t.member,
                                                            params={"building_id": building["id"],
                                                                    "subject": "household"}))[
        "items"]] == [("王*家", 5)]
    assert refused(client.get("/v1/leaderboards", headers=elsewhere.staff, params={
        "building_id": building["id"]})) == (404, "not-found")
    listed = ok(client.get(households, headers=t.staff, params={
        "building_id": building["id"]}))["items"]
    assert [(h["address"], h["building_id"]) for h in listed] == [("3栋101", building["id"])]
    ledger = ok(client.get(f"{path}/{building['id']}/ledger", headers=t.auditor))
    assert ([h["address"] for h in ledger["households"]], ledger["points_earned"]) == (
        ["3栋101"], 5)
    dashboard = f"/v1/communities/{t.community_id}/dashboard"
    year = datetime.now(UTC).year
    whole = ok(client.get(dashboard, headers=t.staff, params={"year": year}))["total"]
    ours = ok(client.get(dashboard, headers=t.staff, params={
        "year": year, "building_id": building["id"]}))["total"]
    assert (whole["points_issued"], ours["points_issued"], ours["active_volunteers"]) == (
        14, 5, 1)
    assert (whole["points_redeemed"], ours["points_redeemed"]) == (6, 2)

    moved = ok(client.patch(f"{households}/{away}", headers=t.staff, json={
        "building_id": building["id"]}))
    assert (moved["building_id"], moved["grid_id"]) == (building["id"], grid)
    assert [i["name"] for i in ok(client.get("/v1/leaderboards", headers=t.staff, params={
        "building_id": building["id"]}))["items"]] == ["赵二", "王一"]
    leader = ok(client.patch(f"{path}/{building['id']}", headers=t.staff, json={
        "leader_member_id": inside}))
    assert leader["leader_name"] == "王一"

    proposal = {"community_id": t.community_id, "text": "3栋电梯常坏"}
    assert refused(client.post("/v1/proposals", headers=elsewhere.member, json={
        **proposal, "community_id": elsewhere.community_id,
        "building_id": building["id"]})) == (404, "not-found")
    made = ok(client.post("/v1/proposals", headers=t.member, json={
        **proposal, "building_id": building["id"]}), 201)
    assert made["building_id"] == building["id"]


def test_an_import_puts_new_households_in_their_buildings(client: Any) -> None:
    t = Town.standard(client)
    grid = t.add_grid("第一网格")
    building = ok(client.post(f"/v1/communities/{t.community_id}/buildings", headers=t.staff,
                              json={"name": "7栋", "grid_id": grid}), 201)["id"]
    sheet = "姓名,户,楼栋\r\n周一,7栋301,7栋\r\n吴二,9栋101,9栋\r\n".encode()
    query = f"kind=members&community_id={t.community_id}&dry_run=false"
    headers = {**t.staff, "Content-Type": "text/csv"}
    refused_import = client.post(f"/v1/imports?{query}", content=sheet, headers=headers)
    assert refused_import.status_code == 422
    problems = refused_import.json()["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(3, "楼栋")]
    ok(client.post(f"/v1/imports?{query}", content=sheet.replace("9栋\r".encode(), b"\r"),
                   headers=headers), 201)
    listed = ok(client.get("/v1/households", headers=t.staff, params={
        "building_id": building}))["items"]
    assert [(h["address"], h["grid_id"]) for h in listed] == [("7栋301", grid)]
