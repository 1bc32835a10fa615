"""Served means served: check-in only inside the serving window (with its grace), and
corrections as explicit events with who and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from meals.bookings.corrections import BookingCorrection
from meals.bookings.models import Booking
from meals.words import BookingStatus, Role
from tests.conftest import SHANGHAI, TODAY
from tests.meals.helpers import canteen, login_as, meal, senior_at
from tests.pages.helpers import submit, visible_text


def at(hour: int, minute: int) -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, hour, minute, tzinfo=SHANGHAI)


async def _booked_lunch(client, db):
    """A canteen senior booked for today's lunch by the canteen's staff (logged in after)."""
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    ref = await meal(db, site.id, TODAY)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    response = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": ref.item_id}
    )
    assert response.status_code == 201, response.text
    return site, senior, response.json()["id"]


async def _scan(client, site, senior):
    return await submit(
        client,
        f"/staff/checkin?site={site.id}",
        "/staff/checkin",
        {"site_id": site.id, "slot": "lunch", "card": senior.card_number},
    )


async def test_a_check_in_before_the_window_is_refused_with_when_it_opens(client, db, clock):
    site, senior, booking_id = await _booked_lunch(client, db)
    client.cookies.set("lang", "en")
    clock.set(at(3, 24))

    refused = await _scan(client, site, senior)

    assert refused.status_code == 409
    assert (
        f"Check-in for lunch at {site.name} is open from 11:00 to 13:30 (serving 11:30–13:00, "
        "30 minutes either side); it is 03:24 now."
    ) in visible_text(refused.text)
    async with db() as s:
        assert (await s.get(Booking, booking_id)).status is BookingStatus.BOOKED


async def test_check_in_is_taken_inside_the_grace_and_refused_just_after(client, db, clock):
    site, senior, booking_id = await _booked_lunch(client, db)
    other = await senior_at(db, site.id, 1)
    ref = await meal(db, site.id, TODAY)
    second = await client.post(
        "/api/v1/bookings", json={"senior_id": other.id, "menu_item_id": ref.item_id}
    )
    assert second.status_code == 201

    clock.set(at(13, 30))
    late_but_inside = await _scan(client, site, senior)
    clock.set(at(13, 31))
    too_late = await _scan(client, site, other)

    assert late_but_inside.status_code == 200
    assert f"{senior.name}核销成功" in visible_text(late_but_inside.text)
    assert too_late.status_code == 409
    assert "现在是 13:31" in visible_text(too_late.text)
    async with db() as s:
        assert (await s.get(Booking, booking_id)).status is BookingStatus.SERVED
        assert (await s.get(Booking, second.json()["id"])).status is BookingStatus.BOOKED


async def test_grace_is_a_setting(client, db, clock, app):
    site, senior, _ = await _booked_lunch(client, db)
    app.state.settings = replace(app.state.settings, checkin_grace=timedelta(0))
    clock.set(at(11, 20))

    refused = await _scan(client, site, senior)

    assert refused.status_code == 409
    assert "11:30" in visible_text(refused.text)


async def test_a_mistaken_check_in_is_corrected_with_who_and_why(client, db, clock):
    site, senior, booking_id = await _booked_lunch(client, db)
    clock.set(at(11, 45))
    assert (await _scan(client, site, senior)).status_code == 200
    clock.set(at(14, 0))

    no_reason = await client.post(
        f"/api/v1/bookings/{booking_id}/corrections", json={"to_status": "no_show", "reason": " "}
    )
    corrected = await client.post(
        f"/api/v1/bookings/{booking_id}/corrections",
        json={"to_status": "no_show", "reason": "扫错了卡：本人今天没来"},
    )
    again = await client.post(
        f"/api/v1/bookings/{booking_id}/corrections",
        json={"to_status": "no_show", "reason": "再点一次"},
    )

    assert no_reason.status_code == 422
    assert no_reason.json()["detail"] == "Say why this meal is being corrected."
    assert corrected.status_code == 201, corrected.text
    body = corrected.json()
    assert (body["from_status"], body["to_status"]) == ("served", "no_show")
    assert body["settle_month"] == "2026-11" and body["adjustment"] is False
    assert body["corrected_by"].endswith("工作人员")
    assert again.status_code == 409
    assert again.json()["detail"] == "This meal is no_show; it cannot be corrected to no_show."
    async with db() as s:
        booking = await s.get(Booking, booking_id)
        [event] = (await s.scalars(select(BookingCorrection))).all()
    assert booking.status is BookingStatus.NO_SHOW and booking.served_at is None
    assert event.reason == "扫错了卡：本人今天没来" and event.corrected_at is not None


async def test_a_future_meal_cannot_be_corrected_and_a_viewer_cannot_correct(client, db):
    site, senior, booking_id = await _booked_lunch(client, db)
    tomorrow = await meal(db, site.id, TODAY + timedelta(days=1))
    future = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": tomorrow.item_id}
    )
    assert future.status_code == 201, future.text

    early = await client.post(
        f"/api/v1/bookings/{future.json()['id']}/corrections",
        json={"to_status": "served", "reason": "提前"},
    )
    await login_as(client, db, Role.VIEWER)
    viewer = await client.post(
        f"/api/v1/bookings/{booking_id}/corrections",
        json={"to_status": "served", "reason": "看看"},
    )

    assert early.status_code == 409
    assert "has not happened yet" in early.json()["detail"]
    assert viewer.status_code == 403
