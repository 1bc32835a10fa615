"""Booking rules through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from meals.bookings.models import Booking, NewBooking
from meals.db import begin_write, profile_cache
from meals.menus.models import Menu, MenuItem
from meals.seniors.models import Senior
from meals.sites.models import Site, SiteSlot
from meals.words import BookingStatus, Role, SiteKind, Slot
from tests.conftest import NOW, TODAY
from tests.meals.helpers import (
    a_senior,
    canteen,
    count_bookings,
    counters,
    login_as,
    meal,
    senior_at,
    set_capacity,
)

TOMORROW = TODAY + timedelta(days=1)
PRELOAD_WAIT_SECONDS = 10


async def _staff_client(client, db, site_id):
    await login_as(client, db, Role.SITE_STAFF, site_id=site_id)


async def _book(client, senior_id, item_id, fulfilment="dine_in", **extra):
    headers = extra.pop("headers", None)
    return await client.post(
        "/api/v1/bookings",
        json={"senior_id": senior_id, "menu_item_id": item_id, "fulfilment": fulfilment, **extra},
        headers=headers,
    )


async def _plain_senior(db, site_id, nth=0, **attributes):
    """A senior at the site with no diet needs, so set meal A is theirs as is."""
    return await senior_at(db, site_id, nth, **attributes)


async def test_senior_books_own_meal_and_sees_price_after_subsidy(client, db):
    senior = await a_senior(db, with_account=True)
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    async with db() as s:
        target = await s.get(Senior, senior.id)
        target.birth_date = date(1941, 5, 1)  # 85 on the day: 80-89 tier and 高龄
        target.categories = ["lives_alone"]
        target.allergens = []
        target.halal = False
        target.iddsi_level = 7
        await s.commit()
        list_price = (await s.get(MenuItem, ref.item_id)).list_price_fen
    await login_as(client, db, Role.SENIOR, senior_id=senior.id)

    response = await _book(client, senior.id, ref.item_id)

    assert response.status_code == 201, response.text
    body = response.json()
    # civil affairs 80-89: 5 元; street office 高龄 / 独居: 1 元 once; operator 1 元.
    assert body["subsidy_fen"] == 700
    assert body["price_fen"] == list_price - 700
    assert {line["source"]: line["amount_fen"] for line in body["subsidies"]} == {
        "civil_affairs": 500,
        "street_office": 100,
        "operator": 100,
    }
    assert body["booked_by"] == "self"
    assert await counters(db, ref) == (1, 1)
    # What was saved is what was answered: the frozen breakdown, the kinds, the times.
    saved = await client.get(f"/api/v1/bookings/{body['id']}")
    assert saved.status_code == 200
    assert saved.json() == body | {"notices": []}


async def test_booking_after_cutoff_is_refused_and_changes_nothing(client, db, clock):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TODAY)
    await _staff_client(client, db, site.id)
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))

    response = await _book(client, senior.id, ref.item_id)

    assert response.status_code == 409
    assert response.json()["code"] == "after_cutoff"
    assert "closed at 2026-11-23 09:00" in response.json()["detail"]
    assert await count_bookings(db) == 0
    assert await counters(db, ref) == (0, 0)


async def test_cutoff_day_before_in_the_sites_own_time_zone(client, db, clock):
    """A Xinjiang-time meal point closes at 17:00 Urumqi the day before = 11:00 UTC."""
    async with db() as s:
        site = (
            await s.scalars(
                select(Site).where(Site.timezone == "Asia/Urumqi", Site.kind == SiteKind.MEAL_POINT)
            )
        ).first()
        slot = await s.scalar(select(SiteSlot).where(SiteSlot.site_id == site.id))
    assert (slot.cutoff_time.hour, slot.cutoff_days_before) == (17, 1)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TOMORROW)
    await _staff_client(client, db, site.id)

    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("UTC")))
    late = await _book(client, senior.id, ref.item_id)
    clock.set(datetime(2026, 11, 23, 10, 59, tzinfo=ZoneInfo("UTC")))
    in_time = await _book(client, senior.id, ref.item_id)

    assert late.status_code == 409 and "(Asia/Urumqi)" in late.json()["detail"]
    assert in_time.status_code == 201


async def test_last_portion_then_sold_out(client, db):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    await set_capacity(db, ref, portions=1)
    seniors = [await _plain_senior(db, site.id, n) for n in range(2)]
    await _staff_client(client, db, site.id)

    first = await _book(client, seniors[0].id, ref.item_id)
    second = await _book(client, seniors[1].id, ref.item_id)

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "sold_out"
    assert "sold out" in second.json()["detail"]
    assert await counters(db, ref) == (1, 1)


async def test_site_slot_full_refuses_even_with_portions_left(client, db):
    site = await canteen(db)
    ref_a = await meal(db, site.id, TODAY, code="A")
    ref_b = await meal(db, site.id, TODAY, code="B")
    await set_capacity(db, ref_a, seats=1)
    seniors = [await _plain_senior(db, site.id, n) for n in range(2)]
    await _staff_client(client, db, site.id)

    assert (await _book(client, seniors[0].id, ref_b.item_id)).status_code == 201
    full = await _book(client, seniors[1].id, ref_b.item_id)

    assert full.status_code == 409 and full.json()["code"] == "site_full"
    assert await count_bookings(db) == 1
    # The refused booking took no portion either: the counts move together or not at all.
    assert await counters(db, ref_b) == (1, 1)


async def test_one_booking_per_senior_and_slot_until_cancelled(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref_a = await meal(db, site.id, TODAY, code="A")
    ref_b = await meal(db, site.id, TODAY, code="B")
    await _staff_client(client, db, site.id)

    first = await _book(client, senior.id, ref_a.item_id)
    again = await _book(client, senior.id, ref_b.item_id)
    cancelled = await client.post(f"/api/v1/bookings/{first.json()['id']}/cancel")
    rebooked = await _book(client, senior.id, ref_b.item_id)

    assert first.status_code == 201
    assert again.status_code == 409 and again.json()["code"] == "already_booked"
    assert str(first.json()["id"]) in again.json()["detail"]
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert rebooked.status_code == 201
    assert await counters(db, ref_a) == (0, 1)
    assert await counters(db, ref_b) == (1, 1)


async def test_dinner_is_a_separate_slot(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    await _staff_client(client, db, site.id)
    lunch = await _book(client, senior.id, (await meal(db, site.id, TODAY)).item_id)
    dinner = await _book(client, senior.id, (await meal(db, site.id, TODAY, Slot.DINNER)).item_id)
    assert (lunch.status_code, dinner.status_code) == (201, 201)


async def test_repeated_idempotency_key_returns_the_first_booking(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TODAY)
    other = await meal(db, site.id, TOMORROW)
    await _staff_client(client, db, site.id)
    headers = {"Idempotency-Key": "tablet-7-req-42"}

    first = await _book(client, senior.id, ref.item_id, headers=headers)
    replay = await _book(client, senior.id, ref.item_id, headers=headers)
    misuse = await _book(client, senior.id, other.item_id, headers=headers)

    assert first.status_code == 201 and replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]
    assert misuse.status_code == 422 and misuse.json()["code"] == "idempotency_key_reused"
    assert await count_bookings(db) == 1
    assert await counters(db, ref) == (1, 1)


async def test_delivery_rules(client, db):
    site = await canteen(db)
    eligible = await _plain_senior(db, site.id, 0, delivery_eligible=True)
    ineligible = await _plain_senior(db, site.id, 1)
    ref = await meal(db, site.id, TODAY)
    await _staff_client(client, db, site.id)

    refused = await _book(client, ineligible.id, ref.item_id, "delivery")
    async with db() as s:
        (await s.get(Senior, eligible.id)).latitude = None
        await s.commit()
    no_location = await _book(client, eligible.id, ref.item_id, "delivery")
    async with db() as s:
        (await s.get(Senior, eligible.id)).latitude = 45.58
        await s.commit()
    delivered = await _book(client, eligible.id, ref.item_id, "delivery")

    assert refused.status_code == 409 and refused.json()["code"] == "delivery_not_eligible"
    assert no_location.status_code == 409 and no_location.json()["code"] == "delivery_no_location"
    assert delivered.status_code == 201 and delivered.json()["fulfilment"] == "delivery"


async def test_site_without_delivery_refuses_delivery(client, db):
    async with db() as s:
        site = (
            await s.scalars(select(Site).where(Site.offers_delivery.is_(False)).order_by(Site.id))
        ).first()
    senior = await _plain_senior(db, site.id, 0, delivery_eligible=True)
    ref = await meal(db, site.id, TOMORROW)
    await login_as(client, db, Role.ADMIN)
    response = await _book(client, senior.id, ref.item_id, "delivery")
    assert response.status_code == 409 and response.json()["code"] == "delivery_unavailable"


async def test_halal_senior_refused_non_halal_meal_and_served_halal_one(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id, halal=True)
    await _staff_client(client, db, site.id)

    pork = await _book(client, senior.id, (await meal(db, site.id, TODAY, code="A")).item_id)
    halal = await _book(client, senior.id, (await meal(db, site.id, TODAY, code="B")).item_id)

    assert pork.status_code == 409 and pork.json()["code"] == "diet_conflict"
    assert "halal" in pork.json()["detail"]
    assert halal.status_code == 201


async def test_texture_need_switches_to_the_variant_and_says_so(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id, iddsi_level=5)
    await _staff_client(client, db, site.id)

    item_id = (await meal(db, site.id, TODAY)).item_id
    response = await _book(client, senior.id, item_id, variant="regular")

    assert response.status_code == 201
    assert response.json()["variant"] == "minced"
    assert any("minced" in notice for notice in response.json()["notices"])


async def test_cancel_after_cutoff_is_refused_with_the_reason(client, db, clock):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TODAY)
    await _staff_client(client, db, site.id)
    booking = (await _book(client, senior.id, ref.item_id)).json()
    clock.set(NOW + timedelta(hours=3))

    response = await client.post(f"/api/v1/bookings/{booking['id']}/cancel")

    assert response.status_code == 409
    assert response.json()["code"] == "after_cutoff"
    assert response.json()["detail"].startswith("Cancelling for lunch")
    async with db() as s:
        assert (await s.get(Booking, booking["id"])).status is BookingStatus.BOOKED
    assert await counters(db, ref) == (1, 1)


async def test_unpublished_menu_cannot_be_booked(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TODAY)
    async with db() as s:
        from meals.menus.models import Menu

        (await s.get(Menu, ref.menu_id)).published_at = NOW + timedelta(minutes=5)
        await s.commit()
    await _staff_client(client, db, site.id)
    response = await _book(client, senior.id, ref.item_id)
    assert response.status_code == 409 and response.json()["code"] == "not_published"


async def test_quote_matches_the_booking_price(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TODAY)
    await _staff_client(client, db, site.id)
    quote = await client.get(
        "/api/v1/quote", params={"senior_id": senior.id, "menu_item_id": ref.item_id}
    )
    booking = await _book(client, senior.id, ref.item_id)
    assert quote.status_code == 200
    assert quote.json()["price_fen"] == booking.json()["price_fen"]
    assert quote.json()["subsidies"] == booking.json()["subsidies"]


def test_a_booking_being_taken_carries_every_column_of_the_booking_table() -> None:
    """New bookings are inserted from `NewBooking`: a column it lacked would never be written."""
    assert {field.name for field in fields(NewBooking)} == {
        column.key for column in Booking.__table__.columns
    }


async def test_a_saved_booking_carries_its_set_meals_menu_site_date_and_slot(client, db):
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TOMORROW)
    await _staff_client(client, db, site.id)

    response = await _book(client, senior.id, ref.item_id)

    assert response.status_code == 201, response.text
    async with db() as s:
        saved = await s.get(Booking, response.json()["id"])
        menu = await s.get(Menu, ref.menu_id)
    assert (saved.menu_id, saved.site_id, saved.service_date, saved.slot) == (
        menu.id,
        menu.site_id,
        menu.service_date,
        menu.slot,
    )
    assert (saved.site_id, saved.service_date) == (site.id, TOMORROW)


async def test_a_menu_or_site_with_bookings_cannot_be_deleted(client, db):
    """The booking's own copy of its menu and site has no foreign key: the set meal's keeps them."""
    site = await canteen(db)
    senior = await _plain_senior(db, site.id)
    ref = await meal(db, site.id, TOMORROW)
    await _staff_client(client, db, site.id)
    unbooked = await meal(db, (await canteen(db, 1)).id, TOMORROW)
    async with db() as s:  # a menu nobody booked can go
        await s.execute(delete(Menu).where(Menu.id == unbooked.menu_id))
        await s.commit()
    assert (await _book(client, senior.id, ref.item_id)).status_code == 201

    for doomed in (
        delete(Menu).where(Menu.id == ref.menu_id),
        delete(Site).where(Site.id == site.id),
    ):
        async with db() as s:
            with pytest.raises(IntegrityError):
                await s.execute(doomed)
                await s.commit()
    assert await count_bookings(db) == 1
    assert await counters(db, ref) == (1, 1)


async def test_a_change_to_the_senior_prices_their_next_booking_even_when_remembered(client, db):
    """Bookings may remember a senior's profile, but never price on one changed since."""
    site = await canteen(db)
    senior = await _plain_senior(db, site.id, birth_date=date(1960, 3, 1), categories=[])
    first = await meal(db, site.id, TOMORROW)
    second = await meal(db, site.id, TOMORROW + timedelta(days=1))
    await _staff_client(client, db, site.id)
    before = await _book(client, senior.id, first.item_id)
    async with db() as s:
        # A read-then-write takes the write lock first (the family notifier may write meanwhile).
        await begin_write(s)
        version = await s.scalar(select(Senior.profile_version).where(Senior.id == senior.id))
        # Edited straight in the database, as an operator might: the trigger still counts it.
        await s.execute(
            text("UPDATE seniors SET birth_date = :born WHERE id = :id"),
            {"born": date(1938, 3, 1), "id": senior.id},
        )
        await s.commit()
        changed = await s.scalar(select(Senior.profile_version).where(Senior.id == senior.id))

    after = await _book(client, senior.id, second.item_id)

    assert changed == version + 1
    assert before.status_code == 201 and after.status_code == 201, after.text
    # 66 on the day: the youngest tier; 88: the 80-89 tier and 高龄.
    assert after.json()["subsidy_fen"] > before.json()["subsidy_fen"]
    assert "street_office" in {line["source"] for line in after.json()["subsidies"]}


