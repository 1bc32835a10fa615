"""The delivery day in a real Chromium against the real server and a real webhook receiver.

A driver works through their run on a phone; one home stop fails with "no answer" for a senior
who lives alone, and the alert reaches the site staff's page and the webhook receiver; an
action taken while the phone is offline is queued in the page and reaches the server once.
Screenshots of the dispatcher summary, the driver page and the PDF route sheet go to
docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from meals.db import create_engine, create_sessionmaker
from meals.production import day as one_plan
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.words import Slot
from seed.data import DEMO_PASSWORDS
from seed.demo import seed_bookings
from tests.conftest import NOW, TEST_SECRET, TODAY
from tests.deliveries.conftest import quick
from tests.deliveries.receiver import Receiver, webhook_receiver
from tests.e2e.conftest import PHONE
from tests.e2e.test_booking_pages import check_page, log_in
from tests.production.conftest import BOOKING_SEED, SENIOR_COLUMNS
from tests.server import free_port, running_process

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
QUEUE_SETTLED_MS = 15_000
SHEET_DPI = "70"
RECEIVER_POLLS = 50
RECEIVER_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Route:
    driver_login: str
    run_id: int
    stop_ids: list[int]
    lonely_stop_id: int
    lonely_name: str
    staff_login: str


def _query(db_path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(sql, args).fetchall()


async def _book_and_plan(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            seniors = (await session.scalars(select(Senior).order_by(Senior.id))).all()
            rows = [{c: getattr(s, c) for c in SENIOR_COLUMNS} for s in seniors]
            await seed_bookings(
                session, random.Random(BOOKING_SEED), rows, start=TODAY, days=1, now=NOW
            )
            await session.commit()
        async with create_sessionmaker(engine)() as session:
            plan = await one_plan.plan_routes(
                session, settings=settings, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
            )
            return plan.id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def delivery_db(browser, sqlite_template: Path, tmp_path_factory) -> tuple[Path, Route]:
    """Today's lunches booked and routed; a home stop's senior set to live alone."""
    folder = tmp_path_factory.mktemp("delivery-db")
    path = folder / "warmmeal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    settings = quick(Settings(database_url=f"sqlite+aiosqlite:///{path}", secret_key=TEST_SECRET))
    with ThreadPoolExecutor(max_workers=1) as worker:
        # Playwright's sync API holds this thread's event loop; the database work gets its own.
        plan_id = worker.submit(asyncio.run, _book_and_plan(settings)).result()
    [(run_id, login, home_stop, senior_id, name, site_id)] = _query(
        path,
        "SELECT r.id, a.login, s.id, se.id, se.name, se.home_site_id FROM route_runs r "
        "JOIN accounts a ON a.id = r.driver_account_id JOIN route_stops s ON s.run_id = r.id "
        "JOIN seniors se ON se.id = s.senior_id WHERE r.plan_id = ? AND s.kind = 'home' "
        "ORDER BY (SELECT count(*) FROM route_stops x WHERE x.run_id = r.id) DESC, s.sequence "
        "LIMIT 1",
        plan_id,
    )
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE seniors SET categories = '[\"lives_alone\"]' WHERE id = ?", (senior_id,)
        )
    stop_ids = [
        row[0]
        for row in _query(
            path, "SELECT id FROM route_stops WHERE run_id = ? ORDER BY sequence", run_id
        )
    ]
    [(staff_login,)] = _query(
        path,
        "SELECT a.login FROM accounts a JOIN staff_sites ss ON ss.account_id = a.id "
        "WHERE ss.site_id = ? LIMIT 1",
        site_id,
    )
    return path, Route(login, run_id, stop_ids, home_stop, name, staff_login)


@pytest.fixture(scope="module")
def server(delivery_db, receiver: Receiver) -> Iterator[str]:
    path, _route = delivery_db
    port = free_port()
    env = {
        **os.environ,
        "WARMMEAL_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
        "WARMMEAL_VAR_DIR": str(path.parent),
        "WARMMEAL_SECRET_KEY": TEST_SECRET,
        "WARMMEAL_FROZEN_NOW": NOW.isoformat(),
        "WARMMEAL_WELFARE_WEBHOOK_URL": receiver.url,
        "WARMMEAL_DELIVERY_SOLVER_SECONDS": "1",
    }
    args = [sys.executable, "-m", "meals.cli", "serve", "--port", str(port)]
    with running_process(args, env, path.parent / "server.log", port) as base:
        yield base


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def _actions(db_path: Path, stop_id: int) -> list[tuple]:
    return _query(
        db_path, "SELECT action, failure_reason FROM delivery_actions WHERE stop_id = ?", stop_id
    )


def _settled(page) -> None:
    """Wait until the page's offline queue is empty."""
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('warmmeal.delivery-queue') || '[]').length === 0",
        timeout=QUEUE_SETTLED_MS,
    )


