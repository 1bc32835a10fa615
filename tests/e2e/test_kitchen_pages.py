"""The kitchen's sheets and the driver's page for one van, side by side, and the 留样 page on a
small phone, in Chromium on a copy of the seeded demo district with today's lunch planned.

Writes docs/screenshots/one-van-side-by-side.png (packing list, labels, driver page: the same
label numbers) and docs/screenshots/kitchen-samples-360x740.png.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from meals.db import create_engine, create_sessionmaker
from meals.production import day as one_plan
from meals.production import margins, service
from meals.settings import Settings
from meals.words import Slot
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW, TEST_SECRET, TODAY
from tests.deliveries.conftest import quick
from tests.e2e.navigation import follow
from tests.e2e.test_booking_pages import log_in
from tests.production.conftest import book_lunches
from tests.server import running_server

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHEET_VIEW = {"width": 760, "height": 1200}
PHONE_VIEW = {"width": 390, "height": 1200}
SHOWN_HEIGHT = 2600
"""Each page is shot whole, then cut to this height: the van's first stops on all three."""
SMALL_PHONE = {"width": 360, "height": 740}
AFTER_COOKING = NOW.replace(hour=13)
GAP = 16


async def _plan(settings: Settings) -> tuple[int, str, list[int], str]:
    """Book and freeze today's lunch; the van with the most home labels, its labels, driver."""
    engine = create_engine(settings)
    try:
        sessions = create_sessionmaker(engine)
        await book_lunches(sessions)
        async with sessions() as session:
            run = (
                await one_plan.freeze_day(
                    session,
                    settings=settings,
                    service_date=TODAY,
                    slot=Slot.LUNCH,
                    actor=None,
                    now=NOW,
                )
            ).run
            boxes = await margins.run_boxes(session, settings, run)
        homes: dict[str, list[int]] = {}
        for label in service.plan_of(run).labels:
            homes.setdefault(label.van_id, []).extend(label.box_numbers)
        van = max(homes, key=lambda code: len(homes[code]))
        labels = sorted(row.label for row in boxes.rows if row.van == van and row.booking_ids)
        return run.id, van, labels, settings.database_url
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def kitchen_day(
    browser, sqlite_template: Path, tmp_path_factory
) -> tuple[Path, int, str, list[int], str]:
    folder = tmp_path_factory.mktemp("kitchen-db")
    path = folder / "warmmeal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    settings = quick(Settings(database_url=f"sqlite+aiosqlite:///{path}", secret_key=TEST_SECRET))
    with ThreadPoolExecutor(max_workers=1) as worker:
        run_id, van, labels, _url = worker.submit(asyncio.run, _plan(settings)).result()
    with sqlite3.connect(path) as connection:
        [(driver,)] = connection.execute(
            "SELECT DISTINCT a.login FROM route_runs r "
            "JOIN accounts a ON a.id = r.driver_account_id "
            "JOIN production_runs p ON p.route_plan_id = r.plan_id "
            "WHERE p.id = ? AND r.van_code = ?",
            (run_id, van),
        ).fetchall()
    return path, run_id, van, labels, driver


@pytest.fixture(scope="module")
def server(kitchen_day) -> Iterator[str]:
    path = kitchen_day[0]
    with running_server(
        f"sqlite+aiosqlite:///{path}", path.parent, now=NOW, secret=TEST_SECRET
    ) as url:
        yield url


def _shot(browser, base: str, viewport: dict, login: str, secret: str, url: str, path: Path) -> str:
    context = browser.new_context(viewport=viewport, base_url=base, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    log_in(tab, login, DEMO_PASSWORDS[secret])
    tab.wait_for_url(re.compile(r".*/(?!login).*"))
    tab.goto(url)
    text = tab.inner_text("body")
    tab.screenshot(path=path, full_page=True)
    context.close()
    return text


def test_packing_list_labels_and_driver_page_of_one_van_side_by_side(
    browser, server: str, kitchen_day, tmp_path: Path
) -> None:
    _path, run_id, van, labels, driver = kitchen_day
    assert labels, "the van carries home deliveries"
    shots = [tmp_path / f"{name}.png" for name in ("packing", "labels", "driver")]
    packing = _shot(
        browser,
        server,
        SHEET_VIEW,
        "kitchen",
        "kitchen",
        f"/kitchen/runs/{run_id}/packing?van={van}",
        shots[0],
    )
    label_page = _shot(
        browser,
        server,
        SHEET_VIEW,
        "kitchen",
        "kitchen",
        f"/kitchen/runs/{run_id}/labels?van={van}",
        shots[1],
    )
    driver_page = _shot(browser, server, PHONE_VIEW, driver, "driver", "/driver", shots[2])

    first = labels[0]
    assert re.search(rf"\b{first}\b", packing)
    assert f"箱 {first}" in label_page or f",{first}" in label_page
    assert re.search(rf"(标签号 |箱号：)[\d, ]*\b{first}\b", driver_page), driver_page
    assert "余" in packing and "出锅→食用" in label_page and "食品安全" in driver_page

    images = [Image.open(shot) for shot in shots]
    images = [image.crop((0, 0, image.width, min(image.height, SHOWN_HEIGHT))) for image in images]
    width = sum(image.width for image in images) + GAP * (len(images) - 1)
    combined = Image.new("RGB", (width, max(image.height for image in images)), "white")
    x = 0
    for image in images:
        combined.paste(image, (x, 0))
        x += image.width + GAP
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    combined.save(SCREENSHOTS / "one-van-side-by-side.png", optimize=True)


def test_the_samples_page_fits_a_small_phone(browser, kitchen_day) -> None:
    path = kitchen_day[0]
    # After lunch is cooked: a sample is taken from the cooked food, never before.
    with running_server(
        f"sqlite+aiosqlite:///{path}", path.parent, now=AFTER_COOKING, secret=TEST_SECRET
    ) as url:
        _record_a_sample(browser, url)


def _record_a_sample(browser, server: str) -> None:
    context = browser.new_context(viewport=SMALL_PHONE, base_url=server, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    log_in(tab, "kitchen", DEMO_PASSWORDS["kitchen"])
    tab.goto(f"/kitchen/samples?service_date={TODAY.isoformat()}&slot=lunch")
    assert tab.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    first = tab.locator("form.sample-card").first
    first.get_by_label("重量（克）").fill("130")
    first.get_by_label("冷藏温度 °C").fill("4")
    follow(first.get_by_role("button", name="登记留样"))
    assert "留样已登记" in tab.inner_text("body")
    tab.screenshot(path=SCREENSHOTS / "kitchen-samples-360x740.png")
    context.close()
