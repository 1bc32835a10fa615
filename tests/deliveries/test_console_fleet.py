"""The operator's console is what planning reads: a van retired there is not sent out, and the
kitchen's departure waves set there are the times the vans leave."""

from __future__ import annotations

import random
from datetime import time

from sqlalchemy import select

from meals.deliveries.models import RouteRun
from meals.production import day as one_plan
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Van
from meals.words import Role, Slot
from seed.demo import BOOKING_PROFILE_COLUMNS, seed_bookings
from tests.conftest import NOW, TODAY
from tests.meals.helpers import Sessions, login_as

SENIORS_BOOKED = 80
"""A small day (a few sites and homes), so the plan takes a second, not the demo's ten."""


async def _book_a_small_day(db: Sessions) -> None:
    async with db() as session:
        seniors = (await session.scalars(select(Senior).order_by(Senior.id))).all()
        rows = [
            {column: getattr(s, column) for column in BOOKING_PROFILE_COLUMNS}
            for s in seniors[:SENIORS_BOOKED]
        ]
        await seed_bookings(session, random.Random(3), rows, start=TODAY, days=1, now=NOW)
        await session.commit()


async def _plan_runs(db: Sessions, settings: Settings) -> list[RouteRun]:
    async with db() as session:
        plan = await one_plan.plan_routes(
            session,
            settings=settings,
            service_date=TODAY,
            slot=Slot.LUNCH,
            actor=None,
            now=NOW,
        )
        return list(await session.scalars(select(RouteRun).where(RouteRun.plan_id == plan.id)))


def _first_trips(runs: list[RouteRun], settings: Settings) -> set[time]:
    return {
        run.departs_at.astimezone(settings.district_zone).time()
        for run in runs
        if run.trip_number == 1
    }


async def test_a_van_retired_in_the_console_is_not_sent_out_by_the_next_plan(
    client, db: Sessions, settings: Settings
) -> None:
    await _book_a_small_day(db)
    before = await _plan_runs(db, settings)
    used = sorted({run.van_code for run in before})
    assert used, "the small day needs at least one van"
    await login_as(client, db, Role.ADMIN)
    async with db() as session:
        ids = dict((await session.execute(select(Van.code, Van.id))).all())
    for code in used:
        retired = await client.post(f"/api/v1/vans/{ids[code]}/deactivate")
        assert retired.status_code == 200, retired.text

    after = await _plan_runs(db, settings)

    assert after, "the vans still in service carry the day"
    assert not {run.van_code for run in after} & set(used)
    dispatch = await client.get(
        "/dispatch", params={"service_date": TODAY.isoformat(), "slot": "lunch"}
    )
    assert dispatch.status_code == 200
    for code in used:
        assert f'value="{code}"' not in dispatch.text  # not offered to take out of service


async def test_the_plan_leaves_on_the_waves_the_operator_sets(
    client, db: Sessions, settings: Settings
) -> None:
    await _book_a_small_day(db)
    before = _first_trips(await _plan_runs(db, settings), settings)
    assert before <= set(settings.kitchen_lunch_departures)
    await login_as(client, db, Role.ADMIN)
    for departs_at in ("10:25:00", "11:10:00"):
        added = await client.post("/api/v1/waves", json={"slot": "lunch", "departs_at": departs_at})
        assert added.status_code == 201, added.text

    runs = await _plan_runs(db, settings)

    # a van's first trip leaves on a wave; a second one once the van is back and reloaded
    assert _first_trips(runs, settings) <= {time(10, 25), time(11, 10)}
    leaves = {run.departs_at.astimezone(settings.district_zone).time() for run in runs}
    assert min(leaves) == time(10, 25)
    assert not leaves & set(settings.kitchen_lunch_departures)
