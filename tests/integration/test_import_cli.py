"""`linli import` in its own process beside a serving Linli on the same database: a till
redeems from the residents the import awards, and neither overwrites the other's accounts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.bootstrap import Linli
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
    for row in range(3000):
        day = (old + timedelta(days=row % 200)).date().isoformat()
        lines.append(f"{world.passbooks[members[row % 5]]},GIFT,1,{day}")
    sheet = tmp_path / "积分.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="gb18030")
    args = (str(sheet), "--kind", "awards", "--community", world.community_id)

    checked = subprocess.run([LINLI, "import", *args, "--dry-run"], capture_output=True,
                             text=True, timeout=120, env={**os.environ,
                                                          "LINLI_DATABASE_URL": database_url})
    assert checked.returncode == 0, checked.stderr
    assert "预检：共 3000 行，可导入 3000 行" in checked.stdout

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
    assert "导入完成：共 3000 行，已导入 3000 行" in out

    again = subprocess.run([LINLI, "import", *args], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "LINLI_DATABASE_URL": database_url})
    assert "以前已导入" in again.stdout, again.stderr
    linli.projections.catch_up()  # type: ignore[union-attr]
    balance = ok(world.client.get(f"/v1/members/{world.member_id}/balance"))
    assert balance["points"] == 100 + 600 - redeemed
    assert verify(linli.app, linli.engine, None).ok
