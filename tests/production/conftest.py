"""Bookings on the demo district for the kitchen tests, made as the service makes them."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import select, update

from kitchen import ProductionPlan
from meals.bookings.models import Booking
from meals.production import day as one_plan
from meals.production import service
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.words import BookingStatus, Fulfilment, Slot
from seed.demo import BOOKING_PROFILE_COLUMNS, seed_bookings
from tests.conftest import NOW, TODAY
from tests.meals.helpers import Sessions

BOOKING_SEED = 11
CANCELLED_SITE_BOOKINGS = 3
CANCELLED_HOME_BOOKINGS = 1
SENIOR_COLUMNS = BOOKING_PROFILE_COLUMNS


async def book_lunches(db: Sessions, day: date = TODAY) -> int:
    """Lunch bookings for about half the seniors, varianted and priced as the service would."""
    async with db() as session:
        seniors = (await session.scalars(select(Senior).order_by(Senior.id))).all()
        rows = [{column: getattr(s, column) for column in SENIOR_COLUMNS} for s in seniors]
        count = await seed_bookings(
            session, random.Random(BOOKING_SEED), rows, start=day, days=1, now=NOW
        )
        await session.commit()
    return count


async def cancel_some(db: Sessions, day: date = TODAY) -> list[int]:
    """Cancel a few site and home bookings, as seniors (or a pause) would; returns their ids."""
    async with db() as session:
        site_ids = (
            await session.scalars(
                select(Booking.id)
                .where(Booking.service_date == day, Booking.fulfilment != Fulfilment.DELIVERY)
                .order_by(Booking.id)
                .limit(CANCELLED_SITE_BOOKINGS)
            )
        ).all()
        home_ids = (
            await session.scalars(
                select(Booking.id)
                .where(Booking.service_date == day, Booking.fulfilment == Fulfilment.DELIVERY)
                .order_by(Booking.id)
                .limit(CANCELLED_HOME_BOOKINGS)
            )
        ).all()
        cancelled = [*site_ids, *home_ids]
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(cancelled))
            .values(status=BookingStatus.CANCELLED, cancelled_at=NOW)
        )
        await session.commit()
    return cancelled


@pytest.fixture
async def lunch_booked(db: Sessions) -> list[int]:
    """Today's lunches booked, a few cancelled; returns the cancelled booking ids."""
    await book_lunches(db)
    return await cancel_some(db)


async def frozen_plan(
    db: Sessions, settings: Settings, day: date = TODAY
) -> tuple[int, ProductionPlan]:
    """Freeze the day's lunch bookings into the plan of the day, as the kitchen page does;
    returns the bookings frozen and the kitchen's plan."""
    async with db() as session:
        planned = await one_plan.freeze_day(
            session, settings=settings, service_date=day, slot=Slot.LUNCH, actor=None, now=NOW
        )
        demand = await service.frozen_demand(session, planned.run)
    return sum(demand.snapshot.values()), service.plan_of(planned.run)


async def replan_lunch_without(db: Sessions, settings: Settings, van: str) -> one_plan.DayPlan:
    """Today's lunch planned again with one van out of service."""
    async with db() as session:
        return await one_plan.replan_day(
            session,
            settings=settings,
            service_date=TODAY,
            slot=Slot.LUNCH,
            actor=None,
            now=NOW,
            excluded_vans=[van],
        )
