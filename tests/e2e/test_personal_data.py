"""Personal data: encrypted per person in the log, erased by destroying the person's key,
every read by staff, merchants and auditors logged, names masked by role."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from api.app import create_app
from api.bootstrap import Linli, open_linli
from api.cli import cli
from ledger.privacy.master_key import write_master_key
from ledger.settings import Settings, UnsafeConfiguration
from projections.runner import ProjectionRunner
from projections.verify import verify
from tests.conftest import ADMIN_TOKEN
from tests.scenario import Town, auth, key, ok, problem_type

NAME = "欧阳丽华"
ADDRESS = "钢花村街道幸福里7号楼302室"
BORN = "1941-03-09"
VISIT_NOTE = "血压偏高，膝关节疼痛，需每日服药"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Snapshots every 2 events, so a member's and a household's snapshots are stored too."""
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN,
                    projection_worker="thread", projection_poll_seconds=0.05,
                    sweep_interval_seconds=0, seal_interval_seconds=0,
                    snapshot_interval_events=2, rate_limit_per_second=1_000_000,
                    rate_limit_burst=1_000_000, auth_failure_burst=1_000_000)


@pytest.fixture
def resident(client: TestClient) -> Town:
    """The usual cast, and 欧阳丽华 living alone at ADDRESS with her birth date, points,
    a redemption at the shop and minutes given to 张三."""
    town = Town.standard(client)
    household = ok(client.post("/v1/households", headers={**town.staff, **key()},
                               json={"community_id": town.community_id, "address": ADDRESS}),
                   201)["id"]
    member = ok(client.post("/v1/members", headers={**town.staff, **key()}, json={
        "community_id": town.community_id, "name": NAME, "household_id": household}), 201)
    town.names[member["id"]] = NAME
    ok(client.patch(f"/v1/members/{member['id']}", headers=town.staff,
                    json={"birth_date": BORN, "reason": "登记生日"}))
    ok(client.patch(f"/v1/households/{household}", headers=town.staff,
                    json={"address": "幸福里7号楼", "reason": "门牌更正"}))
    ok(client.patch(f"/v1/households/{household}", headers=town.staff,
                    json={"address": ADDRESS, "reason": "门牌更正"}))
    town.award(30, member["id"])
    assert town.redeem(10, member["id"]).status_code == 201
    ok(client.put(f"/v1/members/{member['id']}/care", headers=town.staff, json={
        "categories": ["独居", "残疾"], "observer_member_id": town.member_id,
        "visit_every_days": 7}))
    ok(client.post(f"/v1/members/{member['id']}/visits", headers={**town.staff, **key()},
                   json={"note": VISIT_NOTE}), 201)
    town.resident_id = member["id"]  # type: ignore[attr-defined]
    town.resident_household = household  # type: ignore[attr-defined]
    return town


def balance_of(client: TestClient, town: Town, member_id: str) -> dict[str, object]:
    """The member's balance as the API gives it, without its instant."""
    found = ok(client.get(f"/v1/members/{member_id}/balance", headers=town.staff))
    found.pop("as_of")
    return dict(found)


def stored_bytes(linli: Linli) -> bytes:
    """Every stored event's and snapshot's state, as stored."""
    events = linli.app.recorder.events_table_name  # type: ignore[attr-defined]
    snapshots = linli.app.snapshots.recorder.events_table_name  # type: ignore[union-attr]
    with linli.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT state FROM {events} UNION ALL "
                                 f"SELECT state FROM {snapshots}")).all()
    return b"\n".join(bytes(r[0]) for r in rows)


def test_no_personal_field_is_stored_in_clear(resident: Town, linli: Linli,
                                              client: TestClient) -> None:
    stored = stored_bytes(linli)
    # Not even masked: the shop's line of a redemption names no one in the log.
    for secret in (NAME, ADDRESS, BORN, "欧*华", VISIT_NOTE, "残疾"):
        assert secret.encode() not in stored, secret
    snapshots = linli.app.snapshots.recorder  # type: ignore[union-attr]
    household = UUID(resident.resident_household)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10  # snapshots are stored once the answers are given
    while not list(snapshots.select_events(household, limit=1)):
        assert time.monotonic() < deadline, "the household was snapshotted"
        time.sleep(0.05)
    assert ADDRESS.encode() not in stored_bytes(linli)
    # ... and the people who may read them still do.
    member = ok(client.get(f"/v1/members/{resident.resident_id}",  # type: ignore[attr-defined]
                           headers=resident.staff))
    assert member["name"] == NAME
    household = ok(client.get(f"/v1/households/{resident.resident_household}",  # type: ignore[attr-defined]
                              headers=resident.staff))
    assert household["address"] == ADDRESS


