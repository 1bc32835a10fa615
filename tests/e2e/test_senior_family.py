"""Seniors and families in a real Chromium at 360×740 with text at 150 %, against the real
server, a real local Web Push endpoint and the real database.

A senior logs in with their number typed with spaces (numeric keyboards asserted by the inputs'
attributes), books Friday's lunch in at most 3 taps from the menu and 2 screens of scrolling,
sees a sold-out meal as sold out; an egg-allergic senior sees the warning and the variant; a
failed delivery shows a banner to the bound family and a push message arrives at the phone's
push endpoint. Every page is screenshot in Chinese and English into docs/screenshots/ and held
to axe-core and the size rules of tests/e2e/test_booking_pages.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from meals.settings import Settings
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW, TEST_SECRET, TODAY
from tests.deliveries.conftest import quick
from tests.e2e.navigation import follow
from tests.e2e.test_booking_pages import check_page
from tests.e2e.test_delivery_day import _book_and_plan
from tests.family.push_receiver import PushEndpoint, push_endpoint
from tests.server import free_port, running_process

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 740}
LARGE_TEXT = "html { font-size: 30px !important; }"  # the page's 20 px at 150 %
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FRIDAY = TODAY + timedelta(days=4)
WEDNESDAY = TODAY + timedelta(days=2)  # set meal A has 西葫芦炒蛋 (egg)
MAX_TAPS = 3
MAX_SCREENS_SCROLLED = 2
PUSH_WAIT_SECONDS = 15


@dataclass(frozen=True)
class People:
    senior_login: str
    senior_id: int
    allergic_login: str
    failed_stop_id: int
    failed_senior_name: str
    driver_login: str
    staff_login: str
    staff_senior_id: int


def _query(db_path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(sql, args).fetchall()


def _run(db_path: Path, sql: str, *args: object) -> None:
    with sqlite3.connect(db_path) as connection:
        connection.execute(sql, args)


@pytest.fixture(scope="module")
def family_db(browser, sqlite_template: Path, tmp_path_factory) -> tuple[Path, People]:
    """Today's lunches booked and routed; a home stop's senior bound to the demo family."""
    folder = tmp_path_factory.mktemp("family-db")
    path = folder / "warmmeal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    settings = quick(Settings(database_url=f"sqlite+aiosqlite:///{path}", secret_key=TEST_SECRET))
    with ThreadPoolExecutor(max_workers=1) as worker:
        plan_id = worker.submit(asyncio.run, _book_and_plan(settings)).result()
    [(stop_id, senior_id, name, driver)] = _query(
        path,
        "SELECT s.id, se.id, se.name, a.login FROM route_stops s "
        "JOIN route_runs r ON r.id = s.run_id JOIN accounts a ON a.id = r.driver_account_id "
        "JOIN seniors se ON se.id = s.senior_id "
        "WHERE s.plan_id = ? AND s.kind = 'home' ORDER BY s.id LIMIT 1",
        plan_id,
    )
    family_id = _query(path, "SELECT id FROM accounts WHERE login = 'family'")[0][0]
    _run(path, "DELETE FROM family_bindings WHERE account_id = ?", family_id)
    _run(
        path,
        "INSERT INTO family_bindings (account_id, senior_id, relation, consented_at) "
        "VALUES (?, ?, '女儿', ?)",
        family_id,
        senior_id,
        NOW.isoformat(),
    )
    plain = "halal = 0, low_salt = 0, low_sugar = 0, iddsi_level = 7, allergens = '[]'"
    rows = _query(
        path,
        "SELECT a.login, se.id, se.home_site_id FROM accounts a JOIN seniors se "
        "ON se.id = a.senior_id JOIN sites s ON s.id = se.home_site_id "
        "WHERE a.role = 'senior' AND s.kind = 'canteen' AND se.id != ? ORDER BY se.id LIMIT 2",
        senior_id,
    )
    (login, first_id, site_id), (allergic, allergic_id, _site) = rows
    _run(path, f"UPDATE seniors SET {plain} WHERE id IN (?, ?)", first_id, allergic_id)
    _run(path, "UPDATE seniors SET allergens = '[\"egg\"]' WHERE id = ?", allergic_id)
    _run(
        path, "DELETE FROM bookings WHERE senior_id = ? AND service_date > ?", first_id, str(TODAY)
    )
    # Friday's dinner set meal B at the first senior's site is sold out.
    _run(
        path,
        "UPDATE menu_items SET capacity = booked_count WHERE code = 'B' AND menu_id IN "
        "(SELECT id FROM menus WHERE site_id = ? AND service_date = ? AND slot = 'dinner')",
        site_id,
        str(FRIDAY),
    )
    [(staff,)] = _query(
        path,
        "SELECT a.login FROM accounts a JOIN staff_sites ss ON ss.account_id = a.id "
        "WHERE ss.site_id = ? LIMIT 1",
        site_id,
    )
    people = People(login, first_id, allergic, stop_id, name, driver, staff, first_id)
    return path, people


@pytest.fixture(scope="module")
def server(family_db) -> Iterator[str]:
    path, _people = family_db
    port = free_port()
    env = {
        **os.environ,
        "WARMMEAL_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
        "WARMMEAL_VAR_DIR": str(path.parent),
        "WARMMEAL_SECRET_KEY": TEST_SECRET,
        "WARMMEAL_SECURE_COOKIES": "0",
        "WARMMEAL_FROZEN_NOW": NOW.isoformat(),
        "WARMMEAL_NOTIFY_POLL_SECONDS": "1",
    }
    args = [sys.executable, "-m", "meals.cli", "serve", "--port", str(port)]
    with running_process(args, env, path.parent / "server.log", port) as base:
        yield base


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def phone(browser, server: str):
    """A 360×740 phone with text at 150 %, in Chinese."""
    context = browser.new_context(viewport=SMALL_PHONE, base_url=server, locale="zh-CN")
    context.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => {"
        " const style = document.createElement('style');"
        f" style.textContent = {LARGE_TEXT!r}; document.head.appendChild(style); }});"
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def shoot(page, artifacts: Path, screenshots: Path, name: str) -> None:
    """Check the page (axe-core, type and tap sizes, no sideways scroll) and keep its picture."""
    check_page(page, artifacts, name)
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)


def both_languages(page, artifacts: Path, screenshots: Path, name: str) -> None:
    """Screenshot the page in Chinese, then in English, and back to Chinese."""
    shoot(page, artifacts, screenshots, f"{name}-zh")
    follow(page.get_by_role("link", name="English"))
    shoot(page, artifacts, screenshots, f"{name}-en")
    follow(page.get_by_role("link", name="中文"))


def spaced(number: str) -> str:
    return f"{number[:3]} {number[3:7]} {number[7:]}"


def log_in_senior(page, number: str) -> None:
    page.goto("/login")
    page.get_by_label("您的手机号").fill(number)
    page.get_by_label("密码（6位数字）").fill(DEMO_PASSWORDS["senior_pin"])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/menu")


def test_senior_logs_in_as_typed_and_books_fridays_lunch_in_three_taps(
    phone, family_db, artifacts, screenshots
) -> None:
    db_path, people = family_db
    phone.goto("/login")
    number_field, pin_field = phone.locator("#login"), phone.locator("#password")
    assert number_field.get_attribute("inputmode") == "numeric"
    assert number_field.get_attribute("type") == "tel"
    assert pin_field.get_attribute("inputmode") == "numeric"
    both_languages(phone, artifacts, screenshots, "senior-login")
    follow(phone.get_by_role("link", name="忘记密码了？"))
    phone.get_by_label("您的手机号").fill(spaced(people.senior_login))
    follow(phone.get_by_role("button", name="继续"))
    assert "工作人员会为您重设" in phone.locator("main").inner_text()
    both_languages(phone, artifacts, screenshots, "forgot-pin")

    log_in_senior(phone, spaced(people.senior_login))
    failures = _query(
        db_path,
        "SELECT count(*) FROM login_attempts WHERE succeeded = 0 AND login = ?",
        people.senior_login,
    )[0][0]
    assert failures == 0, "a number typed with spaces is not a wrong attempt"
    both_languages(phone, artifacts, screenshots, "menu-day")

    taps = 0
    phone.get_by_role("navigation", name="日期").get_by_role(
        "link", name=re.compile("周五")
    ).click()
    taps += 1
    phone.wait_for_url(f"**/menu?day={FRIDAY.isoformat()}")
    lunch = phone.locator("section.meal").filter(has=phone.get_by_role("heading", name="午餐"))
    book = lunch.get_by_role("button", name=re.compile("预订 A")).first
    box = book.bounding_box()
    scrolled_to = (
        phone.evaluate("window.scrollY") + box["y"] + box["height"] - SMALL_PHONE["height"]
    )
    assert scrolled_to <= MAX_SCREENS_SCROLLED * SMALL_PHONE["height"], scrolled_to
    book.click()
    taps += 1
    phone.wait_for_url("**/bookings")
    assert taps <= MAX_TAPS
    booked = _query(
        db_path,
        "SELECT slot, status FROM bookings WHERE senior_id = ? AND service_date = ?",
        people.senior_id,
        str(FRIDAY),
    )
    assert booked == [("lunch", "booked")]
    both_languages(phone, artifacts, screenshots, "bookings-day")

    phone.goto(f"/menu?day={FRIDAY.isoformat()}")
    dinner = phone.locator("section.meal").filter(has=phone.get_by_role("heading", name="晚餐"))
    sold_out = dinner.locator(".card.sold-out")
    assert "已售完" in sold_out.inner_text()
    assert sold_out.get_by_role("button").count() == 0, "no Book button on a sold-out meal"
    lunch_card = phone.locator("section.meal").first
    assert "已预订" in lunch_card.inner_text(), "the booked lunch shows as booked in place"

    phone.goto("/bookings")
    follow(phone.get_by_role("link", name="取消这顿饭").first)
    assert "确定取消这一餐吗" in phone.locator("main").inner_text()
    both_languages(phone, artifacts, screenshots, "cancel-confirm")
    phone.get_by_role("link", name="不取消，保留").click()
    phone.wait_for_url("**/bookings")

    phone.goto("/no-such-page")
    assert "不存在" in phone.locator("main").inner_text()
    both_languages(phone, artifacts, screenshots, "not-found")


def test_egg_allergic_senior_sees_the_warning_and_the_variant(
    phone, family_db, artifacts, screenshots
) -> None:
    _db_path, people = family_db
    log_in_senior(phone, people.allergic_login)
    phone.goto(f"/menu?day={WEDNESDAY.isoformat()}")
    lunch = phone.locator("section.meal").filter(has=phone.get_by_role("heading", name="午餐"))
    card = lunch.locator(".card").filter(has_text="西葫芦炒蛋").first
    text = card.inner_text()
    assert "含有您不能吃的鸡蛋" in text and "为您做成：无过敏原" in text
    card.scroll_into_view_if_needed()
    both_languages(phone, artifacts, screenshots, "menu-allergy")


def _fail_delivery(base: str, people: People) -> None:
    with httpx.Client(base_url=base) as driver:
        logged = driver.post(
            "/api/v1/auth/login",
            json={"login": people.driver_login, "password": DEMO_PASSWORDS["driver"]},
        )
        assert logged.status_code == 200, logged.text
        failed = driver.post(
            "/api/v1/deliveries/actions",
            json={
                "stop_id": people.failed_stop_id,
                "action": "failed",
                "failure_reason": "no_answer",
                "idempotency_key": "e2e-family-failed-1",
                "acted_at": NOW.isoformat(),
            },
        )
        assert failed.status_code == 200, failed.text


def test_failed_delivery_shows_a_banner_to_the_family_and_pushes_to_their_phone(
    phone, server: str, family_db, artifacts, screenshots
) -> None:
    _db_path, people = family_db
    phone.goto("/login?by=name")
    phone.get_by_label("账号").fill("family")
    phone.get_by_label("密码").fill(DEMO_PASSWORDS["family"])
    phone.get_by_role("button", name="登录", exact=True).click()
    phone.wait_for_url("**/family")
    with push_endpoint() as endpoint:
        _subscribe(phone, endpoint)
        _fail_delivery(server, people)
        deadline = time.monotonic() + PUSH_WAIT_SECONDS
        while not endpoint.received:
            assert time.monotonic() < deadline, "no push message reached the phone's endpoint"
            time.sleep(0.1)
        messages = endpoint.messages()
    assert messages[0]["title"] == "有一餐没送到"
    assert people.failed_senior_name in messages[0]["body"]

    phone.goto("/family")
    banner = phone.locator(".banner").first
    assert "有一餐没送到" in banner.inner_text()
    assert people.failed_senior_name in banner.inner_text()
    both_languages(phone, artifacts, screenshots, "family")
    banner.get_by_role("button", name="知道了").click()
    phone.wait_for_url("**/family")


def _subscribe(page, endpoint: PushEndpoint) -> None:
    """What push.js does once the browser's push service answers: hand over the subscription
    (headless Chromium has no push service, so the local endpoint stands in for it)."""
    status = page.evaluate(
        """async (subscription) => {
             const csrf = document.getElementById('push-on').dataset.csrf;
             const answer = await fetch('/notices/push', {method: 'POST',
               headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
               body: JSON.stringify(subscription)});
             return answer.status;
           }""",
        endpoint.subscription(),
    )
    assert status == 201


def test_staff_keep_a_standing_order_for_a_senior(
    browser, server: str, family_db, artifacts, screenshots
) -> None:
    _db_path, people = family_db
    context = browser.new_context(viewport=SMALL_PHONE, base_url=server, locale="zh-CN")
    page = context.new_page()
    page.goto("/login?by=name")
    page.get_by_label("账号").fill(people.staff_login)
    page.get_by_label("密码").fill(DEMO_PASSWORDS["staff"])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/staff")
    page.goto(f"/staff/standing?senior={people.staff_senior_id}")
    assert page.locator("main h1").inner_text() == "每周固定订餐"
    both_languages(page, artifacts, screenshots, "staff-standing")
    context.close()
