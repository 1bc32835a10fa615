"""No oversell: many concurrent requests for the last portions, in-process and across workers."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select, update

from meals.bookings.models import Booking
from meals.seniors.models import Senior
from meals.words import Role
from tests.conftest import NOW, TEST_SECRET, TODAY
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
