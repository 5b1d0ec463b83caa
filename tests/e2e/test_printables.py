"""Papers from the staff console: a member's passbook over a period, the 公示 sheet of the
公益达人榜, the quarterly review; print-ready HTML in Chinese, English on request."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from tests.scenario import Town, ok

MONTH = (datetime.now(UTC) + timedelta(hours=8)).strftime("%Y-%m")  # the month in Shanghai


def test_a_passbook_for_a_period(client):
    world = Town.standard(client)
    world.award(50)
    ok(world.redeem(20), 201)
    path = f"/v1/members/{world.member_id}/passbook/statement"

    page = client.get(path, params={"period": "all"}, headers=world.staff)
    assert page.headers["content-type"].startswith("text/html")
    for text in ("积分存折", "张三", world.passbook_no, "积分发放", "积分兑换", "期初余额：0",
                 "期末余额：30", "@page", "size: A4"):
        assert text in page.text, text
    english = client.get(path, headers={**world.member, "Accept-Language": "en"}).text
    assert "closing balance：30" in english and "redemption" in english

    book = load_workbook(io.BytesIO(client.get(path, params={"format": "xlsx"},
                                               headers=world.staff).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "类别", "数额", "余额")
    assert rows[-1][1:4] == ("期末余额", None, 30)
    refused = client.get(path, params={"period": "2026-13"}, headers=world.staff)
    assert refused.status_code == 422 and "期间" in refused.json()["detail"]


def test_the_board_notice_masks_names_and_leaves_off_who_opted_out(client):
    world = Town.standard(client)
    shy = world.add_member("李小龙")
    world.award(5)
    world.award(9, shy)
    ok(client.post(f"/v1/members/{shy}/opt-out", headers=world.staff))
    path = f"/v1/communities/{world.community_id}/boards/{MONTH}"

    page = client.get(path, headers=world.staff).text
    assert "公益达人榜公示" in page and "张*" in page
    assert "李*龙" not in page and "李小龙" not in page and "张三" not in page

    review = client.get(f"/v1/communities/{world.community_id}/reviews/"
                        f"{MONTH[:4]}-Q{(int(MONTH[5:]) + 2) // 3}/print", headers=world.staff)
    assert review.status_code == 200 and "季度积分评议" in review.text
    assert "李小龙" in review.text and "居民排行" in review.text
