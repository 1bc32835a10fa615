"""The operator's menu-cycle pages in Chromium at 1280 px: create a cycle for a site, fill a day
with the form, publish; each page screenshot and checked with axe-core (no serious or critical
violations)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from seed.data import DEMO_PASSWORDS
from tests.e2e.navigation import follow
from tests.e2e.test_booking_pages import log_in

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}


def _axe(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    violations = [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not violations, f"{name}: " + "\n".join(violations)


def test_operator_makes_a_cycle_fills_a_day_and_publishes(browser, base_url, server_db, artifacts):
    with sqlite3.connect(server_db) as connection:
        site_id, site_name = connection.execute(
            "SELECT id, name FROM sites WHERE kind = 'meal_point' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        connection.execute("DELETE FROM menu_cycle_sites WHERE site_id = ?", (site_id,))
    context = browser.new_context(viewport=DESKTOP, base_url=base_url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "admin", DEMO_PASSWORDS["admin"])

    page.goto("/menus/cycles")
    assert page.get_by_role("link", name="克拉玛依四周轮换菜单").is_visible()
    _axe(page, artifacts, "menu-cycles-zh")
    page.get_by_label("名称").fill("试点两周菜单")
    page.get_by_label("周数").fill("2")
    page.get_by_label("第一天（星期一）").fill("2026-11-30")
    page.get_by_label(site_name).check()
    follow(page.get_by_role("button", name="建立菜单周期"))
    assert re.search(r"/menus/cycles/\d+$", page.url), page.inner_text("main")[:500]
    assert "菜单周期 试点两周菜单 已建立" in page.inner_text("body")

    follow(page.get_by_role("link", name=re.compile("编辑第 1 周第 1 天 午餐")))
    page.get_by_label("名称 1", exact=True).fill("A套餐：红烧肉+青菜")
    page.get_by_label("价格（元） 1", exact=True).fill("12.50")
    page.get_by_label("荤菜 1", exact=True).select_option(index=1)
    page.get_by_label("主食 1", exact=True).select_option(index=1)
    _axe(page, artifacts, "menu-cycle-day-zh")
    page.get_by_role("button", name="保存这一天").click()
    page.wait_for_url(re.compile(r"/menus/cycles/\d+$"))
    assert "A套餐：红烧肉+青菜" in page.inner_text("table")
    follow(page.get_by_role("button", name="立即发布"))
    assert re.search(r"已发布 [1-9]\d* 份菜单", page.inner_text("body"))
    _axe(page, artifacts, "menu-cycle-zh")
    with sqlite3.connect(server_db) as connection:
        published = connection.execute(
            "SELECT mi.name, mi.list_price_fen FROM menus m JOIN menu_items mi ON mi.menu_id = m.id"
            " WHERE m.site_id = ? AND m.service_date = '2026-11-30'",
            (site_id,),
        ).fetchall()
    assert published == [("A套餐：红烧肉+青菜", 1250)]
    context.close()
