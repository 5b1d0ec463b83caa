"""The staff console's import (表格导入): a sheet checked, its problems shown as a table by row
and column, then a good sheet checked and imported, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import call
from tests.browser.test_accessibility import UNLABELLED
from tests.scenario import Town


def test_check_then_import_a_sheet(town: Town, browse: Any, tmp_path: Path) -> None:
    passbook = town.passbooks[town.member_id]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"存折号,规则,数量\n{passbook},GIFT,1.5\n{passbook},没有的规则,1\n",
                   encoding="utf-8-sig")
    good = tmp_path / "good.csv"
    good.write_text(f"存折号,规则,数量,日期\n{passbook},GIFT,3,2025-01-05\n", encoding="gb18030")
    before = town.balance()["points"]

    staff = browse(town.tokens["staff"], "/web/staff?tab=register", width=1024, height=900)
    staff.locator("#import-section").scroll_into_view_if_needed()
    assert staff.evaluate(UNLABELLED) == []
    staff.select_option("#import-kind", "awards")
    staff.set_input_files("#import-file", str(bad))
    staff.click("#import-check")
    staff.wait_for_selector("#import-problems:not([hidden])")
    rows = staff.locator("#import-problems-body tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in rows] == [["2", "数量"], ["3", "规则"]]
    assert staff.locator("#import-commit").is_hidden()

    staff.set_input_files("#import-file", str(good))
    staff.click("#import-check")
    staff.wait_for_selector("#import-result:has-text('可导入 1 行')")
    staff.click("#import-commit")
    staff.wait_for_selector("#import-result:has-text('导入完成')")
    assert town.balance()["points"] == before + 3
    line = call(town.client, "GET", f"/v1/members/{town.member_id}/passbook")["items"][0]
    assert line["amount"] == 3