def test_erasure_keeps_the_books_and_removes_the_person(resident: Town, linli: Linli,
                                                         client: TestClient) -> None:
    member_id = resident.resident_id  # type: ignore[attr-defined]
    before = balance_of(client, resident, member_id)
    statement_before = ok(client.get(f"/v1/merchants/{resident.merchant_id}/statement",
                                     headers=resident.merchant))
    assert any(line["counterparty"] == "欧*华" for line in statement_before["items"])

    refused = client.post(f"/v1/members/{member_id}/erasure", headers=resident.staff,
                          json={"reason": "本人申请"})
    assert refused.status_code == 403
    assert problem_type(client.post("/v1/members/00000000-0000-4000-8000-000000000000/erasure",
                                    json={"reason": "本人申请"})) == "not-found"
    erased = ok(client.post(f"/v1/members/{member_id}/erasure",
                            json={"reason": "本人申请（2026-12-06）"}))
    assert erased["household_id"] == resident.resident_household  # type: ignore[attr-defined]
    again = client.post(f"/v1/members/{member_id}/erasure", json={"reason": "本人申请"})
    assert again.status_code == 409 and problem_type(again) == "already-erased"

    assert balance_of(client, resident, member_id) == before
    assert ok(client.get(f"/v1/members/{member_id}", headers=resident.staff))["name"] == \
        "已注销居民"
    found = ok(client.get(f"/v1/members?community_id={resident.community_id}&q=欧阳",
                          headers=resident.staff))
    assert found["items"] == []
    household = ok(client.get(f"/v1/households/{resident.resident_household}",  # type: ignore[attr-defined]
                              headers=resident.staff))
    assert household["address"] == "（已注销）"
    statement = ok(client.get(f"/v1/merchants/{resident.merchant_id}/statement",
                              headers=resident.merchant))
    assert "欧*华" not in str(statement) and any(
        line["counterparty"] == "已注销居民" for line in statement["items"])
    print_page = client.get(f"/v1/members/{member_id}/passbook/statement", headers=resident.staff)
    assert NAME not in print_page.text and "已注销居民" in print_page.text
    # Off the care roster, with what visitors noted.
    assert client.get(f"/v1/members/{member_id}/care", headers=resident.staff).status_code \
        == 404
    roster = ok(client.get(f"/v1/care/roster?community_id={resident.community_id}",
                           headers=resident.staff))
    assert member_id not in str(roster) and VISIT_NOTE not in str(roster)
    # Renaming an erased member would store personal data again: refused.
    renamed = client.patch(f"/v1/members/{member_id}", headers=resident.staff,
                           json={"name": NAME, "reason": "更正"})
    assert renamed.status_code == 409 and problem_type(renamed) == "already-erased"

    # The views rebuilt from the log show the same; verify passes.
    assert isinstance(linli.projections, ProjectionRunner)
    linli.projections.rebuild()
    assert ok(client.get(f"/v1/members/{member_id}", headers=resident.staff))["name"] == \
        "已注销居民"
    assert balance_of(client, resident, member_id) == before
    assert "欧*华" not in str(ok(client.get(f"/v1/merchants/{resident.merchant_id}/statement",
                                          headers=resident.merchant)))
    report = verify(linli.app, linli.engine)
    assert report.ok, report.problems


def test_after_erasure_the_name_is_nowhere_in_the_database(
        resident: Town, linli: Linli, client: TestClient, backend: str, database_url: str,
        tmp_path: Path) -> None:
    member_id = resident.resident_id  # type: ignore[attr-defined]
    ok(client.get(f"/v1/members/{member_id}/personal-data", headers=resident.staff))
    ok(client.post(f"/v1/members/{member_id}/erasure", json={"reason": "本人申请"}))
    linli.close()
    if backend == "sqlite":
        database = Path(make_url(database_url).database or "")
        files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
        content = b"".join(p.read_bytes() for p in files)
    else:
        url = make_url(database_url)
        content = subprocess.run(
            ["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U",
             url.username or "postgres", url.database or ""],
            check=True, capture_output=True).stdout
        assert b"personal_keys" in content  # the dump is the whole database
    for secret in (NAME, ADDRESS, BORN, VISIT_NOTE):
        assert secret.encode() not in content, secret


