"""The booking pages through HTTP, as a browser without JavaScript uses them (SQLite and PG).

Forms are posted with the page's CSRF token; refusals must read as sentences in the user's
language and leave the database as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from meals import cards
from meals.accounts.models import Account
from meals.bookings.models import Booking
from meals.bookings.ratings import MealRating
from meals.menus.models import MenuItem
from meals.settings import derive_key
from meals.words import BookingStatus, Role
from seed.data import DEMO_PASSWORDS
from tests.conftest import SHANGHAI, TEST_SECRET, TODAY
from tests.meals.helpers import (
    bound_senior_ids,
    canteen,
    count_bookings,
    counters,
    login_as,
    meal,
    senior_at,
)
from tests.pages.helpers import csrf_token, page_login, submit, visible_text

TOMORROW = TODAY + timedelta(days=1)
LUNCH_TIME = datetime(2026, 11, 23, 11, 45, tzinfo=SHANGHAI)


async def _senior_login(db, site_id: int, nth: int = 0) -> tuple[object, str]:
    """A plain-diet senior with a phone account at `site_id`, and that account's login."""
    async with db() as s:
        logins = dict(
            (
                await s.execute(
                    select(Account.senior_id, Account.login).where(Account.role == Role.SENIOR)
                )
            ).all()
        )
    found = 0
    index = 0
    while True:
        senior = await senior_at(db, site_id, index)
        if senior.id in logins:
            if found == nth:
                return senior, logins[senior.id]
            found += 1
        index += 1


async def _log_in_senior(client, db, site_id: int, nth: int = 0):
    senior, login = await _senior_login(db, site_id, nth)
    response = await page_login(client, login, DEMO_PASSWORDS["senior_pin"])
    assert response.status_code == 303, response.text
    return senior


async def test_login_page_speaks_chinese_by_default_and_english_on_request(client):
    chinese = await client.get("/login")
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    assert "登录" in visible_text(chinese.text)

    switched = await client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    english = await client.get("/login")
    assert '<html lang="en">' in english.text
    assert "Log in" in visible_text(english.text)
    assert "登录" not in visible_text(english.text)


async def test_language_switch_never_redirects_off_site(client):
    response = await client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
    assert response.headers["location"] == "/"


async def test_wrong_pin_is_refused_with_a_chinese_sentence(client, db):
    site = await canteen(db)
    _, login = await _senior_login(db, site.id)

    response = await page_login(client, login, "000000")

    assert response.status_code == 401
    assert "手机号、账号或密码不对。" in visible_text(response.text)
    assert "bad_credentials" not in response.text


async def test_a_character_the_database_cannot_store_gets_a_page_not_json(client, settings):
    response = await page_login(client, "adm\u0000in", "x")

    assert response.headers["content-type"].startswith("text/html")
    if settings.is_sqlite:  # SQLite stores NUL: the login is simply wrong
        assert response.status_code == 401
        assert "手机号、账号或密码不对。" in visible_text(response.text)
    else:
        assert response.status_code == 400
        assert "无法保存的字符" in visible_text(response.text)


async def test_senior_books_from_the_menu_sees_price_after_subsidy_and_cancels(client, db):
    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    ref = await meal(db, site.id, TOMORROW, code="B")

    booked = await submit(
        client, "/menu", "/book", {"menu_item_id": ref.item_id, "fulfilment": "pickup"}
    )

    assert booked.status_code == 303
    assert booked.headers["location"] == "/bookings"
    async with db() as s:
        booking = await s.scalar(select(Booking).where(Booking.senior_id == senior.id))
    assert booking.status is BookingStatus.BOOKED
    assert booking.fulfilment.value == "pickup"
    assert booking.subsidy_fen > 0
    page = visible_text((await client.get("/bookings")).text)
    yuan = f"¥{booking.price_fen // 100}.{booking.price_fen % 100:02d}"
    assert "预订成功" in page
    assert f"您付 {yuan}" in page
    assert f"本月餐费：{yuan}" in page

    cancelled = await submit(client, "/bookings", f"/bookings/{booking.id}/cancel", {})

    assert cancelled.status_code == 303
    assert await count_bookings(db, Booking.status == BookingStatus.BOOKED) == 0
    assert await counters(db, ref) == (0, 0)
    page = visible_text((await client.get("/bookings")).text)
    assert "还没有订餐。" in page


