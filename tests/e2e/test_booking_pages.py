"""The booking pages in a real Chromium at phone size (390×844), against the real server.

Each page is screenshot into tests/_artifacts/screens/ and checked with axe-core: no serious or
critical accessibility violations. Type must be at least 18 px and tap targets large.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from seed.data import DEMO_PASSWORDS
from tests.conftest import SHANGHAI, TEST_SECRET, TODAY
from tests.e2e.navigation import follow
from tests.server import running_server

pytestmark = pytest.mark.browser

MIN_BODY_PX = 18
MIN_TAP_PX = 44
BLOCKING_IMPACTS = {"serious", "critical"}
TAP_TARGETS = "main button, main .button, main input, main select, main textarea, .tabs a, .langs a"
PLAIN_DIET = "halal = 0, low_salt = 0, low_sugar = 0, iddsi_level = 7, allergens = '[]'"


@dataclass(frozen=True)
class Person:
    senior_id: int
    name: str
    login: str
    card_number: str


@dataclass(frozen=True)
class Cast:
    site_id: int
    site_code: str
    seniors: list[Person]
    family_senior: Person


def _query(db_path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(sql, args).fetchall()


LUNCH_TIME = datetime(TODAY.year, TODAY.month, TODAY.day, 11, 45, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def lunch_url(base_url: str, server_db: Path) -> Iterator[str]:
    """The same service and database with its clock at lunch, when the counter checks in.

    Booking closes at 09:00 and check-in opens at 11:00, so one frozen clock cannot show both;
    the browser keeps its login, as cookies do not depend on the port.
    """
    var_dir = server_db.parent / "lunch"
    var_dir.mkdir(exist_ok=True)
    database = f"sqlite+aiosqlite:///{server_db}"
    with running_server(database, var_dir, now=LUNCH_TIME, secret=TEST_SECRET) as url:
        yield url


@pytest.fixture(scope="module")
def cast(server_db: Path) -> Cast:
    """Seniors with phone accounts at the canteen that has most, set to a plain diet."""
    [(site_id, code)] = _query(
        server_db,
        "SELECT s.id, s.code FROM sites s JOIN seniors se ON se.home_site_id = s.id "
        "JOIN accounts a ON a.senior_id = se.id WHERE s.kind = 'canteen' "
        "GROUP BY s.id ORDER BY count(*) DESC, s.id LIMIT 1",
    )
    rows = _query(
        server_db,
        "SELECT se.id, se.name, a.login, se.card_number FROM seniors se "
        "JOIN accounts a ON a.senior_id = se.id WHERE se.home_site_id = ? ORDER BY se.id LIMIT 3",
        site_id,
    )
    assert len(rows) == 3, "the demo district needs three seniors with phones at one canteen"
    [family_row] = _query(
        server_db,
        "SELECT se.id, se.name, se.card_number FROM family_bindings b "
        "JOIN accounts a ON a.id = b.account_id JOIN seniors se ON se.id = b.senior_id "
        "WHERE a.login = 'family' ORDER BY se.id DESC LIMIT 1",
    )
    ids = [row[0] for row in rows] + [family_row[0]]
    with sqlite3.connect(server_db) as connection:
        connection.execute(
            f"UPDATE seniors SET {PLAIN_DIET} WHERE id IN ({','.join('?' * len(ids))})", ids
        )
    family_senior = Person(family_row[0], family_row[1], "family", family_row[2])
    return Cast(site_id, code, [Person(*row) for row in rows], family_senior)


def _bookings(db_path: Path, senior_id: int) -> dict[date, str]:
    rows = _query(
        db_path,
        "SELECT service_date, status FROM bookings WHERE senior_id = ? ORDER BY service_date",
        senior_id,
    )
    return {date.fromisoformat(day): status for day, status in rows}


def check_page(page, artifacts: Path, name: str) -> None:
    """Screenshot the page, then hold it to the accessibility bar: axe, type size, tap targets."""
    page.screenshot(path=artifacts / f"{name}.png")
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, f"{name}: " + "\n".join(blocking)
    body_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= MIN_BODY_PX, f"{name}: body text is {body_px}px"
    small = page.evaluate(
        """(minimum) => [...document.querySelectorAll(TARGETS)]
           .filter(e => e.offsetParent !== null)
           .filter(e => !['hidden', 'checkbox', 'radio'].includes(e.type))
           .filter(e => e.getBoundingClientRect().height < minimum)
           .map(e => (e.textContent || e.name || e.tagName).trim().slice(0, 20)
                     + ' ' + Math.round(e.getBoundingClientRect().height) + 'px')
        """.replace("TARGETS", json.dumps(TAP_TARGETS)),
        MIN_TAP_PX,
    )
    assert not small, f"{name}: small tap targets {small}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the phone"


def log_in(page, login: str, password: str) -> None:
    """Seniors on the phone-number form (numeric keyboards); others on the login-name form."""
    if login.isdigit():
        page.goto("/login")
        page.get_by_label(re.compile("您的手机号|Your phone number")).fill(login)
        page.get_by_label(re.compile(r"密码（6位数字）|PIN \(6 digits\)")).fill(password)
    else:
        page.goto("/login?by=name")
        page.get_by_label(re.compile("^(账号|Login)$")).fill(login)
        page.get_by_label(re.compile("^(密码|Password)$")).fill(password)
    follow(page.get_by_role("button", name=re.compile("^(登录|Log in)$")))


def _lunch_section(page, day: date):
    label = f"{day.month}月{day.day}日"
    return (
        page.locator("section")
        .filter(has_text=label)
        .filter(has=page.get_by_role("heading", name="午餐"))
    )


def test_senior_logs_in_books_sees_price_after_subsidy_and_cancels(
    page, cast, server_db, artifacts
):
    senior = cast.seniors[0]
    page.goto("/login")
    check_page(page, artifacts, "login-zh")
    log_in(page, senior.login, DEMO_PASSWORDS["senior_pin"])
    page.wait_for_url("**/menu")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    check_page(page, artifacts, "menu-zh")

    tomorrow = TODAY + timedelta(days=1)
    follow(page.get_by_role("navigation", name="日期").get_by_role("link", name=re.compile("周二")))
    lunch = page.locator("section.meal", has=page.get_by_role("heading", name="午餐"))
    offer = lunch.locator(".card").first
    pay = re.search(r"¥[\d.]+", offer.locator("h4 .pay").inner_text())[0]
    assert "补贴" in offer.inner_text()
    offer.get_by_role("button", name=re.compile("预订")).click()

    page.wait_for_url("**/bookings")
    flash = page.get_by_role("status").first.inner_text()
    assert f"您需付 {pay}" in flash
    assert f"本月餐费：{pay}" in page.locator("main").inner_text()
    check_page(page, artifacts, "bookings-zh")
    assert _bookings(server_db, senior.senior_id) == {tomorrow: "booked"}

    follow(page.get_by_role("link", name="取消这顿饭"))
    follow(page.get_by_role("button", name="确定取消"))
    page.wait_for_url("**/bookings")
    assert "已取消" in page.get_by_role("status").first.inner_text()
    assert "还没有订餐。" in page.locator("main").inner_text()
    assert _bookings(server_db, senior.senior_id) == {tomorrow: "cancelled"}


def test_family_member_switches_to_english_and_books_for_a_bound_senior(
    page, cast, server_db, artifacts
):
    page.goto("/login")
    follow(page.get_by_role("link", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, artifacts, "login-en")
    log_in(page, "family", DEMO_PASSWORDS["family"])
    page.wait_for_url("**/family")
    check_page(page, artifacts, "family-home-en")
    page.get_by_role("button", name=f"Book for {cast.family_senior.name}").click()

    page.wait_for_url("**/menu")
    assert f"For {cast.family_senior.name}" in page.locator("main").inner_text()
    check_page(page, artifacts, "menu-en")
    page.locator(".card").filter(
        has=page.get_by_role("button", name=re.compile("^Book"))
    ).first.get_by_role("button", name=re.compile("^Book")).click()

    page.wait_for_url("**/bookings")
    assert "Booked:" in page.get_by_role("status").first.inner_text()
    assert "You pay ¥" in page.locator("main").inner_text()
    check_page(page, artifacts, "bookings-en")
    booked = _bookings(server_db, cast.family_senior.senior_id)
    assert list(booked.values()) == ["booked"]
    [(booked_by,)] = _query(
        server_db,
        "SELECT booked_by FROM bookings WHERE senior_id = ?",
        cast.family_senior.senior_id,
    )
    assert booked_by == "family"


def test_staff_book_on_behalf_and_check_in_twice_second_refused_then_senior_rates(
    page, cast, server_db, artifacts, lunch_url
):
    senior = cast.seniors[1]
    log_in(page, f"staff-{cast.site_code}", DEMO_PASSWORDS["staff"])
    page.wait_for_url("**/staff")
    follow(page.get_by_role("link", name="代老人订餐"))
    page.get_by_label("姓名、电话或助餐卡号").fill(senior.card_number)
    follow(page.get_by_role("button", name="查找"))
    follow(page.get_by_role("link", name=re.compile(senior.name)))
    today_lunch = page.locator("h3", has_text="午餐").first
    assert f"{TODAY.month}月{TODAY.day}日" in today_lunch.inner_text()
    follow(page.locator(".card").first.get_by_role("button", name=re.compile("预订")))
    assert f"已为{senior.name}预订" in page.get_by_role("status").first.inner_text()
    check_page(page, artifacts, "staff-book-zh")

    page.goto(f"{lunch_url}/staff")
    follow(page.get_by_role("link", name="核销"))
    check_page(page, artifacts, "staff-checkin-zh")
    page.get_by_label("助餐卡号，或扫描助餐卡").fill(senior.card_number)
    follow(page.get_by_role("button", name="核销", exact=True))
    assert f"{senior.name}核销成功" in page.get_by_role("status").first.inner_text()
    check_page(page, artifacts, "staff-checkin-served-zh")

    page.get_by_label("助餐卡号，或扫描助餐卡").fill(senior.card_number)
    follow(page.get_by_role("button", name="核销", exact=True))
    refusal = page.get_by_role("alert").inner_text()
    assert f"{senior.name}已在 11:45 核销过，这次扫码不重复计数。" in refusal
    check_page(page, artifacts, "staff-checkin-again-zh")
    assert _bookings(server_db, senior.senior_id) == {TODAY: "served"}

    follow(page.get_by_role("link", name="今天"))
    assert "已就餐 1 份" in page.locator("main").inner_text()
    check_page(page, artifacts, "staff-today-zh")
    follow(page.get_by_role("link", name="助餐卡"))
    assert page.locator(".meal-card svg").count() >= 3
    check_page(page, artifacts, "staff-cards-zh")

    follow(page.get_by_role("button", name="退出登录"))
    log_in(page, senior.login, DEMO_PASSWORDS["senior_pin"])
    page.goto("/bookings")
    follow(page.get_by_role("link", name="评价这顿饭"))
    page.locator("label[for=stars-5]").click()
    page.get_by_label("想对厨房说的话（可不填）").fill("很好吃")
    check_page(page, artifacts, "rate-zh")
    follow(page.get_by_role("button", name="提交评价"))
    assert "您打了 5 颗星" in page.locator("main").inner_text()
    assert _query(server_db, "SELECT stars, comment FROM meal_ratings") == [(5, "很好吃")]


def test_standing_order_with_a_pause_creates_exactly_the_right_bookings(
    page, cast, server_db, artifacts
):
    senior = cast.seniors[2]
    log_in(page, senior.login, DEMO_PASSWORDS["senior_pin"])
    page.goto("/standing")
    lunch = page.locator("section", has=page.get_by_role("heading", name="午餐"))
    wednesday = TODAY + timedelta(days=2)
    for weekday in ("周一", "周二", "周三", "周四", "周五"):
        assert lunch.get_by_label(weekday).is_checked()
    lunch.get_by_label("开始日期").fill(wednesday.isoformat())
    lunch.get_by_label("结束日期（不填表示另行通知）").fill(wednesday.isoformat())
    check_page(page, artifacts, "standing-zh")
    follow(lunch.get_by_role("button", name="保存"))

    assert "新订 4 顿" in page.get_by_role("status").first.inner_text()
    expected = {TODAY + timedelta(days=n): "booked" for n in (0, 1, 3, 4)}
    assert _bookings(server_db, senior.senior_id) == expected
    page.goto("/menu")
    page.goto("/bookings")
    assert page.locator("main a[href$='/cancel']").count() == 4
    [(weekdays, paused_from)] = _query(
        server_db,
        "SELECT weekdays, paused_from FROM standing_orders WHERE senior_id = ?",
        senior.senior_id,
    )
    assert json.loads(weekdays) == [0, 1, 2, 3, 4]
    assert paused_from == wednesday.isoformat()
