"""Papers printed from the browser to PDF: the 志愿服务记录证明 (its text, one A4 page, a QR
code that reads as its public verification address) and a 积分存折 (40 lines a page)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import call
from tests.scenario import Town

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs poppler-utils and zbar-tools (scripts/setup --test installs them as root)")


def printed(browser: Any, base_url: str, token: str, path: str, folder: Path) -> Path:
    """The paper at `path`, fetched with `token` and printed to PDF as a browser prints it."""
    context = browser.new_context(locale="zh-CN", extra_http_headers={
        "Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"})
    try:
        page = context.new_page()
        response = page.goto(base_url + path)
        assert response is not None and response.status == 200, path
        pdf = folder / "paper.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    finally:
        context.close()
    return pdf


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def pages_of(text: str) -> int:
    return text.rstrip("\f").count("\f") + 1


def test_the_certificate_prints_on_one_page_and_its_qr_code_reads_as_its_address(
        town: Town, browser: Any, base_url: str, tmp_path: Path) -> None:
    staff = town.tokens["staff"]
    for minutes, service in [(120, "助老陪护"), (45, "社区巡逻")] + [(30, "楼道清扫")] * 38:
        call(town.client, "POST", "/v1/timebank/deposits", 201, token=staff, json={
            "volunteer_id": town.member_id, "minutes": minutes, "service_type": service})

    pdf = printed(browser, base_url, staff, f"/v1/members/{town.member_id}/certificate",
                  tmp_path)
    text = text_of(pdf)
    for words in ("志愿服务记录证明", "王秀英", "个人基本信息", "志愿服务信息", "培训信息",
                  "表彰奖励信息", "服务评价信息", "助老陪护", "社区巡逻", "21小时45分钟",
                  "116社区"):
        assert words in text, words
    assert pages_of(text) == 1  # forty lines

    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    read = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")],
                          check=True, capture_output=True, text=True).stdout.strip()
    assert read.startswith(f"{base_url}/v1/certificates/verify?code=")
    answer = call(town.client, "GET", read.removeprefix(base_url), headers={
        "Authorization": ""})
    assert answer["valid"] is True and answer["minutes"] == 1305 and answer["name"] == "王*英"


def test_a_passbook_prints_forty_lines_a_page(town: Town, browser: Any, base_url: str,
                                              tmp_path: Path) -> None:
    for _ in range(45):
        town.award(1, code="GIFT")
    path = f"/v1/members/{town.member_id}/passbook/statement?period=all"
    text = text_of(printed(browser, base_url, town.tokens["staff"], path, tmp_path))
    for words in ("积分存折", "王秀英", town.passbook_no, "积分发放", "期初余额", "期末余额：45"):
        assert words in text, words
    assert pages_of(text) == 2