async def test_booking_after_cutoff_is_a_sentence_and_saves_nothing(client, db, clock):
    site = await canteen(db)
    await _log_in_senior(client, db, site.id)
    ref = await meal(db, site.id, TODAY)
    opened = await client.get("/menu")
    token = opened.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI))

    response = await client.post(
        "/book",
        data={"_csrf_token": token, "menu_item_id": str(ref.item_id)},
        follow_redirects=False,
    )

    assert response.status_code == 409
    text = visible_text(response.text)
    # Refused on the menu itself, in the menu's words: its day format, no ISO date or zone.
    assert "11月23日周一午餐的订餐已于" in text and "09:00" in text, text
    assert "2026-11-23" not in text and "Asia/Shanghai" not in text
    assert await count_bookings(db) == 0


async def test_cancel_after_cutoff_is_refused_and_the_booking_stays(client, db, clock):
    site = await canteen(db)
    await _log_in_senior(client, db, site.id)
    ref = await meal(db, site.id, TODAY)
    await submit(client, "/menu", "/book", {"menu_item_id": ref.item_id})
    async with db() as s:
        booking_id = await s.scalar(select(Booking.id))
    bookings_page = await client.get("/bookings")
    token = bookings_page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    clock.set(datetime(2026, 11, 23, 9, 1, tzinfo=SHANGHAI))

    response = await client.post(
        f"/bookings/{booking_id}/cancel", data={"_csrf_token": token}, follow_redirects=False
    )

    assert response.status_code == 409
    assert "截止" in visible_text(response.text)
    assert await count_bookings(db, Booking.status == BookingStatus.BOOKED) == 1
    page = visible_text((await client.get("/bookings")).text)
    assert "已不能取消" in page


async def test_a_form_without_its_csrf_token_is_refused_and_the_json_api_is_not(client, db):
    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    ref = await meal(db, site.id, TOMORROW, code="B")

    forged = await client.post(
        "/book", data={"menu_item_id": str(ref.item_id)}, follow_redirects=False
    )

    assert forged.status_code == 403
    assert "表单已过期" in visible_text(forged.text)
    assert await count_bookings(db) == 0
    api = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": ref.item_id}
    )
    assert api.status_code == 201, api.text


async def test_bad_form_input_is_a_400_sentence_not_a_crash(client, db):
    site = await canteen(db)
    await _log_in_senior(client, db, site.id)

    response = await submit(client, "/menu", "/book", {"menu_item_id": "lots"})

    assert response.status_code == 400
    assert "表单里有内容没填或填写有误" in visible_text(response.text)
    assert await count_bookings(db) == 0


