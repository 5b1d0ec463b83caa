"""Browser tests: Debian's chromium driven by playwright against the real app served by
uvicorn on a port of its own, once per backend. One browser for the whole session; a fresh context
(its own storage) per test.

Without /usr/bin/chromium the tests are skipped, except under CI=true, where that fails.
Set LINLI_SCREENSHOTS=1 to write the pages' screenshots into docs/screenshots/.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.bootstrap import open_linli
from harness.serving import serving
from ledger.settings import Settings
from tests.conftest import ADMIN_TOKEN, BACKENDS, backend_database
from tests.scenario import Rule, Town

CHROMIUM = Path(os.environ.get("LINLI_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 10_000
SERVED: dict[str, Any] = {}  # each served base URL's Linli, so a test can move its clock


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
    with backend_database(request.param, tmp_path_factory.mktemp("web"), "linli_web_",
                          request) as url:
        yield url


def served(database_url: str, name: str, **overrides: Any) -> Iterator[str]:
    """`linli serve`'s app on a port of its own over `database_url`, with settings `overrides` (as
    the LINLI_* variables would set them)."""
    settings = Settings(**{
        "database_url": database_url, "admin_token": ADMIN_TOKEN,
        "projection_worker": "thread", "projection_poll_seconds": 0.05,
        "sweep_interval_seconds": 0,
        "rate_limit_per_second": 1_000_000, "rate_limit_burst": 1_000_000, **overrides})
    linli = open_linli(settings)
    with serving(linli, name) as url:
        SERVED[url] = linli
        yield url
        del SERVED[url]
    linli.close()


@pytest.fixture(scope="session")
def base_url(web_database: str) -> Iterator[str]:
    """`linli serve`'s app on a port of its own, over the backend's database."""
    yield from served(web_database, "uvicorn-web")


def call(client: httpx.Client, method: str, path: str, status: int = 200,
         token: str | None = None, **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, (method, path, response.status_code, response.text)
    return response.json() if response.content else None


@pytest.fixture
def town(base_url: str) -> Iterator[Town]:
    """A community with a rulebook of three, a grid, a household with 王秀英 in it, a merchant,
    and a key for staff, merchant and member."""
    with httpx.Client(base_url=base_url, timeout=30.0,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
        town = Town.found(http, "116社区", rules={
            "VOLUNTEER": Rule("志愿服务", 10, "hour"),
            "GIFT": Rule("垃圾分类", 1),
            "MEDIATION": Rule("纠纷调解", 5, requires_approval=True),
        })
        grid = town.add_grid("第一网格")
        household = town.add_household("幸福里3栋2单元101", grid)
        yield town.cast("王秀英", household_id=household, grid_id=grid,
                        roles=("staff", "merchant", "member"))


def pages(browser: Any, base_url: str) -> Iterator[Any]:
    """`browse(token, path, width=, init_script=, clock=)` → a page of the server at `base_url`,
    signed in with `token`, at `path`, ready; `init_script` runs in every document before its
    own; with `clock` the page's timers run on playwright's clock (`page.clock.run_for`)."""
    contexts: list[Any] = []

    def open_page(token: str | None, path: str, width: int = 390, height: int = 844,
                  init_script: str | None = None, clock: bool = False) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if init_script is not None:
            context.add_init_script(init_script)
        if clock:
            context.clock.install()
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


@pytest.fixture
def later(base_url: str) -> Iterator[Callable[[timedelta], None]]:
    """`later(delta)`: the session's server reads its clock `delta` ahead from then on, until
    the test ends."""
    linli = SERVED[base_url]
    real = linli.clock

    def move(delta: timedelta) -> None:
        linli.clock = lambda: real() + delta

    yield move
    linli.clock = real


@pytest.fixture
def browse(browser: Any, base_url: str) -> Iterator[Any]:
    """Pages of the session's server (see `pages`)."""
    yield from pages(browser, base_url)


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
