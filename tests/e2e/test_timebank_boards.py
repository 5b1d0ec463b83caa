"""Minutes on the 公益达人榜, the quarterly review and the dashboard: a deposit is earned in
the period its service occurred; gifts received, allocations and spending earn nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.scenario import Town, at, key, ok


def deposit(town: Town, volunteer: str, minutes: int, when: str) -> None:
    ok(town.client.post("/v1/timebank/deposits", json={
        "volunteer_id": volunteer, "minutes": minutes, "service_type": "陪护",
        "occurred_at": at(when)}), 201)


def move(town: Town, path: str, body: dict[str, Any]) -> None:
    ok(town.client.post(f"/v1/timebank/{path}", headers=key(), json=body), 201)


class TestMinutesBoards:
    def test_ranked_by_minutes_deposited_in_the_period_of_the_service(self, town):
        wang, li = town.add_member("王秀英"), town.add_member("李桂兰")
        zhao = town.add_member("赵强")
        deposit(town, wang, 60, "2098-10-31T15:00:00")  # 23:00 on 31 October in Shanghai
        deposit(town, wang, 60, "2098-11-02T02:00:00")
        deposit(town, li, 90, "2098-11-03T02:00:00")
        move(town, "transfers", {"from_member_id": li, "to_member_id": zhao, "minutes": 90})
        move(town, "withdrawals", {"member_id": wang, "minutes": 100,
                                   "service_type": "助浴"})
        assert town.board(asset="MINUTES") == [(1, "王秀英", 120), (2, "李桂兰", 90)]
        assert town.names_on(asset="MINUTES", period="2098-11") == [("李桂兰", 90),
                                                                    ("王秀英", 60)]
        assert town.names_on(asset="MINUTES", period="2098-10") == [("王秀英", 60)]
        assert town.board() == []  # no points were earned
        balance = ok(town.client.get(f"/v1/members/{zhao}/balance"))
        assert (balance["minutes"], balance["minutes_earned"]) == (90, 0)

    def test_household_board_sums_its_members_minutes(self, town):
        home = town.add_household("5栋302")
        wang, li = town.add_member("王秀英", home), town.add_member("李桂兰", home)
        zhao = town.add_member("赵强")
        deposit(town, wang, 40, "2098-11-02T02:00:00")
        deposit(town, li, 50, "2098-11-02T03:00:00")
        deposit(town, zhao, 60, "2098-11-02T04:00:00")
        board = ok(town.client.get("/v1/leaderboards", params={
            "community_id": town.community_id, "asset": "MINUTES", "subject": "household"}))
        assert [(i["subject_id"], i["earned"]) for i in board["items"]] == [(home, 90)]


class TestMinutesInReports:
    def test_dashboard_and_review_count_minutes(self, town):
        wang, li = town.add_member("王秀英"), town.add_member("李桂兰")
        deposit(town, wang, 120, "2098-11-02T02:00:00")
        deposit(town, li, 30, "2098-09-02T02:00:00")
        move(town, "withdrawals", {"member_id": wang, "minutes": 45, "service_type": "助浴"})
        path = f"/v1/communities/{town.community_id}/dashboard"
        months = {m["month"]: m for m in ok(town.client.get(path, params={"year": 2098})
                                            )["months"]}
        assert (months["2098-11"]["minutes_deposited"], months["2098-09"]["minutes_deposited"]
                ) == (120, 30)
        assert months["2098-11"]["active_volunteers"] == 1
        line = ok(town.client.get(f"/v1/members/{wang}/passbook",
                                  params={"asset": "MINUTES"}))["items"][0]
        local = datetime.fromisoformat(line["at"]).astimezone(ZoneInfo("Asia/Shanghai"))
        recorded = {m["month"]: m for m in ok(town.client.get(path, params={
            "year": local.year}))["months"]}
        assert recorded[f"{local:%Y-%m}"]["minutes_withdrawn"] == 45  # when it was recorded

        review = ok(town.client.get(f"/v1/communities/{town.community_id}/reviews/2098-Q4"))
        assert review["summary"]["banked_minutes"] == 120
        assert review["summary"]["banked_hours"] == 2.0
