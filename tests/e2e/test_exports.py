"""Exports a spreadsheet opens as they are: Chinese headers and kinds (English on request),
real date-times in the community's time zone, a frozen header row, totals, widths that fit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from tests.scenario import Town, ok

URUMQI = timedelta(hours=6)  # Asia/Urumqi: UTC+6 all year


def test_a_statement_as_xlsx_and_csv(client):
    world = Town.found(client, "天山社区", time_zone="Asia/Urumqi").cast()
    world.award(100)
    before = datetime.now(UTC).replace(microsecond=0)
    ok(world.redeem(30), 201)
    path = f"/v1/merchants/{world.merchant_id}/statement"

    book = load_workbook(io.BytesIO(client.get(path, params={"format": "xlsx"},
                                               headers=world.merchant).content))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("时间", "类别", "积分", "余额", "凭证号", "摘要")
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    at = rows[2][0]
    assert isinstance(at, datetime) and at.tzinfo is None  # an Excel date-time, local
    assert before + URUMQI - timedelta(seconds=1) <= at.replace(tzinfo=UTC) <= (
        datetime.now(UTC) + URUMQI)
    assert rows[2][1:4] == ("积分兑换", 30, 30)
    assert sheet["A3"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ("合计：兑换", 30) in [r[1:3] for r in rows]
    assert sheet[f"B{len(rows)}"].font.bold  # the totals
    assert sheet.column_dimensions["A"].width >= 19  # a date-time fits
    assert sheet.column_dimensions["E"].width > 40  # so does a reference

    text = client.get(path, params={"format": "csv"},
                      headers={**world.merchant, "Accept-Language": "en"}).content
    assert text.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert lines[0] == ["at", "kind", "points", "balance after", "reference", "description"]
    assert lines[2][0].endswith("+06:00") and lines[2][1] == "redemption"
    assert ["total redeemed", "30"] in [line[1:3] for line in lines]


def test_grids_list_in_sort_order_then_in_natural_order_of_names(client):
    town = Town.found(client, "湖滨社区")
    for name in ("第七网格", "第一网格", "第十网格", "第三网格", "第二网格"):
        town.add_grid(name)
    last = town.add_grid("东区")
    ok(client.patch(f"/v1/communities/{town.community_id}/grids/{last}",
                    json={"sort_order": 1}))
    path = f"/v1/communities/{town.community_id}/grids"
    first = ok(client.get(path, params={"limit": 3}))
    rest = ok(client.get(path, params={"limit": 10, "cursor": first["next_cursor"]}))
    expected = ["第一网格", "第二网格", "第三网格", "第七网格", "第十网格", "东区"]
    assert [g["name"] for g in first["items"] + rest["items"]] == expected
    review = ok(client.get(f"/v1/communities/{town.community_id}/reviews/2026-Q4"))
    assert [g["name"] for g in review["points_by_grid"]] == expected