def test_driver_works_through_a_run_with_a_welfare_alert_and_an_offline_action(
    browser, server: str, delivery_db, receiver: Receiver, artifacts: Path, screenshots: Path
) -> None:
    db_path, route = delivery_db
    assert len(route.stop_ids) >= 3, "the busiest run has several stops"
    context = browser.new_context(viewport=PHONE, base_url=server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, route.driver_login, DEMO_PASSWORDS["driver"])
    page.goto("/driver")
    assert page.locator(".stop").count() == len(route.stop_ids)
    page.screenshot(path=screenshots / "driver-run.png", full_page=False)
    check_page(page, artifacts, "driver-run")

    others = [s for s in route.stop_ids if s != route.lonely_stop_id]
    first, offline_stop = others[0], others[-1]
    card = page.locator(f"#stop-{first}")
    card.get_by_role("button", name="已到达").click()
    card.get_by_role("button", name="已送达").click()
    _settled(page)
    assert card.get_attribute("data-status") == "delivered"

    lonely = page.locator(f"#stop-{route.lonely_stop_id}")
    lonely.get_by_role("button", name="已到达").click()
    lonely.get_by_label("如未送达，原因是？").select_option("no_answer")
    lonely.get_by_role("button", name="未送达").click()
    _settled(page)
    assert lonely.get_attribute("data-status") == "failed"
    assert _actions(db_path, route.lonely_stop_id)[-1] == ("failed", "no_answer")

    context.set_offline(True)
    page.locator(f"#stop-{offline_stop}").get_by_role("button", name="已送达").click()
    banner = page.locator("#queue-banner")
    banner.wait_for(state="visible")
    assert "等待网络" in banner.inner_text()
    assert _actions(db_path, offline_stop) == [], "nothing reaches the server while offline"
    page.screenshot(path=artifacts / "driver-offline.png")
    context.set_offline(False)
    _settled(page)
    banner.wait_for(state="hidden")
    page.reload()
    _settled(page)
    assert _actions(db_path, offline_stop) == [("delivered", None)], "delivered exactly once"
    assert page.locator(f"#stop-{offline_stop}").get_attribute("data-status") == "delivered"
    context.close()

    for _ in range(RECEIVER_POLLS):
        if receiver.events("raised"):
            break
        time.sleep(RECEIVER_POLL_SECONDS)
    [raised] = receiver.events("raised")
    assert raised["senior"]["name"] == route.lonely_name
    assert raised["failure_reason"] == "no_answer"

    staff = browser.new_context(viewport=PHONE, base_url=server, locale="zh-CN")
    staff_page = staff.new_page()
    staff_page.set_default_timeout(10_000)
    log_in(staff_page, route.staff_login, DEMO_PASSWORDS["staff"])
    staff_page.goto("/alerts")
    alert_card = staff_page.locator(f"#alert-{raised['alert_id']}")
    assert route.lonely_name in alert_card.inner_text()
    assert "无人应答" in alert_card.inner_text()
    check_page(staff_page, artifacts, "welfare-alerts")
    staff_page.screenshot(path=screenshots / "welfare-alerts.png")
    staff.close()


def test_dispatcher_summary_and_route_sheet_pdf(
    browser, server: str, delivery_db, screenshots: Path, tmp_path: Path
) -> None:
    _db_path, route = delivery_db
    context = browser.new_context(viewport=DESKTOP, base_url=server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "admin", DEMO_PASSWORDS["admin"])
    page.goto(f"/dispatch?service_date={TODAY.isoformat()}&slot=lunch")
    figures = page.locator(".figures").inner_text()
    assert "用车数" in figures and "km" in figures
    assert re.search(r"\d+/120 分钟", figures), figures
    page.screenshot(path=screenshots / "dispatch-summary.png", full_page=True)

    pdf = page.request.get(f"/dispatch/runs/{route.run_id}/sheet?format=pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    sheet = tmp_path / "route-sheet.pdf"
    sheet.write_bytes(pdf.body())
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            SHEET_DPI,
            "-singlefile",
            str(sheet),
            str(screenshots / "route-sheet"),
        ],
        check=True,
    )
    assert (screenshots / "route-sheet.png").stat().st_size > 0
    context.close()


def test_a_plan_shows_its_progress_and_the_page_updates_by_itself(
    browser, server: str, delivery_db, screenshots: Path
) -> None:
    """At phone size: the dispatcher plans a day, the page answers at once with a progress
    bar and refreshes itself until the plan is there; nothing to click meanwhile. (Today's
    deliveries have started in the tests above, so the day after is planned.)"""
    context = browser.new_context(viewport=PHONE, base_url=server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, "admin", DEMO_PASSWORDS["admin"])
    day = TODAY + timedelta(days=1)
    page.goto(f"/dispatch?service_date={day.isoformat()}&slot=lunch")
    assert "计划 " not in page.content()

    page.get_by_role("button", name="生成配送路线").click()
    progress = page.locator("section.planning")
    progress.wait_for(state="visible")
    assert "正在规划路线" in progress.inner_text()
    page.screenshot(path=screenshots / "dispatch-planning.png")

    progress.wait_for(state="detached")
    page.wait_for_load_state()
    assert re.search(r"计划 \d+，依据", page.content()), "the refreshed page shows the plan"
    check_page(page, screenshots, "dispatch-planned")
    context.close()
