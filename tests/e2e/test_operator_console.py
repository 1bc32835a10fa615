"""The operator console in Chromium at desktop size (1280×800), from an empty database with one
operator account: the operator adds sites, an ingredient and a dish with its recipe, a menu
cycle, a funding source and a subsidy policy version, a van, a staff account and a senior; the
staff member registers a second senior and binds a family member with the senior present; a real
`warmmeal worker` publishes the coming weeks' menus while the server runs (no restart, no
"publish now"), and the operator sees them on the published-menus page; the next day, once the
policy is in force, the senior logs in and books at the price it gives; the audit log lists every
step. Each main console page is screenshot and checked with axe-core."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from meals import migrate
from meals.accounts.service import hash_password
from tests.conftest import NOW, TEST_SECRET, TODAY, settings_for
from tests.e2e.navigation import follow
from tests.e2e.test_booking_pages import log_in
from tests.server import running_server

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
BLOCKING_IMPACTS = {"serious", "critical"}
OPERATOR = ("operator", "console-operator-1")
STAFF = ("staff-mp1", "counter-pass-1")
SENIOR = ("13900000001", "246810")
PHONE = {"width": 390, "height": 844}
PUBLISH_WITHIN_SECONDS = 60
CYCLE = "友谊路一周菜单"


@pytest.fixture(scope="module")
def empty_db(browser, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """An empty, migrated SQLite database with one operator account, and its folder."""
    folder = tmp_path_factory.mktemp("console-db")
    path = folder / "warmmeal.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    # Playwright's sync API holds this thread's event loop: migrate from another thread.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(migrate.upgrade, settings_for(url, folder)).result()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO accounts (login, display_name, role, password_hash, active, locale,"
            " security_stamp) VALUES (?, ?, 'admin', ?, 1, 'zh_CN', 0)",
            (OPERATOR[0], "运营主管", hash_password(OPERATOR[1])),
        )
    yield url, folder


def _worker_publishes(url: str, folder: Path, path: Path) -> None:
    """Run a real `warmmeal worker` beside the running server until it has published menus."""
    env = {
        **os.environ,
        "WARMMEAL_DATABASE_URL": url,
        "WARMMEAL_VAR_DIR": str(folder),
        "WARMMEAL_SECRET_KEY": TEST_SECRET,
        "WARMMEAL_FROZEN_NOW": NOW.isoformat(),
        "WARMMEAL_JOB_POLL_SECONDS": "0.5",
    }
    with (folder / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "meals.cli", "worker"], env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + PUBLISH_WITHIN_SECONDS
            while True:
                with sqlite3.connect(path) as connection:
                    done = connection.execute(
                        "SELECT count(*) FROM job_runs WHERE task = 'publish_menus'"
                        " AND finished_at IS NOT NULL"
                    ).fetchone()[0]
                if done:
                    return
                assert worker.poll() is None, (folder / "worker.log").read_text()
                assert time.monotonic() < deadline, (folder / "worker.log").read_text()[-3000:]
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=15)


def _log_in(page, login: str, password: str) -> None:
    log_in(page, login, password)  # staff and operators use the login-name form
    page.wait_for_load_state()


def _log_out(page) -> None:
    follow(page.get_by_role("button", name="退出登录"))


def _saved(page) -> None:
    flash = page.locator(".flash.ok")
    assert flash.count() >= 1, page.locator("main").inner_text()


def check(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, f"{name}: " + "\n".join(blocking)


def _site(page, code: str, name: str, kind: str, lunch: bool) -> None:
    page.goto("/console/sites/new")
    page.fill("#code", code)
    page.fill("#name", name)
    page.select_option("#kind", kind)
    page.fill("#address", f"{name}地址 1 号")
    page.fill("#latitude", "45.58")
    page.fill("#longitude", "84.88")
    lunch_box = page.locator("input[name=lunch]")
    if lunch_box.is_checked() != lunch:
        lunch_box.click()
    follow(page.get_by_role("button", name="新增该站点"))
    _saved(page)


def test_operator_sets_up_the_district_and_a_senior_books_at_the_policys_price(
    browser, empty_db, artifacts
):
    url, folder = empty_db
    with running_server(url, folder, now=NOW, secret=TEST_SECRET) as base:
        _set_up_the_district(browser, base, url, folder, artifacts)
    # The policy comes into force tomorrow (a booking is priced on the day it is made): the
    # senior books the next morning.
    with running_server(url, folder, now=NOW + timedelta(days=1), secret=TEST_SECRET) as base:
        _senior_books(browser, base, folder, artifacts)
        _audit_lists_every_step(browser, base, artifacts)


def _set_up_the_district(browser, base: str, url: str, folder: Path, artifacts: Path) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=base, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, *OPERATOR)

    _site(page, "CK", "中央厨房", "kitchen", lunch=False)
    _site(page, "MP1", "友谊路助餐点", "meal_point", lunch=True)
    page.goto("/console/sites")
    assert "友谊路助餐点" in page.locator("main").inner_text()
    check(page, artifacts, "console-sites-zh")

    page.goto("/console/dishes")
    page.fill("#i-code", "sea_bass")
    page.fill("#i-name", "鲈鱼")
    page.locator("form[action$='/ingredients'] input[value=fish]").check()
    follow(page.get_by_role("button", name="新增该原料"))
    _saved(page)
    page.fill("#d-name", "清蒸鲈鱼")
    page.fill("#d-name-en", "Steamed sea bass")
    page.select_option("#d-kind", "meat")
    for field, value in (
        ("#d-kcal", "210"),
        ("#d-protein", "24.5"),
        ("#d-fat", "8"),
        ("#d-carb", "3"),
        ("#d-sodium", "420"),
        ("#d-minutes", "20"),
    ):
        page.fill(field, value)
    page.select_option("#d-equipment", "steamer")
    page.locator("select[name=ingredient]").first.select_option("sea_bass")
    page.locator("input[name=grams]").first.fill("150")
    page.locator("input[name=variants][value=puree]").check()
    follow(page.get_by_role("button", name="新增该菜品"))
    _saved(page)
    assert "清蒸鲈鱼" in page.locator("table.figures").first.inner_text()
    check(page, artifacts, "console-dishes-zh")

    page.goto("/menus/cycles")
    page.get_by_label("名称").fill(CYCLE)
    page.get_by_label("周数").fill("1")
    page.get_by_label("第一天（星期一）").fill(str(TODAY))
    page.get_by_label("友谊路助餐点").check()
    follow(page.get_by_role("button", name="建立菜单周期"))
    follow(page.get_by_role("link", name="编辑第 1 周第 3 天 午餐"))  # Wednesdays
    page.get_by_label("名称 1", exact=True).fill("A套餐：清蒸鲈鱼")
    page.get_by_label("价格（元） 1", exact=True).fill("12.50")
    page.get_by_label("荤菜 1", exact=True).select_option(label="清蒸鲈鱼")
    follow(page.get_by_role("button", name="保存这一天"))
    assert "A套餐：清蒸鲈鱼" in page.locator("table").inner_text()

    page.goto("/console/subsidies")
    page.fill("#s-code", "civil_affairs")
    page.fill("#s-name", "区民政局助餐补贴")
    page.fill("#s-name-en", "District meal subsidy")
    follow(page.get_by_role("button", name="新增该资金来源"))
    _saved(page)
    page.fill("#v-name", "2026年助餐补贴")
    page.fill("#v-from", str(TODAY + timedelta(days=1)))
    page.locator("input[name=min_age]").first.fill("60")
    page.locator("input[name=amount]").first.fill("5.00")
    follow(page.get_by_role("button", name="保存新版本"))
    _saved(page)
    assert "¥5.00" in page.locator("main").inner_text()
    check(page, artifacts, "console-subsidies-zh")

    page.goto("/console/vans")
    page.fill("#code", "VAN-01")
    follow(page.get_by_role("button", name="新增该车辆"))
    _saved(page)
    check(page, artifacts, "console-vans-zh")

    page.goto("/console/accounts")
    page.fill("#a-login", STAFF[0])
    page.fill("#a-name", "王小芳")
    page.select_option("#a-role", "site_staff")
    page.fill("#a-password", STAFF[1])
    page.get_by_label("友谊路助餐点").check()
    follow(page.get_by_role("button", name="建立账号"))
    _saved(page)
    check(page, artifacts, "console-account-zh")

    _register(page, "赵桂兰", SENIOR[0], pin=SENIOR[1])
    check(page, artifacts, "console-senior-zh")
    _log_out(page)

    _log_in(page, *STAFF)
    _register(page, "钱玉珍", "13900000002")
    page.fill("#family_login", "13700000009")
    page.fill("#relation", "女儿")
    page.fill("#family_name", "钱丽")
    page.fill("#family_password", "family-pass-9")
    page.locator("form[action$='/bind'] input[name=senior_present]").check()
    follow(page.get_by_role("button", name="绑定家属"))
    _saved(page)
    assert "钱丽" in page.locator("#family ~ .scroll-x table").first.inner_text()
    _log_out(page)

    # Nothing is published yet; the worker publishes while the server runs on.
    _log_in(page, *OPERATOR)
    page.goto("/menus/published")
    assert "从今天起该站点还没有发布菜单" in page.locator("main").inner_text()
    _worker_publishes(url, folder, Path(url.removeprefix("sqlite+aiosqlite:///")))
    page.reload()
    listed = page.locator("table.figures").inner_text()
    wednesdays = [TODAY + timedelta(days=2 + 7 * week) for week in range(3)]
    for day in wednesdays:
        assert f"{day.month}月{day.day}日" in listed, listed
    check(page, artifacts, "console-published-menus-zh")
    follow(page.get_by_role("link", name=f"{wednesdays[0].month}月{wednesdays[0].day}日"))
    assert "A套餐：清蒸鲈鱼" in page.locator("main").inner_text()
    check(page, artifacts, "console-published-menu-zh")
    context.close()


def _senior_books(browser, base: str, folder: Path, artifacts: Path) -> None:
    """The senior books Wednesday's lunch on Tuesday: 12.50 less the policy's 5.00."""
    context = browser.new_context(viewport=PHONE, base_url=base, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, *SENIOR)
    page.wait_for_url("**/menu")
    page.screenshot(path=artifacts / "console-senior-menu-390.png", full_page=True)
    page.goto(f"/menu?day={TODAY + timedelta(days=2)}")  # Wednesday, the cycle's one day
    offer = page.locator("section.meal", has=page.get_by_role("heading", name="午餐")).locator(
        ".card"
    )
    assert offer.locator("h4 .pay").inner_text().strip().endswith("¥7.50")
    offer.get_by_role("button", name=re.compile("预订")).click()
    page.wait_for_url("**/bookings")
    assert "您需付 ¥7.50" in page.get_by_role("status").first.inner_text()
    page.screenshot(path=artifacts / "console-senior-booked-390.png", full_page=True)
    with sqlite3.connect(folder / "warmmeal.sqlite3") as connection:
        prices = connection.execute(
            "SELECT list_price_fen, subsidy_fen, price_fen FROM bookings"
        ).fetchall()
    assert prices == [(1250, 500, 750)]
    context.close()


def _audit_lists_every_step(browser, base: str, artifacts: Path) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=base, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, *OPERATOR)
    page.goto("/audit")
    log = page.locator("table.figures").inner_text()
    for step in (
        "中央厨房",
        "友谊路助餐点",
        "鲈鱼",
        "清蒸鲈鱼",
        CYCLE,
        "2026年助餐补贴",
        "VAN-01",
        "王小芳",
        "赵桂兰",
        "钱玉珍",
        "钱丽",
    ):
        assert step in log, step
    assert "王小芳" in page.locator("table.figures tbody tr").first.inner_text()  # newest first
    check(page, artifacts, "console-audit-zh")
    page.goto("/lang/en?next=/audit")
    assert "Audit log" in page.locator("h1").inner_text()
    check(page, artifacts, "console-audit-en")
    context.close()


def _register(page, name: str, phone: str, pin: str | None = None) -> None:
    page.goto("/console/seniors/new")
    if pin:
        page.fill("#pin", pin)
    page.fill("#name", name)
    page.fill("#birth_date", "1941-05-06")
    page.fill("#phone", phone)
    page.fill("#address", "友谊路 12 号")
    page.get_by_label("独居").check()
    page.get_by_label("低盐").check()
    follow(page.get_by_role("button", name="登记"))
    _saved(page)