async def test_remembered_profiles_are_plain_tuples_the_garbage_collector_skips(
    client, db, app, settings
):
    if settings.is_sqlite:
        pytest.skip("SQLite bookings read the senior afresh and remember nothing")
    site = await canteen(db)
    senior = await _plain_senior(db, site.id, categories=["lives_alone"], allergens=["peanut"])
    await _staff_client(client, db, site.id)
    assert (await _book(client, senior.id, (await meal(db, site.id, TOMORROW)).item_id)).is_success

    remembered = profile_cache(app.state.engine)[senior.id]
    # The collector stops tracking a tuple once it finds every item untracked; an item it
    # reaches later in the same pass (an older object) counts from the next pass on.
    gc.collect()
    gc.collect()
    assert type(remembered) is tuple and not gc.is_tracked(remembered)
    assert ("lives_alone",) in remembered and ("peanut",) in remembered


async def _preloaded(app) -> None:
    """Wait for the start-up preload, which runs on the test client's own event loop."""
    async with asyncio.timeout(PRELOAD_WAIT_SECONDS):
        while not app.state.remembering_seniors.done():
            await asyncio.sleep(0.01)
    assert app.state.remembering_seniors.exception() is None


async def test_a_worker_remembers_every_seniors_profile_when_it_starts(client, app, db, settings):
    await _preloaded(app)
    async with db() as s:
        senior_ids = set(await s.scalars(select(Senior.id)))

    remembered = profile_cache(app.state.engine)
    if settings.is_sqlite:  # SQLite bookings always read the senior afresh
        assert remembered is None or len(remembered) == 0
    else:
        assert senior_ids and set(remembered.keys()) == senior_ids


async def test_a_profile_changed_after_the_preload_is_read_again_before_pricing(
    client, app, db, settings
):
    if settings.is_sqlite:
        pytest.skip("SQLite bookings read the senior afresh and remember nothing")
    await _preloaded(app)
    site = await canteen(db)
    senior = await _plain_senior(db, site.id, birth_date=date(1960, 3, 1), categories=[])
    assert senior.id in profile_cache(app.state.engine)  # as it was when the worker started
    async with db() as s:
        await s.execute(
            text("UPDATE seniors SET birth_date = :born WHERE id = :id"),
            {"born": date(1938, 3, 1), "id": senior.id},
        )
        await s.commit()
    await _staff_client(client, db, site.id)

    response = await _book(client, senior.id, (await meal(db, site.id, TOMORROW)).item_id)

    assert response.status_code == 201, response.text
    # Priced as 88 on the day (the 80-89 tier and 高龄), not as the 66 remembered at start.
    assert "street_office" in {line["source"] for line in response.json()["subsidies"]}
    assert profile_cache(app.state.engine)[senior.id][3] == date(1938, 3, 1)