async def test_pages_need_a_login_and_the_right_role(client, db):
    first = await client.get("/menu", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/menu"
    site = await canteen(db)
    await _log_in_senior(client, db, site.id)

    staff_only = await client.get("/staff/checkin")

    assert staff_only.status_code == 403
    assert "您的账号不能打开这个页面。" in visible_text(staff_only.text)


async def test_family_picks_a_bound_senior_and_books_for_them(client, db):
    bound = await bound_senior_ids(db)
    response = await page_login(client, "family", DEMO_PASSWORDS["family"])
    assert response.headers["location"] == "/family"
    chooser = visible_text((await client.get("/family")).text)
    async with db() as s:
        from meals.seniors.models import Senior

        second = await s.get(Senior, bound[1])
        second.halal = False
        second.allergens = []
        second.iddsi_level = 7
        await s.commit()
    assert second.name in chooser

    chosen = await submit(client, "/family", "/family/act", {"senior_id": second.id})
    assert chosen.headers["location"] == "/menu"
    menu_page = visible_text((await client.get("/menu")).text)
    assert second.name in menu_page
    ref = await meal(db, second.home_site_id, TOMORROW)
    booked = await submit(client, "/menu", "/book", {"menu_item_id": ref.item_id})

    assert booked.status_code == 303
    async with db() as s:
        booking = await s.scalar(select(Booking).where(Booking.senior_id == second.id))
    assert booking.booked_by.value == "family"


async def test_family_cannot_choose_a_senior_they_are_not_bound_to(client, db):
    bound = await bound_senior_ids(db)
    await page_login(client, "family", DEMO_PASSWORDS["family"])
    stranger = max(bound) + 1

    response = await submit(client, "/for", "/for", {"senior_id": stranger})

    assert response.status_code == 404
    assert f"没有您可以查看的老人 {stranger}。" in visible_text(response.text)


async def _staff(client, site):
    response = await page_login(client, f"staff-{site.code}", DEMO_PASSWORDS["staff"])
    assert response.headers["location"] == "/staff"


async def test_staff_books_on_behalf_then_checks_in_once_and_refuses_a_second_scan(
    client, db, clock
):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    await _staff(client, site)
    found = visible_text((await client.get(f"/staff/book?q={senior.card_number}")).text)
    assert senior.name in found
    ref = await meal(db, site.id, TODAY)
    booked = await submit(
        client,
        f"/staff/book?senior={senior.id}",
        "/staff/book",
        {"senior_id": senior.id, "menu_item_id": ref.item_id, "fulfilment": "dine_in"},
    )
    assert booked.status_code == 303
    clock.set(LUNCH_TIME)

    first = await submit(
        client,
        "/staff/checkin",
        "/staff/checkin",
        {"site_id": site.id, "slot": "lunch", "card": senior.card_number.lower()},
    )
    second = await submit(
        client,
        "/staff/checkin",
        "/staff/checkin",
        {"site_id": site.id, "slot": "lunch", "card": senior.card_number},
    )

    assert first.status_code == 200
    assert f"{senior.name}核销成功" in visible_text(first.text)
    assert second.status_code == 409
    assert f"{senior.name}已在 11:45 核销过，这次扫码不重复计数。" in visible_text(second.text)
    assert await count_bookings(db, Booking.status == BookingStatus.SERVED) == 1
    today = visible_text((await client.get("/staff")).text)
    assert "预订 1 份，已就餐 1 份" in today


async def test_check_in_by_scanned_card_link_and_a_forged_link_is_refused(client, db, clock):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 1)
    ref = await meal(db, site.id, TODAY)
    await _staff(client, site)
    await submit(
        client,
        f"/staff/book?senior={senior.id}",
        "/staff/book",
        {"senior_id": senior.id, "menu_item_id": ref.item_id},
    )
    clock.set(LUNCH_TIME)
    token = cards.card_token(derive_key(TEST_SECRET, cards.CARD_KEY_PURPOSE), senior)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    refused = await submit(
        client,
        "/staff/checkin",
        "/staff/checkin",
        {"site_id": site.id, "slot": "lunch", "card": f"http://x/card/{forged}"},
    )
    accepted = await submit(
        client,
        "/staff/checkin",
        "/staff/checkin",
        {"site_id": site.id, "slot": "lunch", "card": f"http://x/card/{token}"},
    )

    assert refused.status_code == 404
    assert "这张助餐卡无效" in visible_text(refused.text)
    assert accepted.status_code == 200
    assert await count_bookings(db, Booking.status == BookingStatus.SERVED) == 1


async def test_walk_in_after_cutoff_takes_a_portion_only_while_some_remain(client, db, clock):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    other = await senior_at(db, site.id, 1)
    ref = await meal(db, site.id, TODAY)
    async with db() as s:
        item = await s.get(MenuItem, ref.item_id)
        item.capacity = 1
        await s.commit()
    clock.set(datetime(2026, 11, 23, 11, 40, tzinfo=SHANGHAI))
    await _staff(client, site)

    served = await submit(
        client,
        f"/staff/book?senior={senior.id}",
        "/staff/walk-in",
        {"senior_id": senior.id, "menu_item_id": ref.item_id},
    )
    sold_out = await submit(
        client,
        f"/staff/book?senior={other.id}",
        "/staff/walk-in",
        {"senior_id": other.id, "menu_item_id": ref.item_id},
    )

    assert served.status_code == 303
    assert sold_out.status_code == 409
    assert "已订完" in visible_text(sold_out.text)
    assert await count_bookings(db, Booking.status == BookingStatus.SERVED) == 1
    assert await counters(db, ref) == (1, 1)


async def test_staff_of_one_site_cannot_open_another_sites_counter(client, db):
    site = await canteen(db, 0)
    other = await canteen(db, 1)
    await _staff(client, site)

    response = await client.get(f"/staff/checkin?site={other.id}")

    assert response.status_code == 403
    assert "您在别的站点工作" in visible_text(response.text)


async def test_meal_cards_carry_a_qr_login_link_that_logs_the_senior_in(client, db):
    site = await canteen(db)
    senior, _login = await _senior_login(db, site.id)
    await _staff(client, site)
    sheet = await client.get(f"/staff/cards?site={site.id}")
    assert sheet.status_code == 200
    assert senior.card_number in sheet.text
    assert sheet.text.count("<svg") >= 1
    await client.post("/logout", data={"_csrf_token": ""})
    client.cookies.clear()

    token = cards.card_token(derive_key(TEST_SECRET, cards.CARD_KEY_PURPOSE), senior)
    logged_in = await client.get(f"/card/{token}", follow_redirects=False)
    assert logged_in.headers["location"] == "/menu"
    assert senior.name in visible_text((await client.get("/menu")).text)

    client.cookies.clear()
    tampered = await client.get(f"/card/{senior.id}.{'A' * 22}", follow_redirects=False)
    assert tampered.status_code == 404
    assert "这张助餐卡无效" in visible_text(tampered.text)


