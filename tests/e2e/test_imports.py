"""Spreadsheet imports over HTTP: residents with their households and grids, historical awards
and opening balances; every problem by row and column, nothing posted from a refused file, and
the same file twice posted once."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ledger.imports.run import _one_at_a_time
from tests.scenario import Town, ok, problem_type

CSV = {"Content-Type": "text/csv"}


def send(world: Town, kind: str, body: bytes, *, dry_run: bool = False) -> Any:
    query = f"kind={kind}&community_id={world.community_id}&dry_run={str(dry_run).lower()}"
    return world.client.post(f"/v1/imports?{query}", content=body, headers=CSV)


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def members_of(world: Town) -> dict[str, dict[str, Any]]:
    page = ok(world.client.get(f"/v1/members?community_id={world.community_id}&limit=100"))
    return {m["name"]: {**m, "id": m.get("id") or m.get("member_id")} for m in page["items"]}


def test_residents_then_awards_then_opening_balances(world: Town) -> None:
    world.add_rule("VOLUNTEER", 10, "hour", name="志愿服务", daily_cap=40)
    sheet = ("姓名,户,网格\n王秀英,幸福里3栋101,第一网格\n李建国,幸福里3栋101,第一网格\n"
             "赵敏,,第二网格\n")
    body = b"\xef\xbb\xbf" + sheet.encode()
    checked = ok(send(world, "members", body, dry_run=True))
    assert (checked["rows"], checked["accepted"], checked["problems"]) == (3, 3, [])
    assert "王秀英" not in members_of(world)  # a dry run posts nothing
    first = ok(send(world, "members", body), 201)
    assert (first["rows"], first["accepted"], first["rejected"]) == (3, 3, 0)
    assert ok(send(world, "members", body)) == first  # the same bytes: the first answer
    people = members_of(world)
    assert people["王秀英"]["household_id"] == people["李建国"]["household_id"] is not None
    grids = ok(world.client.get(f"/v1/communities/{world.community_id}/grids"))
    assert {"第一网格", "第二网格"} <= {g["name"] for g in grids["items"]}

    long_ago = (datetime.now(UTC) - timedelta(days=700)).date().isoformat()
    awards = (f"姓名,规则,分钟,日期,事由\n王秀英,志愿服务,120,{long_ago},敬老院帮厨\n"
              f"李建国,VOLUNTEER,60,{long_ago},\n")
    body = awards.encode("gb18030")
    answer = ok(send(world, "awards", body), 201)
    assert (answer["accepted"], answer["rejected"]) == (2, 0)
    passbook = ok(world.client.get(f"/v1/members/{people['王秀英']['id']}/passbook"))
    assert passbook["items"][0]["amount"] == 20

    opening = xlsx([["存折号", "积分", "分钟", "事由"],
                    [people["赵敏"]["passbook_no"], 35, 90, "旧台账结转"]])
    ok(send(world, "opening_balances", opening), 201)
    balance = ok(world.client.get(f"/v1/members/{people['赵敏']['id']}/balance"))
    assert (balance["points"], balance["minutes"]) == (35, 90)


def test_bad_rows_are_each_reported_and_nothing_is_posted(world: Town) -> None:
    world.add_member("张三")  # a second 张三 besides the cast's
    other = Town.found(world.client, "别的社区")
    stranger = other.add_member("外人")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    rows = ("姓名,存折号,规则,数量,日期\n"
            "张三,,GIFT,1,2024-01-01\n"  # two residents of that name
            f",{other.passbooks[stranger]},GIFT,1,2024-01-01\n"  # of another community
            f"{world.names[world.member_id]},{world.passbooks[world.member_id]},GIFT,-2,\n"
            f",{world.passbooks[world.member_id]},GIFT,1.5,\n"
            f",{world.passbooks[world.member_id]},GIFT,1,{tomorrow}\n"
            f",{world.passbooks[world.member_id]},GIFT,2000,\n"
            f",{world.passbooks[world.member_id]},GIFT,3,\n")  # the one good row
    body = rows.encode()
    before = ok(world.client.get(f"/v1/members/{world.member_id}/balance"))
    checked = ok(send(world, "awards", body, dry_run=True))
    assert (checked["rows"], checked["accepted"], checked["rejected"]) == (7, 1, 6)
    where = {(p["row"], p["column"]) for p in checked["problems"]}
    assert where == {(2, "姓名"), (3, "存折号"), (4, "数量"), (5, "数量"), (6, "日期"),
                     (7, "数量")}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p["detail"])
               for p in checked["problems"])
    refused = send(world, "awards", body)
    assert refused.status_code == 422 and problem_type(refused) == "import-has-problems"
    assert len(refused.json()["problems"]) == 6
    after = ok(world.client.get(f"/v1/members/{world.member_id}/balance"))
    assert after["points"] == before["points"]


def test_files_refused_as_a_whole(world: Town) -> None:
    def refused(body: bytes, slug: str, status: int = 422) -> str:
        response = send(world, "awards", body, dry_run=True)
        assert response.status_code == status, response.text
        assert problem_type(response) == slug
        return str(response.json()["detail"])

    refused("姓名,规则\n张三,GIFT\n".encode("utf-16"), "import-file-refused")
    refused(b"", "import-file-refused")
    refused(b"\n\n", "import-file-refused")
    assert "颜色" in refused("姓名,颜色\n张三,红\n".encode(), "import-file-refused")
    refused(b"x" * (50 * 1024 * 1024 + 1), "import-too-large", 413)
    with _one_at_a_time(__import__("uuid").UUID(world.community_id)):
        refused("姓名,规则\n张三,GIFT\n".encode(), "import-running", 409)


def test_the_sample_files_import_as_the_guide_says(client: Any) -> None:
    town = Town.found(client, "幸福里社区", rules={})
    town.add_rule("VOLUNTEER", 10, "hour", name="志愿服务", daily_cap=40)
    town.add_rule("PERFORMANCE", 15, name="文化展演")
    town.add_rule("SORTING", 2, name="垃圾分类", daily_cap=2)
    samples = Path(__file__).resolve().parents[2] / "docs" / "imports"
    for kind, name, rows in (("members", "members.csv", 6), ("awards", "awards.csv", 5),
                             ("awards", "awards-gb18030.csv", 2),
                             ("opening_balances", "opening_balances.xlsx", 3)):
        answer = ok(send(town, kind, (samples / name).read_bytes()), 201)
        assert (answer["accepted"], answer["rejected"]) == (rows, 0), (name, answer)
    zhou = members_of(town)["周桂兰"]
    balance = ok(client.get(f"/v1/members/{zhou['id']}/balance"))
    assert (balance["points"], balance["minutes"]) == (20 + 10 + 120, 300)


def test_only_staff_of_the_community_import_into_it(world: Town) -> None:
    other = Town.found(world.client, "别的社区")
    sheet = "姓名\n新居民\n".encode()
    query = f"kind=members&community_id={other.community_id}&dry_run=true"
    refused = world.client.post(f"/v1/imports?{query}", content=sheet,
                                headers={**CSV, **world.staff})
    assert refused.status_code == 404
    unknown = world.client.post(
        "/v1/imports?kind=members&dry_run=true&community_id=00000000-0000-0000-0000-000000000001",
        content=sheet, headers=CSV)
    assert unknown.status_code == 404
    member = world.client.post(f"/v1/imports?kind=members&community_id={world.community_id}",
                               content=sheet, headers={**CSV, **world.member})
    assert member.status_code == 403


def test_a_large_file_is_checked_in_a_process_of_its_own_with_the_same_answers(
    world: Town, monkeypatch: Any
) -> None:
    """Past `CHECK_APART_BYTES` the file is read and checked in a forked process (the other
    core), which asks this one for a resident's cap usage: the same problems, the same
    refusals, every row posted once."""
    monkeypatch.setattr("ledger.imports.run.CHECK_APART_BYTES", 0)
    world.add_rule("VOLUNTEER", 10, "hour", name="志愿服务", daily_cap=40)
    passbook = world.passbooks[world.member_id]
    today = datetime.now(UTC).date().isoformat()
    ok(send(world, "awards", f"存折号,规则,分钟,日期\n{passbook},VOLUNTEER,120,{today}\n"
            .encode()), 201)  # 20 of today's 40 used before the file
    assert "颜色" in str(send(world, "awards", "姓名,颜色\n张三,红\n".encode(),
                              dry_run=True).json()["detail"])
    rows = "".join(f"{passbook},VOLUNTEER,60,{today}\n" for _ in range(3))
    body = f"存折号,规则,分钟,日期\n{rows}{passbook},GIFT,30,\n".encode()
    checked = ok(send(world, "awards", body, dry_run=True))
    assert (checked["rows"], checked["accepted"], checked["rejected"]) == (4, 2, 2)
    assert [(p["row"], p["column"]) for p in checked["problems"]] == [(4, "分钟"), (5, "分钟")]
    assert "已有 40 积分" in checked["problems"][0]["detail"]
    before = ok(world.client.get(f"/v1/members/{world.member_id}/balance"))["points"]
    good = f"存折号,规则,分钟,日期\n{rows.splitlines()[0]}\n{passbook},GIFT,,\n".encode()
    answer = ok(send(world, "awards", good), 201)
    assert (answer["accepted"], answer["rejected"]) == (2, 0)
    assert ok(send(world, "awards", good)) == answer
    after = ok(world.client.get(f"/v1/members/{world.member_id}/balance"))["points"]
    assert after - before == 10 + 1
