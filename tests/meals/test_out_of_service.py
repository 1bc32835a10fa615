"""What the console takes out of service cannot be booked: a deactivated senior (by anyone, nor
by their standing orders), a closed site's menus, a set meal taken off its menu. Each refusal is a
409 with its code and a sentence, in Chinese on the pages; nothing is saved."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from meals.accounts.service import load_actor
from meals.bookings.models import Booking
from meals.errors import Conflict
from meals.pages.i18n import Language
from meals.standing_orders.models import StandingOrderDate
from meals.standing_orders.service import (
    StandingOrderTerms,
    expand_standing_orders,
    save_standing_order,
)
from meals.words import Fulfilment, Role, Slot
from seed import demo
from tests.conftest import NOW, TODAY
from tests.meals.helpers import canteen, count_bookings, login, login_as, meal, senior_at

TOMORROW = TODAY + timedelta(days=1)


async def _book(client, senior_id, item_id):
    return await client.post(
        "/api/v1/bookings",
        json={"senior_id": senior_id, "menu_item_id": item_id, "fulfilment": "dine_in"},
    )


async def test_a_deactivated_senior_cannot_be_booked_nor_ordered_for(client, db, settings):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    today, tomorrow = await meal(db, site.id, TODAY), await meal(db, site.id, TOMORROW)
    staff = await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    # Booked once first, so the worker remembers the senior as active (the stale-profile path).
    assert (await _book(client, senior.id, today.item_id)).status_code == 201
    async with db() as s:
        actor = await load_actor(s, account_id=staff["account_id"])
        await save_standing_order(
            s,
            actor=actor,
            senior_id=senior.id,
            terms=StandingOrderTerms(Slot.LUNCH, "A", Fulfilment.DINE_IN, frozenset({3, 4})),
            now=NOW,
            settings=settings,
        )
    before = await count_bookings(db, Booking.senior_id == senior.id)

    off = await client.post(f"/api/v1/seniors/{senior.id}/deactivate")
    assert off.status_code in (200, 201), off.text
    refused = await _book(client, senior.id, tomorrow.item_id)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "senior_inactive"
    assert senior.name in refused.json()["detail"]
    await login(client, "admin", "warmmeal-admin")  # the operator is refused too
    assert (await _book(client, senior.id, tomorrow.item_id)).json()["code"] == "senior_inactive"
    async with db() as s:
        handled = await s.scalar(select(func.count()).select_from(StandingOrderDate))
        await demo.ensure_menus(s, start=TODAY + timedelta(days=7), days=7, published_at=NOW)
        await s.commit()
        report = await expand_standing_orders(s, now=NOW, settings=settings)
        assert report.created == [] and report.refused == []
        # Left unhandled, not marked refused: a reactivated senior's order carries on.
        assert await s.scalar(select(func.count()).select_from(StandingOrderDate)) == handled
        try:
            await save_standing_order(
                s,
                actor=actor,
                senior_id=senior.id,
                terms=StandingOrderTerms(Slot.LUNCH, "A", Fulfilment.DINE_IN, frozenset({0})),
                now=NOW,
                settings=settings,
            )
        except Conflict as refusal:
            assert refusal.code == "senior_inactive"
            assert "停用" in Language("zh_CN").error(refusal)
        else:
            raise AssertionError("a standing order for a deactivated senior was saved")
    assert await count_bookings(db, Booking.senior_id == senior.id) == before


async def test_a_closed_sites_published_menus_cannot_be_booked(client, db):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    today, tomorrow = await meal(db, site.id, TODAY), await meal(db, site.id, TOMORROW)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    # Booked first, so the set meal (with its site) sits in the worker's reference cache.
    assert (await _book(client, senior.id, today.item_id)).status_code == 201

    await login(client, "admin", "warmmeal-admin")
    assert (await client.post(f"/api/v1/sites/{site.id}/deactivate")).status_code in (200, 201)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    refused = await _book(client, senior.id, tomorrow.item_id)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "site_closed"
    assert site.name in refused.json()["detail"]
    assert await count_bookings(db, Booking.menu_item_id == tomorrow.item_id) == 0


async def test_a_set_meal_taken_off_its_menu_cannot_be_booked(client, db):
    site = await canteen(db)
    senior, other = await senior_at(db, site.id, 0), await senior_at(db, site.id, 1)
    tomorrow = await meal(db, site.id, TOMORROW)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    assert (await _book(client, senior.id, tomorrow.item_id)).status_code == 201
    await login(client, "admin", "warmmeal-admin")
    removed = await client.post(
        f"/api/v1/menus/{tomorrow.menu_id}/items/A/remove",
        json={"cancel_bookings": True, "reason": "食材未到"},
    )
    assert removed.status_code == 200, removed.text

    refused = await _book(client, other.id, tomorrow.item_id)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "set_meal_withdrawn"
    assert await count_bookings(db, Booking.senior_id == other.id) == 0