def test_the_person_reads_all_that_is_held_and_who_looked(resident: Town,
                                                          client: TestClient) -> None:
    member_id = resident.resident_id  # type: ignore[attr-defined]
    own = resident.token(role="member", member_id=member_id)
    ok(client.get(f"/v1/members/{member_id}", headers=resident.staff))
    ok(client.get(f"/v1/passbooks/{ok(client.get(f'/v1/members/{member_id}'))['passbook_no']}",
                  headers=resident.merchant))
    held = ok(client.get(f"/v1/members/{member_id}/personal-data", headers=own))
    items = {i["label"]: i["value"] for s in held["sections"] for i in s["items"]}
    assert items["姓名"] == NAME and items["住址"] == ADDRESS and items["出生日期"] == BORN
    assert items["积分余额"] == "20"
    looked = [s for s in held["sections"] if s["title"] == "谁查阅过我的个人信息"][0]["items"]
    assert any("社区工作人员" in i["label"] for i in looked)
    assert any("商户" in i["label"] and "已脱敏" in i["value"] for i in looked)
    page = client.get(f"/v1/members/{member_id}/personal-data?format=html", headers=own)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert NAME in page.text and "个人信息查阅结果" in page.text
    # Another resident may not; a merchant may not.
    other = resident.member
    assert client.get(f"/v1/members/{member_id}/personal-data", headers=other).status_code \
        in (403, 404)
    assert client.get(f"/v1/members/{member_id}/personal-data",
                      headers=resident.merchant).status_code == 403


def test_the_access_log_records_each_kind_of_read(resident: Town, client: TestClient) -> None:
    member_id = resident.resident_id  # type: ignore[attr-defined]
    passbook_no = ok(client.get(f"/v1/members/{member_id}"))["passbook_no"]
    reads = [
        (resident.staff, f"/v1/members/{member_id}", "姓名"),
        (resident.staff, f"/v1/members?community_id={resident.community_id}&q=欧阳", "姓名"),
        (resident.merchant, f"/v1/passbooks/{passbook_no}", "姓名（已脱敏）"),
        (resident.auditor, f"/v1/members/{member_id}", "姓名（已脱敏）"),
        (resident.auditor, f"/v1/members/{member_id}?reveal=true", "姓名"),
        (resident.staff, f"/v1/members/{member_id}/personal-data", "全部个人信息"),
        (resident.staff, f"/v1/members/{member_id}/passbook/statement", "姓名（存折打印）"),
    ]
    for headers, path, _ in reads:
        assert client.get(path, headers=headers).status_code == 200, path
    # Masked by role: the merchant and the auditor (unless asking) never get the full name.
    assert ok(client.get(f"/v1/passbooks/{passbook_no}", headers=resident.merchant))[
        "name"] == "欧*华"
    assert ok(client.get(f"/v1/members/{member_id}", headers=resident.auditor))[
        "name"] == "欧*华"
    assert ok(client.get(f"/v1/members/{member_id}?reveal=true", headers=resident.auditor))[
        "name"] == NAME
    assert ok(client.get(f"/v1/households/{resident.resident_household}",  # type: ignore[attr-defined]
                         headers=resident.auditor))["address"] != ADDRESS

    log = ok(client.get(f"/v1/audit/access-log?member_id={member_id}&limit=500",
                        headers=resident.auditor))["items"]
    logged = {(item["route"].split("?")[0], item["what"], item["actor_role"]) for item in log}
    for headers, path, what in reads:
        role = next(r for r in ("staff", "merchant", "auditor")
                    if headers == getattr(resident, r))
        assert (path.split("?")[0], what, role) in logged, (path, what, role)
    assert all(item["member_id"] == member_id for item in log)
    # Only auditors and admins read the log; the resident's own reads are not in it.
    assert client.get("/v1/audit/access-log", headers=resident.staff).status_code == 403
    own = resident.token(role="member", member_id=member_id)
    ok(client.get(f"/v1/members/{member_id}", headers=own))
    assert len(ok(client.get(f"/v1/audit/access-log?member_id={member_id}&limit=500",
                             headers=resident.auditor))["items"]) == len(log)


def test_the_feed_withholds_personal_fields(resident: Town, client: TestClient) -> None:
    feed = ok(client.get("/v1/events?limit=500"))
    registered = [i for i in feed["items"] if i["type"] == "Member.Registered"]
    assert registered and all("name" not in i["data"] and "name" in i["withheld"]
                              for i in registered)
    assert NAME not in str(feed)


