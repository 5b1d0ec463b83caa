"""Volunteer service certificates (志愿服务记录证明): printable, only service, with a code
checked against the hash chain by anyone, without a token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from ledger import ids
from ledger.domain.assets import Asset
from tests.scenario import Town, ok

CODE = re.compile(r"验证码：(\d{4}-\d{6}-\d+)-([0-9A-F]{4}(?:-[0-9A-F]{4}){4})")


# Yesterday evening in UTC: the next day in Shanghai, where the certificate dates it.
EVENING = (datetime.now(UTC) - timedelta(days=1)).replace(hour=17, minute=30, second=0,
                                                          microsecond=0)
SHANGHAI_DAY = (EVENING + timedelta(hours=8)).strftime("%Y年%m月%d日")


def deposit(world: Town, minutes: int, service_type: str, occurred_at: str | None = None) -> None:
    body = {"volunteer_id": world.member_id, "minutes": minutes, "service_type": service_type}
    ok(world.client.post("/v1/timebank/deposits", headers=world.staff,
                         json={**body, **({"occurred_at": occurred_at} if occurred_at else {})}),
       201)


@pytest.fixture
def world(client) -> Town:
    world = Town.standard(client)
    deposit(world, 120, "助老陪护", EVENING.isoformat())
    deposit(world, 45, "社区巡逻")
    ok(client.post("/v1/adjustments", headers=world.token(role="auditor"), json={
        "member_id": world.member_id, "asset": "MINUTES", "amount": 30,
        "reason": "补录"}), 201)
    return world


def certificate(world: Town, headers: dict[str, str] | None = None) -> tuple[str, str, str]:
    response = world.client.get(f"/v1/members/{world.member_id}/certificate",
                                headers=headers or world.staff)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    found = CODE.search(page)
    assert found
    return page, found.group(1), found.group(2)


def check(world: Town, number: str, code: str) -> dict[str, Any]:
    return ok(world.client.get(f"/v1/certificates/{number}/verify", params={"code": code},
                               headers=world.merchant))


class TestCertificates:
    def test_a_member_prints_a_certificate_whose_code_checks_out(self, world):
        page, number, code = certificate(world, world.member)

        assert "志愿服务记录证明" in page and "张三" in page
        assert "助老陪护" in page and "社区巡逻" in page and "补录" not in page
        assert SHANGHAI_DAY in page and "2小时45分钟" in page
        for part in ("个人基本信息", "志愿服务信息", "培训信息", "表彰奖励信息", "服务评价信息"):
            assert part in page
        assert "<svg" in page and "/v1/certificates/verify?code=" in page
        assert check(world, number, code) == {
            "number": number, "valid": True, "member_id": world.member_id, "name": "张三",
            "minutes_earned": 165}
        assert check(world, number, code.lower())["valid"] is True

    def test_anyone_checks_the_code_without_a_token_in_any_form(self, world):
        _, number, code = certificate(world)
        full = f"{number}-{code}"
        for typed in (full, full.lower(), full.replace("-", ""), " " + full.lower() + " "):
            answer = ok(world.client.get("/v1/certificates/verify", params={"code": typed},
                                         headers={"Authorization": ""}))
            assert answer["valid"] is True
            assert (answer["name"], answer["minutes"], answer["issuer"]) == (
                "张*", 165, "116社区")
        wrong = full[:-1] + ("0" if full[-1] != "0" else "1")
        assert ok(world.client.get("/v1/certificates/verify", params={"code": wrong},
                                   headers={"Authorization": ""}))["valid"] is False

    def test_checks_are_rate_limited_per_address_in_chinese(self, world):
        answers = [world.client.get("/v1/certificates/verify", params={"code": "x"},
                                    headers={"Authorization": ""}) for _ in range(12)]
        limited = answers[-1]
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert limited.json()["detail"].startswith("查询太频繁")

    def test_a_wrong_code_or_number_does_not(self, world):
        _, number, code = certificate(world)
        wrong = ("0" if code[0] != "0" else "1") + code[1:]

        assert check(world, number, wrong)["valid"] is False
        assert check(world, number.rsplit("-", 1)[0] + "-1", code)["valid"] is False
        assert check(world, "no-such-number", code)["valid"] is False
        for other in (code[:-1], code + "0", "证" * 20):  # compared in constant time
            assert check(world, number, other)["valid"] is False

    def test_an_earlier_certificate_still_checks_out_after_more_service(self, world, client):
        _, number, code = certificate(world)
        deposit(world, 30, "文化展演")

        _, later_number, later_code = certificate(world)

        assert later_number != number and later_code != code
        assert check(world, number, code)["valid"] is True
        assert check(world, later_number, later_code)["valid"] is True

    def test_a_rewritten_chain_voids_the_code(self, world, linli):
        _, number, code = certificate(world)
        version = int(number.rsplit("-", 1)[1])
        account_id = ids.account_id(UUID(world.member_id),
                                    Asset.MINUTES.value)
        table = linli.app.recorder.events_table_name
        stored_id = str(account_id) if linli.settings.is_postgres else account_id.hex
        key = {"id": stored_id, "version": version}
        where = "originator_id = :id AND originator_version = :version"
        with linli.engine.begin() as conn:
            state = bytearray(conn.execute(text(f"SELECT state FROM {table} WHERE {where}"),
                                           key).scalar_one())
            state[40] ^= 0xFF  # inside the stored hash: someone re-hashed the history
            conn.execute(text(f"UPDATE {table} SET state = :state WHERE {where}"),
                         {**key, "state": bytes(state)})

        assert check(world, number, code)["valid"] is False

    def test_is_only_for_members_with_minutes_and_those_who_may_see_them(self, world, client):
        other = world.add_member("李四")
        missing = client.get(f"/v1/members/{other}/certificate", headers=world.staff)
        assert missing.status_code == 404

        elsewhere = Town.standard(client, "湖滨社区")
        refused = client.get(f"/v1/members/{world.member_id}/certificate",
                             headers=elsewhere.staff)
        assert refused.status_code == 404
