"""No oversell: many concurrent requests for the last portions, in-process and across workers."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from meals.bookings.models import Booking
from meals.seniors.models import Senior
from meals.words import BookingStatus, Role
from tests.conftest import NOW, TEST_SECRET, TODAY, _asyncpg_dsn
from tests.meals.helpers import (
    PLAIN_DIET,
    canteen,
    count_bookings,
    counters,
    login_as,
    meal,
    set_capacity,
)
from tests.server import running_server

REQUESTS = 24
PORTIONS = 5


async def _plain_seniors(db, n):
    async with db() as s:
        await s.execute(update(Senior).values(**PLAIN_DIET))
        await s.commit()
        return list(await s.scalars(select(Senior.id).order_by(Senior.id).limit(n)))


async def test_concurrent_requests_for_the_last_portions_in_process(client, db):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    await set_capacity(db, ref, portions=PORTIONS)
    seniors = await _plain_seniors(db, REQUESTS)
    await login_as(client, db, Role.ADMIN)

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/bookings", json={"senior_id": sid, "menu_item_id": ref.item_id})
            for sid in seniors
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * PORTIONS + [409] * (REQUESTS - PORTIONS)
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"sold_out"}
    assert await count_bookings(db, Booking.menu_item_id == ref.item_id) == PORTIONS
    assert await counters(db, ref) == (PORTIONS, PORTIONS)


async def test_concurrent_requests_across_two_worker_processes(db, database_url, tmp_path):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    other = await meal(db, site.id, TODAY, code="B")
    await set_capacity(db, ref, portions=PORTIONS)
    seniors = await _plain_seniors(db, REQUESTS + 1)
    retrying, seniors = seniors[-1], seniors[:-1]

    with running_server(database_url, tmp_path, now=NOW, secret=TEST_SECRET, workers=2) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            login = await http.post(
                "/api/v1/auth/login", json={"login": "admin", "password": "warmmeal-admin"}
            )
            assert login.status_code == 200
            booked = await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/bookings", json={"senior_id": sid, "menu_item_id": ref.item_id}
                    )
                    for sid in seniors
                )
            )
            retried = await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/bookings",
                        json={"senior_id": retrying, "menu_item_id": other.item_id},
                        headers={"Idempotency-Key": "same-tap"},
                    )
                    for _ in range(6)
                )
            )

    statuses = sorted(r.status_code for r in booked)
    assert statuses == [201] * PORTIONS + [409] * (REQUESTS - PORTIONS)
    assert await count_bookings(db, Booking.menu_item_id == ref.item_id) == PORTIONS
    assert await counters(db, ref) == (PORTIONS, PORTIONS + 1)  # + the retried senior's seat
    assert sorted(r.status_code for r in retried) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in retried}) == 1
    assert await count_bookings(db, Booking.senior_id == retrying) == 1


async def _blocker(database_url: str) -> asyncpg.Connection:
    """A second PostgreSQL session that takes locks by hand; it waits long before deadlock
    detection, so the service's request is the one PostgreSQL undoes."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url, make_url(database_url).database))
    await connection.execute("SET deadlock_timeout = '10s'")
    return connection


async def _deadlocked(database_url, tmp_path, first_lock, request, second_lock):
    """Send `request` to a served app while another session holds `first_lock`; once the
    request waits, that session asks for `second_lock`: a cycle. Returns the response."""
    with running_server(database_url, tmp_path, now=NOW, secret=TEST_SECRET) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            login = await http.post(
                "/api/v1/auth/login", json={"login": "admin", "password": "warmmeal-admin"}
            )
            assert login.status_code == 200
            other = await _blocker(database_url)
            try:
                transaction = other.transaction()
                await transaction.start()
                await other.execute(*first_lock)
                sent = asyncio.create_task(request(http))
                await asyncio.sleep(REQUEST_WAITS_SECONDS)
                await other.execute(*second_lock)  # waits until PostgreSQL undoes the request
                response = await sent
                await transaction.rollback()
            finally:
                await other.close()
            return response


REQUEST_WAITS_SECONDS = 0.5


async def _booked_once(client, db, settings):
    """A senior booked for today's set meal by the admin (PostgreSQL only: SQLite writers queue
    for one lock, so there is no deadlock to undo)."""
    if settings.is_sqlite:
        pytest.skip("SQLite writers queue for one lock: no deadlock to undo")
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    (senior,) = await _plain_seniors(db, 1)
    booking = {"senior_id": senior, "menu_item_id": ref.item_id}
    await login_as(client, db, Role.ADMIN)
    first = await client.post("/api/v1/bookings", json=booking)
    assert first.status_code == 201
    return ref, booking, first.json()["id"]


async def test_a_booking_deadlocked_by_a_simultaneous_cancel_is_a_409_to_retry(
    client, db, settings, database_url, tmp_path
):
    ref, booking, first_id = await _booked_once(client, db, settings)
    senior = booking["senior_id"]

    # Someone cancels the first booking (its row locked); the senior books again (taking the
    # set meal and the menu, then waiting on that row); the cancel then needs the set meal.
    response = await _deadlocked(
        database_url,
        tmp_path,
        ("UPDATE bookings SET status = 'cancelled' WHERE id = $1", first_id),
        lambda http: http.post("/api/v1/bookings", json=booking),
        ("UPDATE menu_items SET booked_count = booked_count - 1 WHERE id = $1", ref.item_id),
    )

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "retry"
    assert await counters(db, ref) == (1, 1)
    assert await count_bookings(db, Booking.senior_id == senior) == 1


async def test_a_cancel_deadlocked_by_a_simultaneous_change_is_a_409_to_retry(
    client, db, settings, database_url, tmp_path
):
    ref, _booking, booking_id = await _booked_once(client, db, settings)

    # Another writer holds the menu; the cancel takes the set meal and waits for the menu;
    # the other writer then needs the set meal.
    response = await _deadlocked(
        database_url,
        tmp_path,
        ("UPDATE menus SET seats_booked = seats_booked WHERE id = $1", ref.menu_id),
        lambda http: http.post(f"/api/v1/bookings/{booking_id}/cancel"),
        ("UPDATE menu_items SET booked_count = booked_count WHERE id = $1", ref.item_id),
    )

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "retry"
    async with db() as session:
        assert (await session.get(Booking, booking_id)).status is BookingStatus.BOOKED
    assert await counters(db, ref) == (1, 1)
