"""Staff scope: home delivery, quotes and counter look-ups only for seniors whose home site is
the staff's; a walk-in from another site may still be booked at the counter."""

from __future__ import annotations

from datetime import datetime

from meals.bookings.models import Booking
from meals.words import Role
from seed.data import DEMO_PASSWORDS
from tests.conftest import SHANGHAI, TODAY
from tests.meals.helpers import canteen, count_bookings, login_as, meal, senior_at
from tests.pages.helpers import page_login, submit, visible_text

LUNCH_TIME = datetime(TODAY.year, TODAY.month, TODAY.day, 11, 45, tzinfo=SHANGHAI)


async def _two_sites(db):
    mine, theirs = await canteen(db, 0), await canteen(db, 1)
    return mine, theirs, await senior_at(db, theirs.id, 0, delivery_eligible=True)


async def test_staff_cannot_send_a_meal_home_to_another_sites_senior(client, db):
    mine, _theirs, stranger = await _two_sites(db)
    own = await senior_at(db, mine.id, 0, delivery_eligible=True)
    ref = await meal(db, mine.id, TODAY)
    await login_as(client, db, Role.SITE_STAFF, site_id=mine.id)

    def booking(senior, fulfilment):
        return {"senior_id": senior.id, "menu_item_id": ref.item_id, "fulfilment": fulfilment}

    refused = await client.post("/api/v1/bookings", json=booking(stranger, "delivery"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "out_of_scope"
    assert await count_bookings(db, Booking.senior_id == stranger.id) == 0

    walk_in = await client.post("/api/v1/bookings", json=booking(stranger, "dine_in"))
    assert walk_in.status_code == 201, walk_in.text
    home = await client.post("/api/v1/bookings", json=booking(own, "delivery"))
    assert home.status_code == 201, home.text


async def test_staff_cannot_price_another_sites_senior(client, db):
    mine, _theirs, stranger = await _two_sites(db)
    own = await senior_at(db, mine.id, 0)
    ref = await meal(db, mine.id, TODAY)
    await login_as(client, db, Role.SITE_STAFF, site_id=mine.id)

    refused = await client.get(
        "/api/v1/quote", params={"senior_id": stranger.id, "menu_item_id": ref.item_id}
    )
    assert refused.status_code == 403
    assert "price" not in refused.json()
    own_quote = await client.get(
        "/api/v1/quote", params={"senior_id": own.id, "menu_item_id": ref.item_id}
    )
    assert own_quote.status_code == 200


async def test_a_typed_card_of_another_sites_senior_names_nobody(client, db, clock):
    clock.set(LUNCH_TIME)  # check-in is open while lunch is served
    mine, _theirs, stranger = await _two_sites(db)
    response = await page_login(client, f"staff-{mine.code}", DEMO_PASSWORDS["staff"])
    assert response.status_code == 303
    answer = await submit(
        client,
        "/staff/checkin",
        "/staff/checkin",
        {"site_id": mine.id, "slot": "lunch", "card": stranger.card_number},
    )
    assert answer.status_code == 404
    text = visible_text(answer.text)
    assert stranger.card_number in text
    assert stranger.name not in text


async def test_booking_a_walk_in_from_another_site_shows_their_card_not_their_name(client, db):
    mine, _theirs, stranger = await _two_sites(db)
    ref = await meal(db, mine.id, TODAY)
    await page_login(client, f"staff-{mine.code}", DEMO_PASSWORDS["staff"])
    booked = await submit(
        client,
        "/staff/book",
        "/staff/book",
        {"senior_id": stranger.id, "menu_item_id": ref.item_id, "fulfilment": "dine_in"},
    )
    assert booked.status_code == 303
    shown = visible_text((await client.get(booked.headers["location"])).text)
    assert f"助餐卡 {stranger.card_number}" in shown
    assert stranger.name not in shown
