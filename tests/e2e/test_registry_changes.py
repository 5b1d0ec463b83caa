"""Registry changes through HTTP on both backends: members, households, merchants and grids
renamed, moved, marked inactive or closed, each an event; bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Linli
from tests.scenario import Town, key, ok, problem_type


@pytest.fixture
def world(client: TestClient) -> Town:
    return Town.standard(client)


def patch(world: Town, path: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return world.client.patch(path, headers=world.staff if headers is None else headers,
                              json=body)


def member(world: Town, member_id: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = ok(world.client.get(f"/v1/members/{member_id or world.member_id}",
                                                headers=world.staff))
    return found


def events_of(world: Town, stream_id: str) -> list[dict[str, Any]]:
    feed = ok(world.client.get("/v1/events?limit=500"))["items"]
    return [e for e in feed if e["stream_id"] == stream_id]


class TestNames:
    def test_names_are_trimmed_at_registration(self, world: Town) -> None:
        made = ok(world.client.post("/v1/members", headers=world.staff, json={
            "community_id": world.community_id, "name": "  王秀英\u3000"}), 201)
        assert member(world, made["id"])["name"] == "王秀英"

    @pytest.mark.parametrize("path", ["/v1/members", "/v1/merchants", "/v1/households"])
    def test_a_name_of_spaces_is_422_and_registers_nothing(self, world: Town,
                                                           path: str) -> None:
        field = "address" if path == "/v1/households" else "name"
        response = world.client.post(path, headers=world.staff, json={
            "community_id": world.community_id, field: "   "})
        assert response.status_code == 422
        assert problem_type(response) == "validation-error"
        listed = ok(world.client.get(path, headers=world.staff))["items"]
        assert len(listed) == (0 if path == "/v1/households" else 1)

    def test_a_grid_or_community_of_spaces_is_422(self, world: Town) -> None:
        assert world.client.post("/v1/communities", json={"name": " \t "}).status_code == 422
        assert world.client.post(f"/v1/communities/{world.community_id}/grids",
                                 headers=world.staff, json={"name": "\u3000"}).status_code == 422


class TestMemberChanges:
    def test_rename_move_and_birth_date_as_events_with_actor_and_reason(
            self, world: Town) -> None:
        grid = world.add_grid("一网格")
        home = world.add_household("3栋2单元101", grid)
        changed = ok(patch(world, f"/v1/members/{world.member_id}", name=" 张三丰 ",
                           household_id=home, birth_date="1950-03-01", reason="户籍核对"))
        assert (changed["name"], changed["household_id"], changed["grid_id"],
                changed["birth_date"], changed["status"]) == (
            "张三丰", home, grid, "1950-03-01", "active")
        assert member(world)["name"] == "张三丰"
        types = [e["type"].rsplit(".", 1)[-1] for e in events_of(world, world.member_id)]
        assert types[-3:] == ["Renamed", "Moved", "BirthDateRecorded"]
        moved = events_of(world, world.member_id)[-2]
        assert moved["data"]["reason"] == "户籍核对"
        assert moved["data"]["from_household_id"] is None
        assert moved["actor"]["role"] == "staff"
        listed = ok(world.client.get("/v1/members?q=张三丰", headers=world.staff))["items"]
        assert [(m["name"], m["household_id"], m["grid_id"]) for m in listed] == [
            ("张三丰", home, grid)]

    def test_a_grid_named_with_the_household_wins_and_null_leaves(self, world: Town) -> None:
        first, second = world.add_grid("一网格"), world.add_grid("二网格")
        home = world.add_household("1栋", first)
        ok(patch(world, f"/v1/members/{world.member_id}", household_id=home, grid_id=second))
        assert (member(world)["household_id"], member(world)["grid_id"]) == (home, second)
        ok(patch(world, f"/v1/members/{world.member_id}", household_id=None))
        assert (member(world)["household_id"], member(world)["grid_id"]) == (None, second)

    def test_the_same_values_again_record_nothing(self, world: Town) -> None:
        before = len(events_of(world, world.member_id))
        ok(patch(world, f"/v1/members/{world.member_id}", name="张三", status="active"))
        assert len(events_of(world, world.member_id)) == before

    def test_a_household_or_grid_of_another_community_is_404_and_nothing_changes(
            self, world: Town, client: TestClient) -> None:
        there = Town.found(client, "湖滨社区")
        their_home = there.add_household("湖滨1栋")
        their_grid = there.add_grid("湖滨一网格")
        before = member(world)
        for body in ({"household_id": their_home, "name": "改名"},
                     {"grid_id": their_grid, "name": "改名"}):
            for headers in (world.staff, {}):  # the community's staff, and an admin
                response = patch(world, f"/v1/members/{world.member_id}", headers, **body)
                assert response.status_code == 404, response.text
                assert problem_type(response) == "not-found"
        assert member(world) == before

    @pytest.mark.parametrize("body", [
        {"nickname": "三"}, {"status": "retired"}, {"status": None}, {"name": None},
        {"name": "  "}, {"name": "x" * 201}, {"birth_date": "2999-01-01"},
        {"birth_date": "not a date"}, {"household_id": "nope"}, {"reason": "x" * 501},
    ])
    def test_bad_input_is_422_and_changes_nothing(self, world: Town,
                                                  body: dict[str, Any]) -> None:
        before = len(events_of(world, world.member_id))
        response = patch(world, f"/v1/members/{world.member_id}", **body)
        assert response.status_code == 422, response.text
        assert problem_type(response) in {"validation-error", "invalid-request"}
        assert len(events_of(world, world.member_id)) == before

    def test_who_may_change_a_member(self, world: Town, client: TestClient) -> None:
        there = Town.standard(client, "湖滨社区")
        path = f"/v1/members/{world.member_id}"
        for headers in (world.member, world.merchant, world.auditor):
            assert patch(world, path, headers, name="改名").status_code == 403
        # another community's staff hears 404 before any 422 about its body
        assert patch(world, path, there.staff, name="改名").status_code == 404
        assert patch(world, path, there.staff, nickname="x").status_code == 404
        assert patch(world, "/v1/members/00000000-0000-0000-0000-000000000000",
                     name="改名").status_code == 404
        assert member(world)["name"] == "张三"


class TestInactiveMembers:
    @pytest.mark.parametrize("status", ["moved_out", "deceased"])
    def test_an_inactive_member_earns_redeems_deposits_and_withdraws_nothing(
            self, world: Town, status: str) -> None:
        world.award(10)
        ok(world.client.post("/v1/timebank/deposits", headers=world.staff, json={
            "volunteer_id": world.member_id, "minutes": 60, "service_type": "陪诊"}), 201)
        ok(patch(world, f"/v1/members/{world.member_id}", status=status, reason="户籍迁出"))
        refused = [
            world.client.post("/v1/awards", headers=world.staff, json={
                "member_id": world.member_id, "rule_code": "GIFT", "quantity": 1}),
            world.redeem(5),
            world.client.post("/v1/holds", headers={**world.merchant, **key()}, json={
                "member_id": world.member_id, "points": 5}),
            world.client.post("/v1/timebank/deposits", headers=world.staff, json={
                "volunteer_id": world.member_id, "minutes": 30, "service_type": "陪诊"}),
            world.client.post("/v1/timebank/withdrawals", headers=world.staff, json={
                "member_id": world.member_id, "minutes": 30, "service_type": "理发"}),
        ]
        for response in refused:
            assert response.status_code == 409, response.text
            assert problem_type(response) == "member-inactive"
            assert response.json()["title"] == "居民已不在册"
        balance = world.balance()
        assert (balance["points"], balance["minutes"]) == (10, 60)
        passbook = ok(world.client.get(f"/v1/members/{world.member_id}/passbook?asset=POINTS",
                                       headers=world.member))["items"]
        assert [line["amount"] for line in passbook] == [10]
        assert member(world)["status"] == status
        ok(patch(world, f"/v1/members/{world.member_id}", status="active"))
        ok(world.redeem(5), 201)

    def test_a_hold_placed_before_the_move_cannot_be_captured(self, world: Town) -> None:
        world.award(10)
        hold = ok(world.client.post("/v1/holds", headers={**world.merchant, **key()}, json={
            "member_id": world.member_id, "points": 5}), 201)
        ok(patch(world, f"/v1/members/{world.member_id}", status="deceased"))
        captured = world.client.post(f"/v1/holds/{hold['id']}/capture", headers=world.merchant,
                                     json={})
        assert problem_type(captured) == "member-inactive"
        ok(world.client.post(f"/v1/holds/{hold['id']}/void", headers=world.merchant))
        assert world.balance()["points_available"] == 10


class TestMerchants:
    def test_a_closed_merchant_redeems_and_holds_nothing(self, world: Town) -> None:
        world.award(10)
        closed = ok(patch(world, f"/v1/merchants/{world.merchant_id}", name=" 文明超市 ",
                          status="closed", reason="店铺关门"))
        assert (closed["name"], closed["status"]) == ("文明超市", "closed")
        for response in (world.redeem(5), world.client.post(
                "/v1/holds", headers={**world.merchant, **key()},
                json={"member_id": world.member_id, "points": 5})):
            assert response.status_code == 409
            assert problem_type(response) == "merchant-closed"
        assert world.balance()["points"] == 10
        statement = world.client.get(f"/v1/merchants/{world.merchant_id}/statement",
                                     headers=world.merchant)
        assert statement.status_code == 200
        got = ok(world.client.get(f"/v1/merchants/{world.merchant_id}", headers=world.staff))
        assert (got["name"], got["status"]) == ("文明超市", "closed")
        ok(patch(world, f"/v1/merchants/{world.merchant_id}", status="active"))
        ok(world.redeem(5), 201)

    def test_a_hold_of_a_merchant_that_closed_cannot_be_captured(self, world: Town) -> None:
        world.award(10)
        hold = ok(world.client.post("/v1/holds", headers={**world.merchant, **key()}, json={
            "member_id": world.member_id, "points": 5}), 201)
        ok(patch(world, f"/v1/merchants/{world.merchant_id}", status="closed"))
        captured = world.client.post(f"/v1/holds/{hold['id']}/capture", headers=world.merchant,
                                     json={})
        assert problem_type(captured) == "merchant-closed"

    @pytest.mark.parametrize("body", [{"status": "bankrupt"}, {"name": ""}, {"address": "x"},
                                      {"status": None}])
    def test_bad_input_is_422(self, world: Town, body: dict[str, Any]) -> None:
        response = patch(world, f"/v1/merchants/{world.merchant_id}", **body)
        assert response.status_code == 422
        got = ok(world.client.get(f"/v1/merchants/{world.merchant_id}", headers=world.staff))
        assert (got["name"], got["status"]) == ("文明积分超市", "active")

    def test_only_staff_of_its_community(self, world: Town, client: TestClient) -> None:
        there = Town.standard(client, "湖滨社区")
        path = f"/v1/merchants/{world.merchant_id}"
        assert patch(world, path, world.merchant, status="closed").status_code == 403
        assert patch(world, path, there.staff, status="closed").status_code == 404


class TestHouseholdsAndGrids:
    def test_a_household_gets_a_new_address_and_grid(self, world: Town,
                                                     client: TestClient) -> None:
        first, second = world.add_grid("一网格"), world.add_grid("二网格")
        home = world.add_household("1栋101", first)
        changed = ok(patch(world, f"/v1/households/{home}", address=" 1栋102 ", grid_id=second))
        assert (changed["address"], changed["grid_id"]) == ("1栋102", second)
        got = ok(client.get(f"/v1/households/{home}", headers=world.staff))
        assert (got["address"], got["grid_id"]) == ("1栋102", second)
        listed = ok(client.get(f"/v1/households?grid_id={second}", headers=world.staff))
        assert [h["id"] for h in listed["items"]] == [home]
        there = Town.found(client, "湖滨社区")
        their_grid = there.add_grid("湖滨一网格")
        response = patch(world, f"/v1/households/{home}", address="别处", grid_id=their_grid)
        assert response.status_code == 404
        assert ok(client.get(f"/v1/households/{home}", headers=world.staff))["address"] == \
            "1栋102"
        assert patch(world, f"/v1/households/{home}", floor=3).status_code == 422
        assert patch(world, f"/v1/households/{home}", address=None).status_code == 422

    def test_grids_are_renamed_and_ordered(self, world: Town, client: TestClient) -> None:
        a, b, c = world.add_grid("甲"), world.add_grid("乙"), world.add_grid("丙")
        path = f"/v1/communities/{world.community_id}/grids"
        ok(patch(world, f"{path}/{c}", sort_order=-1))
        renamed = ok(patch(world, f"{path}/{a}", name=" 丁 "))
        assert renamed == {"id": a, "name": "丁", "sort_order": 0}
        listed = ok(client.get(path, headers=world.member))["items"]
        assert [g["name"] for g in listed] == ["丙", "丁", "乙"]
        assert [g["name"] for g in ok(client.get(f"/v1/communities/{world.community_id}",
                                                 headers=world.staff))["grids"]] == \
            ["丙", "丁", "乙"]
        there = Town.standard(client, "湖滨社区")
        assert patch(world, f"{path}/{b}", there.staff, name="x").status_code == 404
        their_grid = there.add_grid("湖滨一网格")
        assert patch(world, f"{path}/{their_grid}", name="x").status_code == 404
        assert patch(world, f"{path}/{b}", sort_order="1").status_code == 422
        assert patch(world, f"{path}/{b}", name="   ").status_code == 422
        assert patch(world, f"{path}/{b}", colour="red").status_code == 422


class TestBoardsAfterChanges:
    def test_a_renamed_member_shows_the_new_name_and_a_move_keeps_past_totals(
            self, world: Town) -> None:
        old_home = world.add_household("1栋")
        new_home = world.add_household("2栋")
        ok(patch(world, f"/v1/members/{world.member_id}", household_id=old_home))
        world.award(10)
        ok(patch(world, f"/v1/members/{world.member_id}", household_id=new_home,
                 name="张三丰"))
        world.award(4)
        assert world.names_on(headers=world.staff, subject="member") == [("张三丰", 14)]
        assert world.names_on(headers=world.staff, subject="household") == [("1栋", 10),
                                                                             ("2栋", 4)]

    def test_a_household_that_changes_grid_keeps_its_past_on_the_old_grids_board(
            self, world: Town) -> None:
        first, second = world.add_grid("一网格"), world.add_grid("二网格")
        home = world.add_household("1栋", first)
        ok(patch(world, f"/v1/members/{world.member_id}", household_id=home))
        world.award(10)
        ok(patch(world, f"/v1/households/{home}", grid_id=second))
        world.award(4)
        on = {grid: world.names_on(headers=world.staff, subject="household", grid_id=grid)
              for grid in (first, second)}
        assert on == {first: [("1栋", 10)], second: [("1栋", 4)]}

    def test_a_rebuild_gives_the_boards_the_live_view_holds(self, world: Town,
                                                            linli: Linli) -> None:
        grids = [world.add_grid("一网格"), world.add_grid("二网格")]
        homes = [world.add_household("1栋", grids[0]), world.add_household("2栋", grids[1])]
        for step in range(6):  # each read ends a batch of the live view
            ok(patch(world, f"/v1/members/{world.member_id}", household_id=homes[step % 2]))
            world.award(step + 1)
            ok(patch(world, f"/v1/households/{homes[0]}", grid_id=grids[step % 2]))
            world.balance()

        def tables() -> dict[str, list[Any]]:
            with linli.engine.connect() as conn:
                return {t.name: sorted(map(tuple, conn.execute(t.select())), key=repr)
                        for view in linli.projections.views for t in view.tables}

        linli.read_your_writes()
        live = tables()
        linli.projections.rebuild(None)
        assert tables() == live
