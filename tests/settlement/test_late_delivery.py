"""A driver's confirmation of a meal whose month is already closed is kept as a correction:
the closed month stays as frozen, and the meal counts in the next open month as an adjustment,
like a correction made by hand. A confirmation inside an open month counts there as it is."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from meals.accounts.models import Account
from meals.bookings.corrections import BookingCorrection
from meals.bookings.models import Booking
from meals.deliveries.confirm import LATE_DELIVERY_REASON
from meals.deliveries.models import PlanSource, RoutePlanRecord, RouteRun, RouteStop, StopKind
from meals.sites.models import Van
from meals.words import BookingStatus, Fulfilment, Role
from tests.conftest import NOW
from tests.meals.helpers import Sessions, login_as
from tests.settlement.test_settlement import NOVEMBER, OCTOBER, a_booking, owed

PLANNED_AT = NOW - timedelta(days=40)


async def a_stop_for(db: Sessions, booking: Booking, driver_id: int) -> int:
    """A stored plan for the booking's day and slot, with a van run that still has its home
    stop to deliver (as a run left unconfirmed when the phone was offline)."""
    async with db() as s:
        van = (await s.scalars(select(Van).order_by(Van.id))).first()
        plan = RoutePlanRecord(
            service_date=booking.service_date,
            slot=booking.slot,
            created_at=PLANNED_AT,
            created_by_account_id=None,
            source=PlanSource.LIVE_BOOKINGS,
            production_run_id=None,
            previous_plan_id=None,
            excluded_vans=[],
            travel_provider="test",
            vans_used=1,
            distance_m=1000,
            longest_in_van_s=600,
            food_safety_limit_s=7200,
            stops_served=1,
            stops_unserved=0,
        )
        s.add(plan)
        await s.flush()
        run = RouteRun(
            plan_id=plan.id,
            van_id=van.id,
            van_code=van.code,
            driver_account_id=driver_id,
            trip_number=1,
            departs_at=PLANNED_AT,
            returns_at=PLANNED_AT + timedelta(hours=1),
            distance_m=1000,
            load_boxes=1,
            capacity_boxes=50,
        )
        s.add(run)
        await s.flush()
        stop = RouteStop(
            plan_id=plan.id,
            run_id=run.id,
            stop_key=f"home-{booking.senior_id}",
            kind=StopKind.HOME,
            sequence=1,
            senior_id=booking.senior_id,
            booking_ids=[booking.id],
            portions=1,
            boxes=1,
        )
        s.add(stop)
        await s.commit()
        return stop.id


async def deliver(client, stop_id: int):
    return await client.post(
        "/api/v1/deliveries/actions",
        json={
            "stop_id": stop_id,
            "action": "delivered",
            "idempotency_key": uuid.uuid4().hex,
            "acted_at": NOW.isoformat(),
        },
    )


async def corrections_of(db: Sessions, booking_id: int) -> list[BookingCorrection]:
    async with db() as s:
        found = await s.scalars(
            select(BookingCorrection).where(BookingCorrection.booking_id == booking_id)
        )
        return list(found)


async def test_a_delivery_confirmed_after_its_month_closed_lands_in_the_next_month(
    client, db, history
):
    await login_as(client, db, Role.ADMIN)
    assert (await client.post("/api/v1/settlement/2026-10/close")).status_code == 200
    frozen = (await client.get("/api/v1/settlement/2026-10")).json()
    november_before = (await client.get("/api/v1/settlement/2026-11")).json()
    delivery = Booking.fulfilment == Fulfilment.DELIVERY, Booking.status == BookingStatus.BOOKED
    october_meal = await a_booking(db, OCTOBER, *delivery)
    november_meal = await a_booking(db, (NOVEMBER[0], date(2026, 11, 23)), *delivery)
    async with db() as s:
        driver = (
            await s.scalars(select(Account).where(Account.role == Role.DRIVER).order_by(Account.id))
        ).first()
    late_stop = await a_stop_for(db, october_meal, driver.id)
    open_stop = await a_stop_for(db, november_meal, driver.id)

    await login_as(client, db, Role.DRIVER)
    late = await deliver(client, late_stop)
    in_time = await deliver(client, open_stop)

    assert late.status_code == 200 and late.json()["status"] == "delivered"
    assert in_time.status_code == 200 and in_time.json()["status"] == "delivered"
    [kept] = await corrections_of(db, october_meal.id)
    assert (kept.from_status, kept.to_status) == (BookingStatus.BOOKED, BookingStatus.DELIVERED)
    assert kept.settle_month == NOVEMBER[0]
    assert kept.account_id == driver.id and kept.reason == LATE_DELIVERY_REASON
    assert await corrections_of(db, november_meal.id) == []

    await login_as(client, db, Role.ADMIN)
    assert (await client.get("/api/v1/settlement/2026-10")).json() == frozen
    november = (await client.get("/api/v1/settlement/2026-11")).json()
    added: Counter = Counter()
    for meal in (october_meal, november_meal):
        for line in meal.subsidy_breakdown:
            if line["amount_fen"] > 0:
                added[line["source"]] += line["amount_fen"]
    before = owed(november_before)
    assert {code: fen for code, (_meals, fen) in owed(november).items()} == {
        code: before.get(code, [0, 0])[1] + added[code] for code in set(before) | set(added)
    }
    assert november["meals"] == november_before["meals"] + 2
    assert november["adjustments"]["meals"] == 1
    assert november["adjustments"]["senior_paid_fen"] == october_meal.price_fen
    late_fen = {
        line["source"]: line["amount_fen"]
        for line in october_meal.subsidy_breakdown
        if line["amount_fen"] > 0
    }
    assert {
        s["source"]: s["owed_fen"] for s in november["adjustments"]["sources"] if s["owed_fen"]
    } == late_fen
    adjusted = await client.get("/api/v1/settlement/2026-11/bookings?outcome=adjustment")
    assert [(x["booking_id"], x["delta"]) for x in adjusted.json()["bookings"]] == [
        (october_meal.id, 1)
    ]
