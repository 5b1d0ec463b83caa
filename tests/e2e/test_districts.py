"""A district (街道) through HTTP on both backends: its communities and keys, 通存通兑 at another
community's counter, agreements between districts, net settlements with their statements, and
the district's dashboard, board and guarantee."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Linli
from tests.scenario import Town, auth, key, ok, problem_type

NOVEMBER = datetime(2098, 11, 23, 4, 0, tzinfo=UTC)
DECEMBER = datetime(2098, 12, 2, 4, 0, tzinfo=UTC)


class District:
    """Three communities in one district (湖滨街道), a fourth in another (城东街道), each with
    staff, and an elder of 东湖社区 with minutes in the bank."""

    def __init__(self, client: TestClient, linli: Linli) -> None:
        self.client, self.linli = client, linli
        linli.clock = lambda: NOVEMBER
        self.towns = [Town.standard(client, name) for name in ("东湖社区", "西湖社区", "南湖社区")]
        self.far = Town.standard(client, "城东社区")
        self.id = ok(client.post("/v1/districts", json={"name": "湖滨街道"}), 201)["id"]
        for town in self.towns:
            ok(client.post(f"/v1/districts/{self.id}/communities",
                           json={"community_id": town.community_id}))
        self.other = ok(client.post("/v1/districts", json={"name": "城东街道"}), 201)["id"]
        ok(client.post(f"/v1/districts/{self.other}/communities",
                       json={"community_id": self.far.community_id}))
        self.staff = self.key("district_staff", self.id)
        self.auditor = self.key("district_auditor", self.id)
        self.home = self.towns[0]
        self.elder = self.home.member_id
        self.deposit(self.home, self.elder, 200)
        self.far_elder = self.far.member_id
        self.deposit(self.far, self.far_elder, 200)

    def key(self, role: str, district_id: str) -> dict[str, str]:
        return auth(ok(self.client.post("/v1/api-keys", json={
            "role": role, "district_id": district_id}), 201)["token"])

    def deposit(self, town: Town, member_id: str, minutes: int) -> None:
        volunteer = town.add_member("志愿者")
        ok(self.client.post("/v1/timebank/deposits", headers=town.staff, json={
            "volunteer_id": volunteer, "minutes": minutes, "service_type": "助洁"}), 201)
        ok(self.client.post("/v1/timebank/transfers", headers={**town.staff, **key()}, json={
            "from_member_id": volunteer, "to_member_id": member_id, "minutes": minutes}), 201)

    def withdraw(self, headers: dict[str, str], passbook_no: str, minutes: int,
                 **extra: Any) -> Any:
        return self.client.post("/v1/timebank/withdrawals", headers=headers, json={
            "passbook_no": passbook_no, "minutes": minutes, "service_type": "助餐", **extra})

    def minutes(self, town: Town, member_id: str) -> int:
        return int(town.balance(member_id)["minutes"])

    def positions(self) -> dict[str, int]:
        body = ok(self.client.get(f"/v1/districts/{self.id}/positions", headers=self.staff))
        return {item["community_id"]: item["net_minutes"] for item in body["items"]}


@pytest.fixture
def district(client: TestClient, linli: Linli) -> District:
    return District(client, linli)


def test_a_district_serves_its_residents_in_every_community_and_settles(district):
    d, client = district, district.client
    home, west, south = d.towns
    far = d.far
    # A community belongs to one district at most; the district's keys see its communities.
    again = client.post(f"/v1/districts/{d.other}/communities",
                        json={"community_id": home.community_id})
    assert (again.status_code, problem_type(again)) == (409, "community-in-district")
    me = ok(client.get("/v1/me", headers=d.staff))
    assert me["role"] == "district_staff" and me["district_id"] == d.id
    assert sorted(me["communities"]) == sorted(t.community_id for t in d.towns)
    listed = ok(client.get("/v1/communities", headers=d.staff))["items"]
    assert sorted(c["name"] for c in listed) == ["东湖社区", "南湖社区", "西湖社区"]
    assert client.get(f"/v1/members/{d.far_elder}/balance", headers=d.staff).status_code == 404
    assert client.get(f"/v1/districts/{d.other}", headers=d.staff).status_code == 404
    assert client.get(f"/v1/districts/{d.id}", headers=home.staff).status_code == 404
    ok(client.get(f"/v1/members/{d.elder}/balance", headers=d.staff))

    # 通兑: 西湖社区's counter withdraws the elder's minutes by passbook number.
    served = ok(d.withdraw(west.staff, home.passbook_no, 45), 201)
    assert (served["member_id"], served["serving_community_id"]) == (d.elder,
                                                                     west.community_id)
    assert d.minutes(home, d.elder) == 155
    line = ok(client.get(f"/v1/members/{d.elder}/passbook?asset=MINUTES",
                         headers=home.staff))["items"][0]
    assert line["amount"] == -45 and "西湖社区" in line["description"]
    assert d.positions() == {home.community_id: 45, west.community_id: -45,
                             south.community_id: 0}
    # District staff serve at any of its counters, naming which.
    ok(d.withdraw(d.staff, home.passbook_no, 20, serving_community_id=south.community_id), 201)
    # The serving community's limit still holds: 南湖社区 lets 东湖社区 owe it 30.
    ok(client.put(f"/v1/communities/{south.community_id}/timebank/partners/"
                  f"{home.community_id}", headers=south.staff,
                  json={"credit_limit_minutes": 30}))
    refused = d.withdraw(south.staff, home.passbook_no, 15)
    assert (refused.status_code, problem_type(refused)) == (409, "credit-limit-reached")
    # Outside the district, without an agreement: not found, and nothing moves.
    outside = d.withdraw(far.staff, home.passbook_no, 10)
    assert outside.status_code == 404
    assert d.minutes(home, d.elder) == 135

    # Agreements between districts: with itself 422, a negative limit 422.
    own = client.post(f"/v1/districts/{d.id}/agreements", headers=d.staff,
                      json={"other_district_id": d.id, "credit_limit_minutes": 60})
    assert own.status_code == 422
    negative = client.post(f"/v1/districts/{d.id}/agreements", headers=d.staff,
                           json={"other_district_id": d.other, "credit_limit_minutes": -1})
    assert negative.status_code == 422
    agreed = ok(client.post(f"/v1/districts/{d.id}/agreements", headers=d.staff,
                            json={"other_district_id": d.other,
                                  "credit_limit_minutes": 60}), 201)
    assert (agreed["credit_limit_minutes"], agreed["other_credit_limit_minutes"]) == (60, 0)
    # 湖滨's resident served in 城东 (城东 has agreed to nothing yet); 城东's in 东湖 (城东 may
    # owe up to 60, net).
    not_yet = d.withdraw(far.staff, home.passbook_no, 10)
    assert (not_yet.status_code, problem_type(not_yet)) == (409, "credit-limit-reached")
    ok(d.withdraw(home.staff, far.passbook_no, 50), 201)
    over = d.withdraw(home.staff, far.passbook_no, 11)
    assert (over.status_code, problem_type(over)) == (409, "credit-limit-reached")
    assert d.minutes(far, d.far_elder) == 150 and d.minutes(home, d.elder) == 135
    assert d.positions() == {home.community_id: 65 - 50, west.community_id: -45,
                             south.community_id: -20}

    # Settlement: November is not over in November; in December it nets into lines.
    path = f"/v1/districts/{d.id}/settlements"
    early = client.post(path, headers={**d.staff, **key()}, json={"period": "2098-11"})
    assert (early.status_code, problem_type(early)) == (409, "nothing-to-settle")
    d.linli.clock = lambda: DECEMBER
    assert client.post(path, headers={**d.auditor, **key()},
                       json={"period": "2098-11"}).status_code == 403
    headers = {**d.staff, **key()}
    settled = client.post(path, headers=headers, json={"period": "2098-11"})
    body = ok(settled, 201)
    lines = {line["community_id"]: line["net_minutes"] for line in body["lines"]}
    assert lines == {home.community_id: 15, west.community_id: -45,
                     south.community_id: -20, far.community_id: 50}
    assert sum(lines.values()) == 0
    assert client.post(path, headers=headers, json={"period": "2098-11"}).content \
        == settled.content  # the same key: the first answer again
    assert d.positions() == {home.community_id: 0, west.community_id: 0,
                             south.community_id: 0}
    again = ok(client.post(f"/v1/districts/{d.id}/agreements", headers=d.staff,
                           json={"other_district_id": d.other, "credit_limit_minutes": 90}), 201)
    assert (again["credit_limit_minutes"], again["owes_minutes"]) == (90, 0)
    for period in ("2098-Q4", "2098-10"):  # overlapping, and empty
        refused = client.post(path, headers={**d.staff, **key()}, json={"period": period})
        assert (refused.status_code, problem_type(refused)) == (409, "nothing-to-settle")
    # The statement of a community, in Chinese: CSV and XLSX.
    statement = f"{path}/{body['id']}/statement"
    csv = client.get(statement, headers=d.auditor,
                     params={"community_id": home.community_id, "format": "csv"})
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "期间,社区,对方社区,应付分钟,应收分钟,净额（分钟，正数为应付）"
    assert "东湖社区,西湖社区,45,0," in text and "街道清算账户,15,0,15" in text
    xlsx = client.get(statement, headers=d.auditor, params={"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.cell(1, 3).value == "对方社区"

    # One view: dashboard, board across communities, guarantee; the auditor's feed and verify.
    dashboard = ok(client.get(f"/v1/districts/{d.id}/dashboard", headers=d.auditor,
                              params={"year": 2098}))
    assert [c["name"] for c in dashboard["communities"]] == ["东湖社区", "西湖社区", "南湖社区"]
    assert dashboard["total"]["minutes_deposited"] == 200
    assert dashboard["total"]["members"] == 4  # each 张三, and the volunteer of 东湖社区
    home.award(7)
    west.award(9, west.member_id)
    board = ok(client.get("/v1/leaderboards", headers=d.auditor,
                          params={"district_id": d.id, "period": "2098"}))["items"]
    assert [(b["earned"], b["community_id"]) for b in board] == [
        (9, west.community_id), (7, home.community_id)]
    public = ok(client.get("/v1/leaderboards", headers=home.member,  # a resident: masked
                           params={"district_id": d.id, "period": "2098"}))["items"]
    assert [(b["name"], b["earned"]) for b in public] == [("张*", 9), ("张*", 7)]
    assert client.get("/v1/leaderboards", headers=far.member,
                      params={"district_id": d.id}).status_code == 404
    chart = client.get("/web/charts/district.svg", headers=d.auditor, params={
        "district_id": d.id, "year": 2098, "figure": "communities"})
    assert chart.status_code == 200 and "西湖社区" in chart.text
    guarantee = ok(client.get(f"/v1/districts/{d.id}/guarantee", headers=d.auditor))
    assert guarantee["owed_minutes"] == 135
    events = ok(client.get("/v1/events?limit=500", headers=d.auditor))["items"]
    assert events and all(e["stream_id"] != far.community_id for e in events)
    verified = ok(client.get("/v1/audit/verify", headers=d.auditor))
    assert verified["ok"], verified["problems"]
