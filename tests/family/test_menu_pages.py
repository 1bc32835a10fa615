"""The senior's menu as a 75-year-old reads it (SQLite and PostgreSQL): one day at a time, sold
out and nearly sold out in place, diet warnings and the variant the kitchen makes, nutrition,
cancel asked once, bookings in the order of the day; a family is told of bookings made for
their senior by someone else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from meals.accounts.models import Account, FamilyBinding
from meals.bookings.models import Booking
from meals.menus.models import MenuItem
from meals.seniors.models import Senior
from meals.words import BookingStatus, Role, Slot
from seed.data import DEMO_PASSWORDS
from tests.conftest import TODAY
from tests.meals.helpers import canteen, login_as, meal
from tests.pages.helpers import page_login, submit, visible_text
from tests.pages.test_pages import _log_in_senior

WEDNESDAY = TODAY + timedelta(days=2)  # set meal A: 红烧肉 · 西葫芦炒蛋 · 馒头 · 小米粥
TOMORROW = TODAY + timedelta(days=1)


async def _set(db, senior_id: int, **values) -> None:
    async with db() as s:
        await s.execute(update(Senior).where(Senior.id == senior_id).values(**values))
        await s.commit()


async def test_menu_shows_one_day_with_sold_out_and_few_left(client, db):
    site = await canteen(db)
    await _log_in_senior(client, db, site.id)
    a = await meal(db, site.id, WEDNESDAY, code="A")
    b = await meal(db, site.id, WEDNESDAY, code="B")
    async with db() as s:
        await s.execute(
            update(MenuItem).where(MenuItem.id == b.item_id).values(capacity=MenuItem.booked_count)
        )
        await s.execute(
            update(MenuItem)
            .where(MenuItem.id == a.item_id)
            .values(capacity=MenuItem.booked_count + 3)
        )
        await s.commit()

    today_page = await client.get("/menu")
    assert today_page.text.count('href="/menu?day=') == 7
    assert f'value="{a.item_id}"' not in today_page.text, "one day on screen"

    page = await client.get(f"/menu?day={WEDNESDAY.isoformat()}")
    text = visible_text(page.text)
    assert "11月25日周三" in text
    assert "已售完" in text and "只剩 3 份" in text
    assert f'name="menu_item_id" value="{b.item_id}"' not in page.text, "no Book for sold out"
    assert f'name="menu_item_id" value="{a.item_id}"' in page.text
    assert "热量" in text and "千卡" in text and "盐" in text
    assert "有荤有素" in text and "荤" in text and "素" in text

    refused = await submit(client, "/menu", "/book", {"menu_item_id": b.item_id, "day": WEDNESDAY})
    assert refused.status_code == 409
    assert "11月25日周三的这份套餐已售完" in visible_text(refused.text)


async def test_egg_allergy_is_warned_and_the_variant_shown_before_and_after(client, db):
    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    await _set(db, senior.id, allergens=["egg"], halal=False, iddsi_level=7)
    a = await meal(db, site.id, WEDNESDAY, code="A")

    text = visible_text((await client.get(f"/menu?day={WEDNESDAY.isoformat()}")).text)
    assert "含有您不能吃的鸡蛋" in text, text
    assert "为您做成：无过敏原" in text
    booked = await submit(client, "/menu", "/book", {"menu_item_id": a.item_id, "day": WEDNESDAY})
    assert booked.status_code == 303
    assert "为您做成：无过敏原" in visible_text((await client.get("/bookings")).text)
    client.cookies.set("lang", "en")
    english = visible_text((await client.get(f"/menu?day={WEDNESDAY.isoformat()}")).text)
    assert "Made for you: Allergen-free" in english


async def test_two_needs_are_told_which_one_is_met(client, db):
    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    await _set(db, senior.id, low_salt=True, low_sugar=True, allergens=[], iddsi_level=7)
    text = visible_text((await client.get(f"/menu?day={WEDNESDAY.isoformat()}")).text)
    assert "这份餐会做成低糖，但厨房不能同时做成低盐" in text, text


async def test_cancel_asks_once_and_bookings_read_lunch_before_dinner(client, db):
    site = await canteen(db)
    await _log_in_senior(client, db, site.id)
    dinner = await meal(db, site.id, TOMORROW, slot=Slot.DINNER)
    lunch = await meal(db, site.id, TOMORROW)
    for ref in (dinner, lunch):
        await submit(client, "/menu", "/book", {"menu_item_id": ref.item_id})
    page = visible_text((await client.get("/bookings")).text)
    assert page.index("午餐") < page.index("晚餐")
    async with db() as s:
        booking_id = await s.scalar(select(Booking.id).where(Booking.menu_item_id == lunch.item_id))
    ask = await client.get(f"/bookings/{booking_id}/cancel")
    assert "确定取消这一餐吗" in visible_text(ask.text)
    async with db() as s:
        assert (await s.get(Booking, booking_id)).status is BookingStatus.BOOKED
    done = await submit(
        client, f"/bookings/{booking_id}/cancel", f"/bookings/{booking_id}/cancel", {}
    )
    assert done.status_code == 303
    async with db() as s:
        assert (await s.get(Booking, booking_id)).status is BookingStatus.CANCELLED


async def test_family_is_told_of_a_booking_staff_made_and_one_senior_skips_the_chooser(client, db):
    async with db() as s:
        family = await s.scalar(select(Account).where(Account.login == "family"))
        bindings = list(
            await s.scalars(select(FamilyBinding).where(FamilyBinding.account_id == family.id))
        )
        keep = bindings[0]
        for extra in bindings[1:]:
            await s.delete(extra)
        senior = await s.get(Senior, keep.senior_id)
        await s.commit()
    ref = await meal(db, senior.home_site_id, TOMORROW)
    await login_as(client, db, Role.SITE_STAFF, site_id=senior.home_site_id)
    made = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": ref.item_id}
    )
    assert made.status_code == 201, made.text
    await client.post("/api/v1/auth/logout")

    await page_login(client, "family", DEMO_PASSWORDS["family"])
    chooser = await client.get("/for", follow_redirects=False)
    assert chooser.headers["location"] == "/menu"
    text = visible_text((await client.get("/family")).text)
    assert "助餐点工作人员给" in text and senior.name in text, text
