"""The quarterly review (季度积分评议) and the dashboard, on a community computed by hand.

湖滨社区 (Asia/Shanghai): grids 一网格 and 二网格; household 1栋101 (一网格) holds 王秀英 and
王建国, household 2栋202 (二网格) holds 李桂兰; 赵强 is in no household or grid; 钱多多 never
earns. Rules: VOL 志愿服务 10 points an hour, MEDIATE 纠纷调解 20 each, GARDEN 最美花园 5 each.

2098-Q3 (the previous quarter):
    王秀英 VOL 120 min on 10 Sep = 20;  李桂兰 MEDIATE on 15 Sep = 20;
    王建国 GARDEN at 23:59 on 30 Sep (Shanghai) = 5                       -> 45 points
2098-Q4:
    王建国 GARDEN ×2 at 00:00 on 1 Oct (Shanghai) = 10;  王秀英 VOL 180 min on 12 Oct = 30;
    赵强 MEDIATE ×2 on 2 Nov = 40;  李桂兰 GARDEN on 5 Nov = 5, reversed;
    王秀英 MEDIATE on 20 Nov = 20                                          -> 100 points
Participants: Q3 王秀英 王建国 李桂兰, Q4 王秀英 王建国 赵强: 3 of 5 members, 60.0 % both.
Q4 top members 王秀英 50, 赵强 40, 王建国 10; households 1栋101 60 (2栋202 earned 0).
By rule Q4 (Q3): MEDIATE 60 (20), VOL 30 (20), GARDEN 10 (5).
By grid Q4 (Q3): 一网格 60 (25), 二网格 0 (20), in no grid 40 (0).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.scenario import Town, key, ok

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Huibin:
    town: Town
    grids: tuple[str, str]
    households: tuple[str, str]
    wang: str
    jian: str
    li: str
    zhao: str

    @property
    def review_path(self) -> str:
        return f"/v1/communities/{self.town.community_id}/reviews"


@pytest.fixture
def huibin(town: Town) -> Huibin:
    town.add_rule("VOL", 10, "hour", name="志愿服务")
    town.add_rule("MEDIATE", 20, name="纠纷调解")
    town.add_rule("GARDEN", 5, name="最美花园")
    east, west = town.add_grid("一网格"), town.add_grid("二网格")
    first, second = town.add_household("1栋101", east), town.add_household("2栋202", west)
    wang, jian = town.add_member("王秀英", first), town.add_member("王建国", first)
    li, zhao = town.add_member("李桂兰", second), town.add_member("赵强")
    town.add_member("钱多多")
    town.award(member_id=wang, code="VOL", minutes=120, when="2098-09-10T02:00:00")
    town.award(1, li, code="MEDIATE", when="2098-09-15T02:00:00")
    town.award(1, jian, code="GARDEN", when="2098-09-30T15:59:00")
    town.award(2, jian, code="GARDEN", when="2098-09-30T16:00:00")
    town.award(member_id=wang, code="VOL", minutes=180, when="2098-10-12T02:00:00")
    town.award(2, zhao, code="MEDIATE", when="2098-11-02T02:00:00")
    town.reverse(town.award(1, li, code="GARDEN", when="2098-11-05T02:00:00")["id"])
    town.award(1, wang, code="MEDIATE", when="2098-11-20T02:00:00")
    return Huibin(town, (east, west), (first, second), wang, jian, li, zhao)


def same_cells(rows: list[list[str]]) -> list[list[object]]:
    """Numbers as numbers: a spreadsheet keeps 0.0 as 0."""

    def cell(text: str) -> object:
        try:
            return float(text)
        except ValueError:
            return text

    return [[cell(text) for text in row] for row in rows]


def rows_of_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, for spreadsheet programs
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def rows_of_xlsx(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0])
    return [row + [""] * (width - len(row)) for row in rows]  # empty cells at the end


class TestQuarterlyReview:
    def test_the_figures_match_the_hand_computed_ones(self, huibin):
        review = ok(huibin.town.client.get(f"{huibin.review_path}/2098-Q4"))
        assert (review["quarter"], review["previous_quarter"], review["public"]) == (
            "2098-Q4", "2098-Q3", False)
        assert review["summary"] == {
            "points_earned": 100, "banked_minutes": 0, "banked_hours": 0.0,
            "participants": 3, "members": 5, "participation_percent": 60.0}
        assert review["previous"] == {
            "points_earned": 45, "banked_minutes": 0, "banked_hours": 0.0,
            "participants": 3, "members": 5, "participation_percent": 60.0}
        assert review["change"]["points_earned"] == 55
        assert review["change"]["participation_percent"] == 0.0
        assert [(s["rank"], s["name"], s["earned"]) for s in review["top_members"]] == [
            (1, "王秀英", 50), (2, "赵强", 40), (3, "王建国", 10)]
        assert [(s["name"], s["earned"]) for s in review["top_households"]] == [("1栋101", 60)]
        assert [(r["rule_code"], r["name"], r["points"], r["awards"], r["previous_points"],
                 r["change"]) for r in review["points_by_rule"]] == [
            ("MEDIATE", "纠纷调解", 60, 2, 20, 40),
            ("VOL", "志愿服务", 30, 1, 20, 10),
            ("GARDEN", "最美花园", 10, 1, 5, 5)]
        east, west = huibin.grids
        assert [(g["grid_id"], g["name"], g["points"], g["previous_points"], g["change"])
                for g in review["points_by_grid"]] == [
            (east, "一网格", 60, 25, 35), (west, "二网格", 0, 20, -20),
            (None, "未分网格", 40, 0, 40)]

    def test_the_previous_quarter_and_top_limit(self, huibin):
        review = ok(huibin.town.client.get(f"{huibin.review_path}/2098-Q3",
                                           params={"top": 1}))
        assert review["summary"]["points_earned"] == 45
        assert review["previous"]["points_earned"] == 0
        # 王秀英 and 李桂兰 both earned 20: 王秀英's award was recorded first
        assert [(s["name"], s["earned"]) for s in review["top_members"]] == [("王秀英", 20)]

    def test_published_with_names_masked_and_opt_outs_left_off(self, huibin):
        client = huibin.town.client
        ok(client.post(f"/v1/members/{huibin.zhao}/opt-out"))
        review = ok(client.get(f"{huibin.review_path}/2098-Q4", params={"public": True}))
        assert review["public"] is True
        assert [(s["rank"], s["name"], s["earned"]) for s in review["top_members"]] == [
            (1, "王*英", 50), (2, "王*国", 10)]
        assert [(s["name"], s["earned"]) for s in review["top_households"]] == [("王*英家", 60)]
        assert review["summary"]["points_earned"] == 100  # sums still count everyone

        member = huibin.town.token(role="member", member_id=huibin.li)
        as_member = ok(client.get(f"{huibin.review_path}/2098-Q4", headers=member))
        assert as_member["public"] is True
        assert as_member["top_members"] == review["top_members"]

    def test_csv_and_xlsx_open_and_hold_the_same_rows(self, huibin):
        client = huibin.town.client
        as_csv = client.get(f"{huibin.review_path}/2098-Q4", params={"format": "csv"})
        assert as_csv.status_code == 200
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert "review-2098-Q4.csv" in as_csv.headers["content-disposition"]
        as_xlsx = client.get(f"{huibin.review_path}/2098-Q4", headers={"Accept": XLSX})
        assert as_xlsx.status_code == 200
        assert as_xlsx.headers["content-type"] == XLSX

        rows = rows_of_csv(as_csv.content)
        assert same_cells(rows) == same_cells(rows_of_xlsx(as_xlsx.content))
        assert rows[0] == ["栏目", "名次", "代码", "名称", "本期", "上期", "变化"]
        assert rows[1] == ["概况", "", "points_earned", "积分发放", "100", "45", "55"]
        assert ["概况", "", "participation_percent", "参与率(%)", "60.0", "60.0",
                "0.0"] in rows
        assert ["居民排行", "1", huibin.wang, "王秀英", "50", "", ""] in rows
        assert ["家庭排行", "1", huibin.households[0], "1栋101", "60", "", ""] in rows
        assert ["按规则", "", "MEDIATE", "纠纷调解", "60", "20", "40"] in rows
        assert ["按网格", "", "", "未分网格", "40", "0", "40"] in rows
        assert ["志愿服务", "", "requests", "服务点单", "0", "0", "0"] in rows
        english = rows_of_csv(client.get(f"{huibin.review_path}/2098-Q4", params={
            "format": "csv"}, headers={"Accept-Language": "en"}).content)
        assert english[0] == ["section", "rank", "key", "name", "value", "previous", "change"]
        assert english[1] == ["summary", "", "points_earned", "points earned", "100", "45",
                              "55"]
        assert len(rows) == 1 + 6 + 3 + 1 + 3 + 3 + 6  # and six figures of service orders

    def test_refusals(self, huibin, client):
        path = huibin.review_path
        for quarter in ("2098-Q5", "2098Q4", "2098-04", "Q4"):
            answer = client.get(f"{path}/{quarter}")
            assert answer.status_code == 422, quarter
            assert answer.json()["type"].endswith("/invalid-period")
        assert client.get(f"{path}/2098-Q4", params={"format": "pdf"}).status_code == 422
        assert client.get(f"{path}/2098-Q4", params={"top": 100_001}).status_code == 422
        assert client.get(f"{path}/2098-Q4", params={"top": 101}).status_code == 200  # all
        unknown = "/v1/communities/00000000-0000-0000-0000-000000000000/reviews/2098-Q4"
        assert client.get(unknown).status_code == 404


class TestDashboard:
    def test_monthly_figures(self, huibin):
        client = huibin.town.client
        path = f"/v1/communities/{huibin.town.community_id}/dashboard"
        dashboard = ok(client.get(path, params={"year": 2098}))
        months = {m["month"]: m for m in dashboard["months"]}
        assert list(months) == [f"2098-{m:02d}" for m in range(1, 13)]
        figures = ("points_issued", "active_volunteers")
        assert {k: tuple(m[f] for f in figures) for k, m in months.items()
                if m["points_issued"]} == {
            "2098-09": (45, 3), "2098-10": (40, 2), "2098-11": (60, 2)}
        assert [(r["rule_code"], r["points"], r["awards"]) for r in months["2098-09"]["by_rule"]
                ] == [("MEDIATE", 20, 1), ("VOL", 20, 1), ("GARDEN", 5, 1)]
        assert [(r["rule_code"], r["points"]) for r in months["2098-11"]["by_rule"]] == [
            ("MEDIATE", 60)]
        assert months["2098-11"]["postings_by_kind"] == {
            "POINTS": {"award": 65, "award_reversal": -5}}
        total = dashboard["total"]
        assert (total["month"], total["points_issued"], total["active_volunteers"]) == (
            "2098", 145, 4)
        assert [(r["rule_code"], r["points"], r["awards"]) for r in total["by_rule"]] == [
            ("MEDIATE", 80, 3), ("VOL", 50, 2), ("GARDEN", 15, 2)]

        as_csv = rows_of_csv(client.get(path, params={"year": 2098, "format": "csv"}).content)
        as_xlsx = rows_of_xlsx(client.get(path, params={"year": 2098, "format": "xlsx"}).content)
        assert same_cells(as_csv) == same_cells(as_xlsx)
        assert as_csv[0][:3] == ["月份", "发放积分", "兑换积分"]
        assert as_csv[0][-3:] == ["规则:GARDEN", "规则:MEDIATE", "规则:VOL"]
        assert as_csv[11][:2] == ["2098-11", "60"] and as_csv[11][-3:] == ["0", "60", "0"]
        assert as_csv[13][:2] == ["2098", "145"]

    def test_redemptions_and_refunds_count_in_the_month_they_were_recorded(self, huibin):
        town, client = huibin.town, huibin.town.client
        merchant = ok(client.post("/v1/merchants", json={
            "community_id": town.community_id, "name": "文明积分超市"}), 201)["id"]
        till = town.token(role="merchant", merchant_id=merchant)
        redemption = ok(client.post("/v1/redemptions", headers={**till, **key()}, json={
            "member_id": huibin.wang, "points": 15, "description": "大米"}), 201)
        ok(client.post(f"/v1/redemptions/{redemption['id']}/refunds",
                       headers={**till, **key()}, json={"points": 5}), 201)
        line = ok(client.get(f"/v1/members/{huibin.wang}/passbook"))["items"][0]
        local = datetime.fromisoformat(line["at"]).astimezone(ZoneInfo("Asia/Shanghai"))

        dashboard = ok(client.get(f"/v1/communities/{town.community_id}/dashboard",
                                  params={"year": local.year}))
        month = next(m for m in dashboard["months"] if m["month"] == f"{local:%Y-%m}")
        assert (month["points_redeemed"], month["points_refunded"]) == (15, 5)
        assert month["postings_by_kind"]["POINTS"]["redemption"] == -15

    def test_staff_and_auditors_only(self, huibin, client):
        town = huibin.town
        path = f"/v1/communities/{town.community_id}/dashboard"
        member = town.token(role="member", member_id=huibin.wang)
        auditor = town.token(role="auditor", community_id=town.community_id)
        assert client.get(path, params={"year": 2098}, headers=member).status_code == 403
        assert ok(client.get(path, params={"year": 2098}, headers=auditor))["year"] == 2098
        assert client.get(path).status_code == 422
        assert client.get(path, params={"year": 1999}).status_code == 422
