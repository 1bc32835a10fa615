"""A braising day frozen at the booking cutoff: the 70-minute 土豆烧牛肉 cannot be cooked
after a 09:00 freeze in time for the 10:15 van, so the stops that eat it ride the first
wave it is ready for; nothing is cooked before the freeze and every box is eaten within
its limit (before, such a day could only be frozen by 08:35)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from meals.production import day as one_plan
from meals.production import service
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.words import Slot
from seed.demo import BOOKING_PROFILE_COLUMNS, seed_bookings
from tests.conftest import NOW, TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions

CUTOFF = datetime.combine(TODAY, time(9, 0), tzinfo=NOW.tzinfo)
"""The demo canteens' lunch cutoff on a Monday, the day of 红烧肉 and 土豆烧牛肉."""
BRAISE = "土豆烧牛肉"
SENIORS_BOOKED = 120


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick(settings_for(database_url, tmp_path))


async def _book(db: Sessions) -> None:
    async with db() as session:
        seniors = (await session.scalars(select(Senior).order_by(Senior.id))).all()
        rows = [
            {column: getattr(s, column) for column in BOOKING_PROFILE_COLUMNS}
            for s in seniors[:SENIORS_BOOKED]
        ]
        await seed_bookings(session, random.Random(5), rows, start=TODAY, days=1, now=NOW)
        await session.commit()


async def test_a_braising_day_frozen_at_the_cutoff_cooks_after_the_freeze_within_the_limit(
    db: Sessions, settings: Settings
) -> None:
    await _book(db)
    async with db() as session:
        planned = await one_plan.freeze_day(
            session,
            settings=settings,
            service_date=TODAY,
            slot=Slot.LUNCH,
            actor=None,
            now=CUTOFF,
        )
        trips = await one_plan.routed_trips(session, settings, planned.route_plan)
    plan = service.plan_of(planned.run)
    braise = [batch for batch in plan.batches if batch.dish_name == BRAISE]
    assert braise, "the day has the braise"
    assert min(batch.cook_start for batch in plan.batches) >= CUTOFF
    leaves = {trip.departure_id: trip.departs_at for trip in trips}
    for batch in braise:
        assert batch.cook_end - batch.cook_start == timedelta(minutes=70)
        for allocation in batch.allocations:
            # cooked from 09:00 for 70 min, packed in 15: not on the 10:15 van
            assert leaves[allocation.departure_id] >= CUTOFF + timedelta(minutes=85)
    rows = service.labels.box_rows(plan, trips, service.labels.SafetyRule.of(settings))
    assert rows
    for row in rows:
        assert row.cooked_at >= CUTOFF
        assert 0 < row.cook_to_eat_minutes <= row.limit.total_seconds() // 60, row
    assert not plan.violations


async def test_a_day_frozen_after_every_wave_could_leave_is_refused_not_planned_empty(
    db: Sessions, settings: Settings
) -> None:
    await _book(db)
    async with db() as session:
        with pytest.raises(service.PlanRefused) as refused:
            await one_plan.freeze_day(
                session,
                settings=settings,
                service_date=TODAY,
                slot=Slot.LUNCH,
                actor=None,
                now=CUTOFF.replace(hour=12),
            )
    assert refused.value.code == "cooking_before_freeze"
    assert "after the last departure wave (12:45)" in str(refused.value.problems)
