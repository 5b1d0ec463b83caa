"""`linli import` in its own process beside a serving Linli on the same database: a till
redeems from the residents the import awards, and neither overwrites the other's accounts. An
import interrupted half way, sent again, posts each row once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import func, select

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.imports.columns import Kind
from ledger.imports.run import POSTING, run_import
from ledger.imports.source import open_source
from projections.tables import registry_households, registry_members
from projections.verify import verify
from tests.scenario import Town, ok

LINLI = str(Path(sys.executable).parent / "linli")


def start(database_url: str, *args: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "LINLI_DATABASE_URL": database_url}
    environment.pop("POSTGRES_ENABLE_DB_FUNCTIONS", None)
    return subprocess.Popen([LINLI, "import", *args], env=environment, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_import_beside_a_server_that_redeems(world: Town, linli: Linli, database_url: str,
                                            tmp_path: Path) -> None:
    members = [world.member_id] + [world.add_member(f"居民{i}") for i in range(4)]
    old = datetime.now(UTC) - timedelta(days=400)
    lines = ["存折号,规则,数量,日期"]
    for row in range(1000):
        day = (old + timedelta(days=row % 200)).date().isoformat()
        lines.append(f"{world.passbooks[members[row % 5]]},GIFT,1,{day}")
    sheet = tmp_path / "积分.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="gb18030")
    args = (str(sheet), "--kind", "awards", "--community", world.community_id)

    checked = subprocess.run([LINLI, "import", *args, "--dry-run"], capture_output=True,
                             text=True, timeout=120, env={**os.environ,
                                                          "LINLI_DATABASE_URL": database_url})
    assert checked.returncode == 0, checked.stderr
    assert "预检：共 1000 行，可导入 1000 行" in checked.stdout

    importing = start(database_url, *args)
    redeemed = 0
    while importing.poll() is None:  # the till works on meanwhile, while points last
        response = world.redeem(1)
        assert response.status_code in (201, 409), response.text
        redeemed += response.status_code == 201
        time.sleep(0.01)  # a busy till: the same resident a hundred times a second
    out, err = importing.communicate(timeout=120)
    assert importing.returncode == 0, err
    assert redeemed > 10
    assert "导入完成：共 1000 行，已导入 1000 行" in out

    linli.projections.catch_up()  # type: ignore[union-attr]
    balance = ok(world.client.get(f"/v1/members/{world.member_id}/balance"))
    assert balance["points"] == 100 + 200 - redeemed
    assert verify(linli.app, linli.engine, None).ok


class Interrupted(Exception):
    pass


def test_an_interrupted_import_sent_again_posts_each_row_once(world: Town, linli: Linli,
                                                              tmp_path: Path) -> None:
    rows = "".join(f"{world.passbooks[world.member_id]},GIFT,1,2024-0{1 + i % 9}-1{i % 10}\n"
                   for i in range(1200))
    body = ("存折号,规则,数量,日期\n" + rows).encode()
    path = tmp_path / "a.csv"
    path.write_bytes(body)
    linli.read_your_writes()  # the residents the rows name

    def stop(phase: str, done: int, total: int | None) -> None:
        if phase == POSTING:  # noqa: SIM102
            raise Interrupted  # the first chunk is sent: the run stops there

    with pytest.raises(Interrupted):
        run_import(linli, open_source(path), Kind.AWARDS, UUID(world.community_id),
                   dry_run=False, by=Actor("test", Role.ADMIN), progress=stop)
    answer = ok(world.client.post(
        f"/v1/imports?kind=awards&community_id={world.community_id}", content=body,
        headers={"Content-Type": "text/csv"}), 201)
    assert (answer["rows"], answer["accepted"], answer["rejected"]) == (1200, 1200, 0)
    assert ok(world.client.get(f"/v1/members/{world.member_id}/balance"))["points"] == 1300


def test_households_across_chunks_and_runs_are_each_registered_once(
        world: Town, linli: Linli, other: Linli, tmp_path: Path) -> None:
    """A residents' file whose households straddle the chunks, interrupted after its first
    chunk and sent again by another process before the views hold the first chunk's
    households (nothing in its memory either): each household registered once, with all its
    residents."""
    lines = ["姓名,户"]
    for n in range(1300):  # households of three: one straddles each chunk's end
        lines.append(f"居民{n},和平路{n // 3}号")
    path = tmp_path / "居民.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    community = UUID(world.community_id)
    linli.read_your_writes()
    for running in (linli, other):
        running.projections.stop()

    def stop(phase: str, done: int, total: int | None) -> None:
        if phase == POSTING:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_import(linli, open_source(path), Kind.MEMBERS, community, dry_run=False,
                   by=Actor("test", Role.ADMIN), progress=stop)
    linli.writer.execute(lambda uow: None)  # after the first chunk's commit
    answer = run_import(other, open_source(path), Kind.MEMBERS, community, dry_run=False,
                        by=Actor("test", Role.ADMIN))
    assert (answer.rows, answer.accepted, answer.rejected) == (1300, 1300, 0)

    other.projections.start()
    assert other.projections.wait_for(other.writer.last_position, 60)
    m, h = registry_members.c, registry_households.c
    with other.engine.connect() as conn:
        residents = conn.execute(select(m.name, h.address).join(
            registry_households, h.household_id == m.household_id).where(
            m.community_id == world.community_id, m.name.like("居民%"))).all()
        addresses = conn.execute(select(h.address, func.count()).where(
            h.community_id == world.community_id, h.address.like("和平路%"))
            .group_by(h.address)).all()
    assert sorted(residents) == sorted((f"居民{n}", f"和平路{n // 3}号") for n in range(1300))
    assert {count for _address, count in addresses} == {1}
    assert len(addresses) == 434
