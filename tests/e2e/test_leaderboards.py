"""公益达人榜, the household ledger and public display (公示), through the real HTTP app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.scenario import Town, key, ok


class TestRanking:
    def test_ranked_by_what_was_earned_not_by_the_balance(self, town):
        wang, li = town.add_member("王秀英"), town.add_member("李桂兰")
        zhao = town.add_member("赵强")
        town.award(30, wang)
        town.award(20, li)
        merchant = ok(town.client.post("/v1/merchants", json={
            "community_id": town.community_id, "name": "文明积分超市"}), 201)["id"]
        till = {**town.token(role="merchant", merchant_id=merchant), **key()}
        ok(town.client.post("/v1/redemptions", headers=till, json={
            "member_id": wang, "points": 25, "description": "大米"}), 201)
        ok(town.client.post("/v1/adjustments", json={  # a correction is not earned
            "member_id": zhao, "asset": "POINTS", "amount": 100, "reason": "审计调整"}), 201)

        assert town.board() == [(1, "王秀英", 30), (2, "李桂兰", 20)]
        assert town.board(asset="MINUTES") == []

    def test_equal_totals_rank_first_whoever_reached_them_first(self, town):
        wang, li = town.add_member("王秀英"), town.add_member("李桂兰")
        town.award(10, wang)
        town.award(10, li)
        assert town.names_on() == [("王秀英", 10), ("李桂兰", 10)]

        town.award(5, li)
        town.award(5, wang)
        assert town.board() == [(1, "李桂兰", 15), (2, "王秀英", 15)]

    def test_a_reversed_award_lowers_the_rank_in_the_period_it_counted_in(self, town):
        wang, li = town.add_member("王秀英"), town.add_member("李桂兰")
        october = town.award(10, wang, when="2098-10-10T02:00:00")["id"]
        town.award(10, wang, when="2098-11-10T02:00:00")
        town.award(15, li, when="2098-11-05T02:00:00")
        assert town.names_on(period="all") == [("王秀英", 20), ("李桂兰", 15)]

        town.reverse(october)  # reversed in November, lowers October
        assert town.names_on(period="all") == [("李桂兰", 15), ("王秀英", 10)]
        assert town.names_on(period="2098-10") == []
        assert town.names_on(period="2098-11") == [("李桂兰", 15), ("王秀英", 10)]
        assert town.names_on(period="2098-Q4") == [("李桂兰", 15), ("王秀英", 10)]
        assert town.names_on(period="2098") == [("李桂兰", 15), ("王秀英", 10)]

    def test_periods_are_read_in_the_community_time_zone(self, town, client):
        wang = town.add_member("王秀英")
        town.award(7, wang, when="2098-09-30T15:59:59")  # 23:59:59 on 30 September, Shanghai
        town.award(3, wang, when="2098-09-30T16:00:00")  # 00:00 on 1 October, Shanghai
        assert town.names_on(period="2098-09") == [("王秀英", 7)]
        assert town.names_on(period="2098-Q3") == [("王秀英", 7)]
        assert town.names_on(period="2098-10") == [("王秀英", 3)]
        assert town.names_on(period="2098-Q4") == [("王秀英", 3)]
        assert town.names_on(period="2098") == [("王秀英", 10)]

        utc = Town.found(client, "伦敦社区", time_zone="UTC")
        smith = utc.add_member("Smith")
        utc.award(3, smith, when="2098-09-30T16:00:00")
        assert utc.names_on(period="2098-09") == [("Smith", 3)]
        assert utc.names_on(period="2098-10") == []

    def test_the_year_turns_at_midnight_in_shanghai(self, town, linli):
        linli.clock = lambda: datetime(2099, 1, 15, tzinfo=UTC)
        wang = town.add_member("王秀英")
        town.award(4, wang, when="2098-12-31T15:59:00")  # 23:59 on 31 December
        town.award(6, wang, when="2098-12-31T16:00:00")  # 00:00 on 1 January
        assert town.names_on(period="2098") == [("王秀英", 4)]
        assert town.names_on(period="2098-Q4") == [("王秀英", 4)]
        assert town.names_on(period="2098-12") == [("王秀英", 4)]
        assert town.names_on(period="2099") == [("王秀英", 6)]
        assert town.names_on(period="2099-Q1") == [("王秀英", 6)]
        assert town.names_on(period="2099-01") == [("王秀英", 6)]
        assert town.names_on() == [("王秀英", 10)]

    def test_households_sum_their_members_and_grids_scope_the_boards(self, town):
        east, west = town.add_grid("一网格"), town.add_grid("二网格")
        first = town.add_household("1栋101", east)
        second = town.add_household("2栋202", west)
        wang = town.add_member("王秀英", first)
        jian = town.add_member("王建国", first)
        li = town.add_member("李桂兰", second)
        zhao = town.add_member("赵强")  # in no household and no grid
        for member, points in ((wang, 10), (jian, 15), (li, 20), (zhao, 30)):
            town.award(points, member)

        assert town.names_on(subject="household") == [("1栋101", 25), ("2栋202", 20)]
        assert town.names_on() == [("赵强", 30), ("李桂兰", 20), ("王建国", 15), ("王秀英", 10)]
        assert town.names_on(grid_id=east) == [("王建国", 15), ("王秀英", 10)]
        assert town.names_on(grid_id=west, subject="household") == [("2栋202", 20)]
        assert town.board(limit=2) == [(1, "赵强", 30), (2, "李桂兰", 20)]


class TestPublicDisplay:
    def test_public_boards_mask_names_and_leave_off_who_opted_out(self, town):
        members = {name: town.add_member(name) for name in ("张小明", "李四", "欧阳娜娜", "王")}
        for name, points in (("张小明", 30), ("李四", 20), ("欧阳娜娜", 10), ("王", 5)):
            town.award(points, members[name])
        li = town.token(role="member", member_id=members["李四"])

        assert town.board(public=True) == [
            (1, "张*明", 30), (2, "李*", 20), (3, "欧*娜", 10), (4, "*", 5)]
        assert ok(town.client.post(f"/v1/members/{members['李四']}/opt-out", headers=li)) == {
            "member_id": members["李四"], "opted_out": True}

        public = [(1, "张*明", 30), (2, "欧*娜", 10), (3, "*", 5)]
        assert town.board(public=True) == public
        assert town.board(headers=li) == public  # members always see the public board
        answer = ok(town.client.get("/v1/leaderboards", headers=li, params={"public": False}))
        assert answer["public"] is True
        assert town.names_on()[1] == ("李四", 20)  # staff's working view keeps everyone

        ok(town.client.post(f"/v1/members/{members['李四']}/opt-in", headers=li))
        assert town.board(public=True)[1] == (2, "李*", 20)

    def test_a_public_household_goes_by_its_first_listed_member(self, town):
        home = town.add_household("3栋301")
        other = town.add_household("4栋401")
        ming = town.add_member("张小明", home)
        li = town.add_member("张丽", home)
        hidden = town.add_member("赵强", other)
        town.award(10, ming)
        town.award(5, li)
        town.award(40, hidden)
        ok(town.client.post(f"/v1/members/{ming}/opt-out"))
        ok(town.client.post(f"/v1/members/{hidden}/opt-out"))

        assert town.board(subject="household", public=True) == [(1, "张*家", 15)]
        assert town.names_on(subject="household") == [("4栋401", 40), ("3栋301", 15)]

    def test_only_staff_or_the_member_may_opt_out(self, town, client):
        wang, li = town.add_member("王秀英"), town.add_member("李桂兰")
        as_li = town.token(role="member", member_id=li)
        staff = town.token(role="staff", community_id=town.community_id)
        merchant = ok(client.post("/v1/merchants", json={
            "community_id": town.community_id, "name": "文明积分超市"}), 201)["id"]
        till = town.token(role="merchant", merchant_id=merchant)

        assert client.post(f"/v1/members/{wang}/opt-out", headers=as_li).status_code == 404
        assert client.post(f"/v1/members/{wang}/opt-out", headers=till).status_code == 403
        assert ok(client.post(f"/v1/members/{wang}/opt-out", headers=staff))["opted_out"]
        again = ok(client.post(f"/v1/members/{wang}/opt-out", headers=staff))  # no change
        assert again == {"member_id": wang, "opted_out": True}
        elsewhere = Town.found(client, "别的社区")
        other_staff = elsewhere.token(role="staff", community_id=elsewhere.community_id)
        assert client.post(f"/v1/members/{li}/opt-out",
                           headers=other_staff).status_code == 404


class TestHouseholdLedger:
    def test_balance_and_passbook_add_up_the_members_lines(self, town, client):
        home = town.add_household("1栋101")
        wang, jian = town.add_member("王秀英", home), town.add_member("王建国", home)
        stranger = town.add_member("李桂兰")
        town.award(30, wang)
        merchant = ok(client.post("/v1/merchants", json={
            "community_id": town.community_id, "name": "文明积分超市"}), 201)["id"]
        till = {**town.token(role="merchant", merchant_id=merchant), **key()}
        ok(client.post("/v1/redemptions", headers=till, json={
            "member_id": wang, "points": 12, "description": "大米"}), 201)
        town.award(20, jian)
        town.award(99, stranger)

        balance = ok(client.get(f"/v1/households/{home}/balance"))
        assert (balance["points"], balance["points_earned"], balance["points_available"]) == (
            38, 50, 38)
        assert [(m["name"], m["points"], m["points_earned"]) for m in balance["members"]] == [
            ("王秀英", 18, 30), ("王建国", 20, 20)]

        passbook = ok(client.get(f"/v1/households/{home}/passbook"))
        assert [(i["name"], i["kind"], i["amount"], i["balance_after"],
                 i["household_balance_after"]) for i in passbook["items"]] == [
            ("王建国", "award", 20, 20, 38),
            ("王秀英", "redemption", -12, 18, 18),
            ("王秀英", "award", 30, 30, 30)]
        assert {i["member_id"] for i in passbook["items"]} == {wang, jian}

        first = ok(client.get(f"/v1/households/{home}/passbook", params={"limit": 2}))
        rest = ok(client.get(f"/v1/households/{home}/passbook",
                             params={"limit": 2, "cursor": first["next_cursor"]}))
        assert [i["household_balance_after"] for i in first["items"] + rest["items"]] == [
            38, 18, 30]
        assert rest["next_cursor"] is None

    def test_members_see_their_own_household_only(self, town, client):
        home, other = town.add_household("1栋101"), town.add_household("2栋202")
        wang = town.add_member("王秀英", home)
        town.add_member("李桂兰", other)
        as_wang = town.token(role="member", member_id=wang)
        assert ok(client.get(f"/v1/households/{home}/balance", headers=as_wang))["points"] == 0
        assert client.get(f"/v1/households/{other}/balance",
                          headers=as_wang).status_code == 404
        assert client.get(f"/v1/households/{other}/passbook",
                          headers=as_wang).status_code == 404
        elsewhere = Town.found(client, "别的社区")
        staff = elsewhere.token(role="staff", community_id=elsewhere.community_id)
        assert client.get(f"/v1/households/{home}/balance", headers=staff).status_code == 404


class TestRefusals:
    @pytest.mark.parametrize("period", ["2098-13", "2098-Q5", "week", "1999", "2098-1", ""])
    def test_a_period_that_is_not_one_is_refused(self, town, period):
        answer = town.client.get("/v1/leaderboards", params={
            "community_id": town.community_id, "period": period})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith("/invalid-period")

    def test_bad_parameters_and_scopes(self, town, client):
        board = "/v1/leaderboards"
        cid = town.community_id
        for params in ({"limit": 0}, {"limit": 501}, {"subject": "family"},
                       {"asset": "GOLD"}, {"community_id": "x"}):
            answer = client.get(board, params={"community_id": cid, **params})
            assert answer.status_code == 422, (params, answer.text)
            assert answer.json()["type"].endswith("/validation-error")
        assert client.get(board).json()["type"].endswith("/community-required")
        unknown = "00000000-0000-0000-0000-000000000000"
        assert client.get(board, params={"community_id": unknown}).status_code == 404
        elsewhere = Town.found(client, "别的社区")
        foreign_grid = elsewhere.add_grid("一网格")
        assert client.get(board, params={"community_id": cid,
                                         "grid_id": foreign_grid}).status_code == 404
        foreign_member = elsewhere.token(role="member", member_id=elsewhere.add_member("钱多多"))
        assert client.get(board, params={"community_id": cid},
                          headers=foreign_member).status_code == 404
        # a member's own community is the default
        assert ok(client.get(board, headers=foreign_member))["community_id"] == (
            elsewhere.community_id)