def test_the_master_key_must_be_there_and_the_right_one(
        resident: Town, linli: Linli, settings: Settings, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    linli.close()
    wrong = tmp_path / "wrong-master.key"
    write_master_key(wrong)
    with pytest.raises(UnsafeConfiguration, match="主密钥与这个数据库不符"):
        open_linli(settings.model_copy(update={"master_key_file": str(wrong)}))
    with pytest.raises(UnsafeConfiguration, match="不存在"):
        open_linli(settings.model_copy(update={"master_key_file": str(tmp_path / "none")}))
    open_to_others = tmp_path / "open.key"
    open_to_others.write_text(Path(_master_of(settings)).read_text())
    open_to_others.chmod(0o644)
    reopened = open_linli(settings.model_copy(update={"master_key_file": str(open_to_others)}))
    try:
        assert "其他用户可读" in caplog.text
        with TestClient(create_app(linli=reopened)) as again:
            again.headers.update(auth(ADMIN_TOKEN))
            member = ok(again.get(f"/v1/members/{resident.resident_id}"))  # type: ignore[attr-defined]
            assert member["name"] == NAME
    finally:
        reopened.close()


def _master_of(settings: Settings) -> str:
    from ledger.privacy.master_key import master_key_path

    path = master_key_path(settings)
    assert path is not None
    return str(path)


def test_erasure_and_key_rotation_from_the_command_line(
        resident: Town, linli: Linli, settings: Settings, database_url: str,
        tmp_path: Path) -> None:
    member_id = resident.resident_id  # type: ignore[attr-defined]
    linli.close()
    env = {"LINLI_DATABASE_URL": database_url, "LINLI_MASTER_KEY_FILE": _master_of(settings)}
    unknown = CliRunner().invoke(cli, ["members", "erase", "00000000-0000-4000-8000-000000000000",
                                       "--reason", "本人申请"], env=env)
    assert unknown.exit_code == 1 and "没有这个居民" in unknown.output

    rotated = tmp_path / "rotated-master.key"
    result = CliRunner().invoke(cli, ["keys", "rotate-master", str(rotated)], env=env)
    assert result.exit_code == 0, result.output
    with pytest.raises(UnsafeConfiguration, match="主密钥与这个数据库不符"):
        open_linli(settings)  # the old key opens nothing now
    env["LINLI_MASTER_KEY_FILE"] = str(rotated)
    erased = CliRunner().invoke(cli, ["members", "erase", member_id, "--reason", "本人申请"],
                                env=env)
    assert erased.exit_code == 0, erased.output
    assert "已注销" in erased.output
    again = CliRunner().invoke(cli, ["members", "erase", member_id, "--reason", "本人申请"],
                               env=env)
    assert again.exit_code == 1 and "已注销" in again.output

    reopened = open_linli(settings.model_copy(update={"master_key_file": str(rotated)}))
    try:
        with TestClient(create_app(linli=reopened)) as again_client:
            again_client.headers.update(auth(ADMIN_TOKEN))
            assert ok(again_client.get(f"/v1/members/{member_id}"))["name"] == "已注销居民"
            assert ok(again_client.get(f"/v1/members/{resident.member_id}"))["name"] == "张三"
    finally:
        reopened.close()


def test_an_import_of_residents_stores_no_name_in_clear(resident: Town, linli: Linli,
                                                        client: TestClient) -> None:
    csv = {"Content-Type": "text/csv"}
    sheet = "姓名,户\n司马青云,梧桐巷12号\n上官明月,梧桐巷12号\n".encode()
    imported = ok(client.post(f"/v1/imports?kind=members&community_id={resident.community_id}",
                              content=sheet, headers=csv), 201)
    assert imported["accepted"] == 2
    awards = "姓名,规则,数量\n诸葛无名,GIFT,1\n".encode()
    refused = client.post(f"/v1/imports?kind=awards&community_id={resident.community_id}",
                          content=awards, headers=csv)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["column"] == "姓名"  # the row's, not the name's
    stored = stored_bytes(linli)
    for secret in ("司马青云", "上官明月", "梧桐巷12号", "诸葛无名"):
        assert secret.encode() not in stored, secret
    found = ok(client.get(f"/v1/members?community_id={resident.community_id}&q=司马"))
    assert [m["name"] for m in found["items"]] == ["司马青云"]


def test_serve_refuses_a_wrong_master_key_in_one_line(resident: Town, linli: Linli,
                                                       database_url: str, tmp_path: Path) -> None:
    linli.close()
    wrong = tmp_path / "wrong-master.key"
    write_master_key(wrong)
    served = subprocess.run(
        [str(Path(sys.executable).parent / "linli"), "serve", "--port", "1"],
        env={**os.environ, "LINLI_DATABASE_URL": database_url,
             "LINLI_MASTER_KEY_FILE": str(wrong)},
        capture_output=True, text=True, timeout=120, check=False)
    assert served.returncode == 2, served.stderr
    assert "linli: 主密钥与这个数据库不符" in served.stderr
    assert "Traceback" not in served.stderr
