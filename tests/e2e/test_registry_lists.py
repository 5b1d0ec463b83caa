"""The registry's lists through HTTP on both backends: communities, grids, households, members
(with the prefix search) and merchants, paged with `limit` and `cursor`, each role seeing only
its scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.scenario import Town, ok, problem_type


def every(client: TestClient, path: str, headers: dict[str, str], limit: int,
          **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, read `limit` at a time by following the cursors."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ok(client.get(path, headers=headers,
                             params={**params, "limit": limit,
                                     **({"cursor": cursor} if cursor else {})}))
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def world(client: TestClient) -> Town:
    return Town.standard(client)


class TestCommunities:
    def test_an_admin_sees_all_everyone_else_their_own(self, world: Town,
                                                       client: TestClient) -> None:
        there = Town.standard(client, "湖滨社区")
        everything = every(client, "/v1/communities", {}, 1)
        assert [c["name"] for c in everything] == ["116社区", "湖滨社区"]
        assert everything[0] == {"id": world.community_id, "name": "116社区",
                                 "time_zone": "Asia/Shanghai"}
        for headers in (world.staff, world.auditor, world.merchant, world.member):
            listed = ok(client.get("/v1/communities", headers=headers))
            assert [c["id"] for c in listed["items"]] == [world.community_id]
            assert listed["next_cursor"] is None
        every_community = there.token(role="auditor")
        assert len(ok(client.get("/v1/communities", headers=every_community))["items"]) == 2


class TestGrids:
    def test_in_sort_order_then_name_for_every_role_of_the_community(
            self, world: Town, client: TestClient) -> None:
        for name in ("乙", "甲", "丙"):
            world.add_grid(name)
        path = f"/v1/communities/{world.community_id}/grids"
        names = [g["name"] for g in every(client, path, world.member, 2)]
        assert names == sorted(names)
        there = Town.standard(client, "湖滨社区")
        for headers in (there.staff, there.member, there.merchant):
            assert client.get(path, headers=headers).status_code == 404


class TestHouseholds:
    def test_by_community_and_grid_paged(self, world: Town, client: TestClient) -> None:
        grid = world.add_grid("一网格")
        homes = [world.add_household(f"{i}栋", grid if i % 2 else None) for i in range(5)]
        assert [h["id"] for h in every(client, "/v1/households", world.staff, 2)] == homes
        in_grid = every(client, "/v1/households", world.auditor, 500, grid_id=grid)
        assert [h["address"] for h in in_grid] == ["1栋", "3栋"]
        assert in_grid[0] == {"id": homes[1], "community_id": world.community_id,
                              "grid_id": grid, "address": "1栋", "building_id": None}

    def test_outside_the_scope(self, world: Town, client: TestClient) -> None:
        there = Town.standard(client, "湖滨社区")
        response = client.get(f"/v1/households?community_id={world.community_id}",
                              headers=there.staff)
        assert response.status_code == 404
        for headers in (world.member, world.merchant):
            assert client.get("/v1/households", headers=headers).status_code == 403
        assert problem_type(client.get("/v1/households")) == "community-required"


class TestMembers:
    def test_latest_first_then_by_prefix_of_name_or_passbook(
            self, world: Town, client: TestClient) -> None:
        for name in ("李建国", "李红", "王李", "Lily", "lily"):
            world.add_member(name)
        everyone = every(client, "/v1/members", world.staff, 2)
        assert [m["name"] for m in everyone] == ["lily", "Lily", "王李", "李红", "李建国", "张三"]
        assert set(everyone[0]) == {"member_id", "name", "passbook_no", "household_id",
                                    "grid_id", "status"}
        by_name = every(client, "/v1/members", world.staff, 1, q="李")
        assert [m["name"] for m in by_name] == ["李建国", "李红"]  # a prefix, in name order
        assert [m["name"] for m in every(client, "/v1/members", world.staff, 5, q="L")] == \
            ["Lily"]
        number = world.passbook_no  # 张三's, the first
        found = every(client, "/v1/members", world.staff, 5, q=number[:-1])
        assert found[0]["passbook_no"] == number and len(found) == 6
        assert [m["name"] for m in every(client, "/v1/members", world.staff, 5,
                                         q=number)] == ["张三"]
        for q in ("%", "_", "李%", "建国"):
            assert ok(client.get("/v1/members", headers=world.staff,
                                 params={"q": q}))["items"] == []

    def test_by_status(self, world: Town, client: TestClient) -> None:
        gone = world.add_member("王五")
        ok(client.patch(f"/v1/members/{gone}", headers=world.staff,
                        json={"status": "moved_out"}))
        moved = every(client, "/v1/members", world.staff, 50, status="moved_out")
        assert [(m["name"], m["status"]) for m in moved] == [("王五", "moved_out")]
        active = every(client, "/v1/members", world.staff, 50, status="active")
        assert [m["name"] for m in active] == ["张三"]
        assert client.get("/v1/members?status=gone", headers=world.staff).status_code == 422

    @pytest.mark.parametrize("params", [
        {"limit": 0}, {"limit": 501}, {"q": "x" * 51}, {"cursor": "not-a-cursor"},
        {"cursor": "x" * 1201}, {"cursor": "WzFd"}, {"cursor": "WyJtZXJjaGFudHMiLCAieCJd"},
    ])
    def test_bad_pages_are_422(self, world: Town, client: TestClient,
                               params: dict[str, Any]) -> None:
        response = client.get("/v1/members", headers=world.staff, params=params)
        assert response.status_code == 422, response.text

    def test_outside_the_scope(self, world: Town, client: TestClient) -> None:
        there = Town.standard(client, "湖滨社区")
        response = client.get(f"/v1/members?community_id={there.community_id}&limit=0",
                              headers=world.staff)
        assert response.status_code == 404
        for headers in (world.member, world.merchant):
            assert client.get("/v1/members", headers=headers).status_code == 403


class TestMerchants:
    def test_closed_ones_too_and_a_till_sees_only_its_own(self, world: Town,
                                                          client: TestClient) -> None:
        other = world.add_merchant("便民理发店")
        ok(client.patch(f"/v1/merchants/{other}", headers=world.staff,
                        json={"status": "closed"}))
        listed = every(client, "/v1/merchants", world.staff, 1)
        assert [(m["id"], m["name"], m["status"]) for m in listed] == [
            (world.merchant_id, "文明积分超市", "active"), (other, "便民理发店", "closed")]
        own = ok(client.get("/v1/merchants", headers=world.merchant))["items"]
        assert [m["id"] for m in own] == [world.merchant_id]
        assert client.get("/v1/merchants", headers=world.member).status_code == 403
        there = Town.standard(client, "湖滨社区")
        assert client.get(f"/v1/merchants?community_id={world.community_id}",
                          headers=there.staff).status_code == 404
