"""The operator console in Chromium at desktop size (1280×800), from an empty database with one
operator account: the operator adds sites, an ingredient and a dish with its recipe, a funding
source and a subsidy policy version, a van, a staff account and a senior; the staff member
registers a second senior and binds a family member with the senior present; the audit log
lists every step. Each main console page is screenshot and checked with axe-core."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from meals import migrate
from meals.accounts.service import hash_password
from tests.conftest import NOW, TEST_SECRET, TODAY, settings_for
from tests.e2e.test_booking_pages import log_in
from tests.server import running_server

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
BLOCKING_IMPACTS = {"serious", "critical"}
OPERATOR = ("operator", "console-operator-1")
STAFF = ("staff-mp1", "counter-pass-1")


@pytest.fixture(scope="module")
def empty_url(browser, tmp_path_factory) -> Iterator[str]:
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
    with running_server(url, folder, now=NOW, secret=TEST_SECRET) as base:
        yield base


def _log_in(page, login: str, password: str) -> None:
    log_in(page, login, password)  # staff and operators use the login-name form
    page.wait_for_load_state()


def _log_out(page) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()


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
    page.get_by_role("button", name="新增该站点").click()
    _saved(page)


def test_operator_sets_up_the_district_and_staff_register_and_bind(browser, empty_url, artifacts):
    context = browser.new_context(viewport=DESKTOP, base_url=empty_url, locale="zh-CN")
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
    page.get_by_role("button", name="新增该原料").click()
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
    page.get_by_role("button", name="新增该菜品").click()
    _saved(page)
    assert "清蒸鲈鱼" in page.locator("table.figures").first.inner_text()
    check(page, artifacts, "console-dishes-zh")

    page.goto("/console/subsidies")
    page.fill("#s-code", "civil_affairs")
    page.fill("#s-name", "区民政局助餐补贴")
    page.fill("#s-name-en", "District meal subsidy")
    page.get_by_role("button", name="新增该资金来源").click()
    _saved(page)
    page.fill("#v-name", "2026年助餐补贴")
    page.fill("#v-from", str(TODAY + timedelta(days=1)))
    page.locator("input[name=min_age]").first.fill("60")
    page.locator("input[name=amount]").first.fill("5.00")
    page.get_by_role("button", name="保存新版本").click()
    _saved(page)
    assert "¥5.00" in page.locator("main").inner_text()
    check(page, artifacts, "console-subsidies-zh")

    page.goto("/console/vans")
    page.fill("#code", "VAN-01")
    page.get_by_role("button", name="新增该车辆").click()
    _saved(page)
    check(page, artifacts, "console-vans-zh")

    page.goto("/console/accounts")
    page.fill("#a-login", STAFF[0])
    page.fill("#a-name", "王小芳")
    page.select_option("#a-role", "site_staff")
    page.fill("#a-password", STAFF[1])
    page.get_by_label("友谊路助餐点").check()
    page.get_by_role("button", name="建立账号").click()
    _saved(page)
    check(page, artifacts, "console-account-zh")

    _register(page, "赵桂兰", "13900000001")
    check(page, artifacts, "console-senior-zh")
    _log_out(page)

    _log_in(page, *STAFF)
    _register(page, "钱玉珍", "13900000002")
    page.fill("#family_login", "13700000009")
    page.fill("#relation", "女儿")
    page.fill("#family_name", "钱丽")
    page.fill("#family_password", "family-pass-9")
    page.locator("form[action$='/bind'] input[name=senior_present]").check()
    page.get_by_role("button", name="绑定家属").click()
    _saved(page)
    assert "钱丽" in page.locator("#family ~ .scroll-x table").first.inner_text()
    _log_out(page)

    _log_in(page, *OPERATOR)
    page.goto("/audit")
    log = page.locator("table.figures").inner_text()
    for step in (
        "中央厨房",
        "友谊路助餐点",
        "鲈鱼",
        "清蒸鲈鱼",
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


def _register(page, name: str, phone: str) -> None:
    page.goto("/console/seniors/new")
    page.fill("#name", name)
    page.fill("#birth_date", "1941-05-06")
    page.fill("#phone", phone)
    page.fill("#address", "友谊路 12 号")
    page.get_by_label("独居").check()
    page.get_by_label("低盐").check()
    page.get_by_role("button", name="登记").click()
    _saved(page)