async def test_rating_a_served_meal_and_refusing_to_rate_an_uneaten_one(client, db):
    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    ref = await meal(db, site.id, TOMORROW, code="B")
    await submit(client, "/menu", "/book", {"menu_item_id": ref.item_id})
    async with db() as s:
        booking = await s.scalar(select(Booking).where(Booking.senior_id == senior.id))

    too_early = await submit(
        client, f"/bookings/{booking.id}/rate", f"/bookings/{booking.id}/rate", {"stars": 5}
    )
    assert too_early.status_code == 409
    assert "只有已用餐或已送达的餐才能评价。" in visible_text(too_early.text)

    async with db() as s:
        stored = await s.get(Booking, booking.id)
        stored.status = BookingStatus.SERVED
        await s.commit()
    out_of_range = await submit(
        client, f"/bookings/{booking.id}/rate", f"/bookings/{booking.id}/rate", {"stars": 9}
    )
    rated = await submit(
        client,
        f"/bookings/{booking.id}/rate",
        f"/bookings/{booking.id}/rate",
        {"stars": 4, "comment": "  米饭有点硬  "},
    )

    assert out_of_range.status_code == 422
    assert rated.status_code == 303
    async with db() as s:
        ratings = list(await s.scalars(select(MealRating)))
    assert [(r.stars, r.comment) for r in ratings] == [(4, "米饭有点硬")]
    assert "您打了 4 颗星" in visible_text((await client.get("/bookings")).text)


async def test_opening_a_meal_card_never_replaces_a_staff_session(client, db):
    site = await canteen(db)
    senior, _login = await _senior_login(db, site.id)
    await _staff(client, site)
    staff_cookie = client.cookies["session"]
    token = cards.card_token(derive_key(TEST_SECRET, cards.CARD_KEY_PURPOSE), senior)

    refused = await client.get(f"/card/{token}", follow_redirects=False)
    assert refused.status_code == 409
    assert "请先退出" in visible_text(refused.text)
    assert client.cookies["session"] == staff_cookie
    assert (await client.get("/staff/", follow_redirects=False)).status_code == 200


async def test_re_issuing_a_card_revokes_its_old_qr_and_an_expired_qr_is_refused(client, db):
    site = await canteen(db)
    senior, _login = await _senior_login(db, site.id)
    key = derive_key(TEST_SECRET, cards.CARD_KEY_PURPOSE)
    old = cards.card_token(key, senior)
    expired = cards.card_token(key, senior, expires=TODAY - timedelta(days=1))
    lasting = cards.card_token(key, senior, expires=TODAY)

    refused = await client.get(f"/card/{expired}", follow_redirects=False)
    assert refused.status_code == 404
    assert "这张助餐卡无效" in visible_text(refused.text)
    assert (await client.get(f"/card/{lasting}", follow_redirects=False)).status_code == 303
    client.cookies.clear()

    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    reissued = await client.post(f"/api/v1/seniors/{senior.id}/card/reissue")
    assert reissued.status_code == 200 and reissued.json()["card_issue"] == senior.card_issue + 1
    client.cookies.clear()

    assert (await client.get(f"/card/{old}", follow_redirects=False)).status_code == 404
    senior.card_issue += 1
    fresh = cards.card_token(key, senior)
    assert (await client.get(f"/card/{fresh}", follow_redirects=False)).status_code == 303


async def test_a_csrf_token_from_another_browser_does_not_work_in_this_session(client, db):
    """A token-and-cookie pair planted from elsewhere passes the double-submit check, but
    the session only takes the token it was logged in with."""
    site = await canteen(db)
    await _staff(client, site)
    session, own_csrf = client.cookies["session"], client.cookies["csrftoken"]
    own_token = csrf_token((await client.get("/staff/")).text)

    client.cookies.clear()
    planted_page = await client.get("/login")
    planted_token = csrf_token(planted_page.text)
    client.cookies.set("session", session, domain="testserver.local")
    refused = await client.post(
        "/logout", data={"_csrf_token": planted_token}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert "表单已过期" in visible_text(refused.text)
    assert (await client.get("/staff/", follow_redirects=False)).status_code == 200

    client.cookies.set("csrftoken", own_csrf, domain="testserver.local")
    out = await client.post("/logout", data={"_csrf_token": own_token}, follow_redirects=False)
    assert out.status_code == 303
