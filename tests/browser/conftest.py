"""Browser tests: Debian's chromium driven by playwright against the real app served by
uvicorn on a free port, once per backend. One browser for the whole session; a fresh context
(its own storage) per test.

Without /usr/bin/chromium the tests are skipped, except under CI=true, where that fails.
Set LINLI_SCREENSHOTS=1 to write the pages' screenshots into docs/screenshots/.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.bootstrap import open_linli
from ledger.settings import Settings
from tests.conftest import ADMIN_TOKEN, BACKENDS, _admin_connection, _database_url
from tests.serving import serving

CHROMIUM = Path(os.environ.get("LINLI_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"no chromium at {CHROMIUM} (scripts/setup --test installs it as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true and " + message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture(scope="session", params=BACKENDS)
def web_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web') / 'linli.db'}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"linli_web_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _database_url(name)
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def base_url(web_database: str) -> Iterator[str]:
    """`linli serve`'s app on a free port, over the backend's database."""
    settings = Settings(database_url=web_database, admin_token=ADMIN_TOKEN,
                        projection_worker="thread", projection_poll_seconds=0.05,
                        sweep_interval_seconds=0,
                        rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000)
    linli = open_linli(settings)
    with serving(linli, "uvicorn-web") as url:
        yield url
    linli.close()


def call(client: httpx.Client, method: str, path: str, status: int = 200,
         token: str | None = None, **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, (method, path, response.status_code, response.text)
    return response.json() if response.content else None


@dataclass
class Town:
    """A community with a rulebook, a household of two, a merchant, and a token per role."""

    http: httpx.Client
    community_id: str
    member_id: str
    passbook_no: str
    household_id: str
    merchant_id: str
    staff: str
    merchant: str
    member: str

    def award(self, member_id: str, rule_code: str = "GIFT", **amount: int) -> Any:
        return call(self.http, "POST", "/v1/awards", 201, token=self.staff,
                    json={"member_id": member_id, "rule_code": rule_code, **amount})

    def new_member(self, name: str, household_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"community_id": self.community_id, "name": name}
        if household_id:
            body["household_id"] = household_id
        created: dict[str, Any] = call(self.http, "POST", "/v1/members", 201,
                                       token=self.staff, json=body)
        return created

    def balance(self, member_id: str | None = None) -> Any:
        return call(self.http, "GET", f"/v1/members/{member_id or self.member_id}/balance",
                    token=self.staff)

    def token_for_member(self, member_id: str) -> str:
        return str(call(self.http, "POST", "/v1/api-keys", 201, token=self.staff,
                        json={"role": "member", "member_id": member_id})["token"])


@pytest.fixture
def town(base_url: str) -> Iterator[Town]:
    with httpx.Client(base_url=base_url, timeout=30.0,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
        cid = call(http, "POST", "/v1/communities", 201, json={"name": "116社区"})["id"]
        grid = call(http, "POST", f"/v1/communities/{cid}/grids", 201, json={"name": "第一网格"})
        for code, rule in {
            "VOLUNTEER": {"name": "志愿服务", "points": 10, "unit": "hour"},
            "GIFT": {"name": "垃圾分类", "points": 1, "unit": "each"},
            "MEDIATION": {"name": "纠纷调解", "points": 5, "unit": "each",
                          "requires_approval": True},
        }.items():
            call(http, "PUT", f"/v1/communities/{cid}/rules/{code}", json=rule)
        household = call(http, "POST", "/v1/households", 201, json={
            "community_id": cid, "grid_id": grid["id"], "address": "幸福里3栋2单元101"})
        member = call(http, "POST", "/v1/members", 201, json={
            "community_id": cid, "name": "王秀英", "household_id": household["id"],
            "grid_id": grid["id"]})
        merchant = call(http, "POST", "/v1/merchants", 201,
                        json={"community_id": cid, "name": "文明积分超市"})

        def token(**grant: str) -> str:
            return str(call(http, "POST", "/v1/api-keys", 201, json=grant)["token"])

        yield Town(http=http, community_id=cid, member_id=member["id"],
                   passbook_no=member["passbook_no"], household_id=household["id"],
                   merchant_id=merchant["id"], staff=token(role="staff", community_id=cid),
                   merchant=token(role="merchant", merchant_id=merchant["id"]),
                   member=token(role="member", member_id=member["id"]))


@pytest.fixture
def browse(browser: Any, base_url: str) -> Iterator[Any]:
    """`browse(token, path, width=)` → a page signed in with `token`, at `path`, ready."""
    contexts: list[Any] = []

    def open_page(token: str | None, path: str, width: int = 390, height: int = 844) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        if token is None:
            page.goto(base_url + path)
            return page
        # Signed in the way a printed QR code does it: the token in the link's fragment.
        page.goto(f"{base_url}/web/signin?next={quote(path)}#token={token}")
        page.wait_for_url(lambda url: "/web/signin" not in url)
        page.wait_for_selector("body[data-ready=true]")
        return page

    errors: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


def screenshot(page: Any, name: str, full_page: bool = False) -> None:
    """Keep a picture of the page in docs/screenshots/ when LINLI_SCREENSHOTS=1."""
    if os.environ.get("LINLI_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def until(page: Any, expression: str, timeout_seconds: float = TIMEOUT_MS / 1000) -> Any:
    """Poll `expression` in the page until it is truthy (the pages' CSP forbids the eval that
    playwright's wait_for_function needs)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        assert time.monotonic() < deadline, f"never true in the page: {expression}"
        time.sleep(0.05)
