"""Browser fixtures: one real `warmmeal serve` per test module on a copy of the seeded SQLite
database, and Debian's Chromium driven by Playwright.

Without a browser these tests skip with the reason; with WARMMEAL_REQUIRE_BROWSER=1 (set by CI)
a missing browser fails them instead, so CI can never skip them silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import NOW, TEST_SECRET
from tests.server import running_server

REQUIRE_ENV = "WARMMEAL_REQUIRE_BROWSER"
CHROMIUM_ENV = "WARMMEAL_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parent.parent / "_artifacts" / "screens"


def _no_browser(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not Path(executable).exists():
        _no_browser(f"no Chromium at {executable} (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed (pip install -e '.[dev]')")
    driver = sync_playwright().start()
    try:
        launched = driver.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
    except Error as exc:
        driver.stop()
        _no_browser(f"Chromium did not start: {exc.message.splitlines()[0]}")
    yield launched
    launched.close()
    driver.stop()


@pytest.fixture(scope="module")
def server_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser-db")
    path = folder / "warmmeal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture(scope="module")
def base_url(browser: object, server_db: Path) -> Iterator[str]:
    with running_server(
        f"sqlite+aiosqlite:///{server_db}", server_db.parent, now=NOW, secret=TEST_SECRET
    ) as url:
        yield url


@pytest.fixture
def page(browser, base_url: str):
    """A fresh phone-sized browser tab with no cookies, in Chinese by default."""
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
