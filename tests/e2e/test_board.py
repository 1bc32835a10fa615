"""The supervision board in Chromium at 1920×1080 and 1280×800: a check-in at a counter shows
on the board without a reload. Screenshots go to docs/screenshots/ and tests/_artifacts/."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from meals.db import create_engine, create_sessionmaker, session_scope
from seed.data import DEMO_PASSWORDS
from seed.demo import booking_rows, write_bookings
from seed.history import _senior_rows
from tests.conftest import NOW, SHANGHAI, TEST_SECRET, TODAY, settings_for
from tests.e2e.navigation import follow
from tests.server import running_server

pytestmark = pytest.mark.browser

LUNCH = datetime(TODAY.year, TODAY.month, TODAY.day, 11, 45, tzinfo=SHANGHAI)
DESKTOP = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def _book_today(url: str, folder: Path) -> None:
    """Today's lunch bookings for the district, as seniors would have made them by cutoff."""
    import random

    engine = create_engine(settings_for(url, folder))
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            seniors = await _senior_rows(session)
            rows = await booking_rows(
                session, random.Random(3), seniors, start=TODAY, days=1, now=NOW
            )
            await write_bookings(session, rows)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def lunch_db(browser, sqlite_template: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("board-db")
    path = folder / "warmmeal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    # Playwright's sync API holds this thread's event loop: seed from another thread.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, _book_today(f"sqlite+aiosqlite:///{path}", folder)).result()
    return path


@pytest.fixture(scope="module")
def lunch_url(lunch_db: Path) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "WARMMEAL_BOARD_REFRESH_SECONDS", "1")
        with running_server(
            f"sqlite+aiosqlite:///{lunch_db}", lunch_db.parent, now=LUNCH, secret=TEST_SECRET
        ) as url:
            yield url


def _log_in(page, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/login?by=name")
    page.get_by_label(re.compile("^账号$")).fill(login)
    page.get_by_label(re.compile("^密码$")).fill(password)
    follow(page.get_by_role("button", name=re.compile("^登录$")))


def _a_dine_in_booking(db_path: Path) -> tuple[int, str, str]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(
            "SELECT b.site_id, s.code, se.card_number FROM bookings b "
            "JOIN sites s ON s.id = b.site_id JOIN seniors se ON se.id = b.senior_id "
            "WHERE b.fulfilment = 'dine_in' AND s.kind = 'canteen' AND b.status = 'booked' "
            "ORDER BY b.id LIMIT 1"
        ).fetchone()


def _check_in(browser, base: str, site_id: int, site_code: str, card: str) -> None:
    counter_context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    counter = counter_context.new_page()
    _log_in(counter, base, f"staff-{site_code}", DEMO_PASSWORDS["staff"])
    counter.goto(f"{base}/staff/checkin?site={site_id}")
    counter.get_by_label("助餐卡号，或扫描助餐卡").fill(card)
    follow(counter.get_by_role("button", name="核销", exact=True))
    assert "核销成功" in counter.get_by_role("status").first.inner_text()
    counter_context.close()


def _shows_one_more_served(board, browser, base: str, db_path: Path) -> None:
    """Check a meal in at its counter; the board counts it without reloading."""
    site_id, site_code, card = _a_dine_in_booking(db_path)
    served = board.locator(f'tr[data-site="{site_id}"] [data-figure="served"]')
    total = board.locator('[data-total="served"]')
    before, total_before = int(served.inner_text()), int(total.inner_text())

    _check_in(browser, base, site_id, site_code, card)

    board.wait_for_function(
        "([selector, expected]) => document.querySelector(selector).textContent === expected",
        arg=[f'tr[data-site="{site_id}"] [data-figure="served"]', str(before + 1)],
    )
    assert int(total.inner_text()) == total_before + 1
    assert board.evaluate("window.notReloaded") is True
    mark = board.locator(f'g[data-site="{site_id}"] [data-figure="done"]')
    assert int(mark.text_content()) >= before + 1


def test_the_board_shows_a_check_in_without_a_reload(browser, lunch_url, lunch_db, artifacts):
    viewer = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    board = viewer.new_page()
    board.set_default_timeout(10_000)
    _log_in(board, lunch_url, "civil", DEMO_PASSWORDS["viewer"])
    board.goto(f"{lunch_url}/board")
    board.evaluate("window.notReloaded = true")
    DOCS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=artifacts / "board-1920x1080.png")
    shutil.copyfile(artifacts / "board-1920x1080.png", DOCS / "board-1920x1080.png")

    _shows_one_more_served(board, browser, lunch_url, lunch_db)

    # and at 1280×800, the same page still live: the next check-in shows too
    board.set_viewport_size(LAPTOP)
    _shows_one_more_served(board, browser, lunch_url, lunch_db)
    board.screenshot(path=artifacts / "board-1280x800.png")
    shutil.copyfile(artifacts / "board-1280x800.png", DOCS / "board-1280x800.png")
    overflow = board.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the board is {overflow}px wider than the screen"

    # on a phone the tables scroll in their own box; the page stays as wide as the screen
    board.set_viewport_size(PHONE)
    board.reload()
    overflow = board.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the board is {overflow}px wider than a phone"
    viewer.close()
