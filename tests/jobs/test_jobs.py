"""The scheduled jobs on the seeded district, run the way the worker runs them (`run_once`)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from meals.clock import Clock
from meals.jobs.models import JobRun
from meals.jobs.tasks import JobContext, run_once
from meals.settlement.models import SettlementMonth
from meals.words import Role
from tests.conftest import NOW


async def test_the_ended_month_is_closed_once_after_the_configured_days(db, settings):
    early = JobContext(settings=settings, sessions=db, clock=Clock(NOW.replace(day=3)))
    # 3 November: October ended two days ago; closing waits five.
    assert await run_once(early, "close_ended_month", "tick-1") == "not yet due"
    ctx = JobContext(settings=settings, sessions=db, clock=Clock(NOW))
    assert await run_once(ctx, "close_ended_month", "tick-2") == "closed 2026-10"
    assert await run_once(ctx, "close_ended_month", "tick-2") is None  # the tick ran already
    assert await run_once(ctx, "close_ended_month", "tick-3") == "already closed"
    async with db() as s:
        months = list(await s.scalars(select(SettlementMonth)))
        runs = list(await s.scalars(select(JobRun).order_by(JobRun.id)))
    assert [(m.month_start, m.closed_by_name) for m in months] == [
        (date(2026, 10, 1), "system (scheduled job)")
    ]
    assert [r.run_key for r in runs] == ["tick-1", "tick-2", "tick-3"]
    assert all(r.finished_at is not None for r in runs)


async def test_a_failed_run_gives_its_tick_back(db, settings):
    broken = JobContext(
        settings=settings.__class__(**{**settings.__dict__, "menu_publish_weeks_ahead": -(10**6)}),
        sessions=db,
        clock=Clock(NOW),
    )
    try:
        await run_once(broken, "publish_menus", "tick-9")
    except (OverflowError, ValueError):
        pass
    else:  # pragma: no cover - the window above cannot be computed
        raise AssertionError("an impossible window was published")
    ctx = JobContext(settings=settings, sessions=db, clock=Clock(NOW + timedelta(days=1)))
    assert (await run_once(ctx, "publish_menus", "tick-9")).endswith("menus published")


async def test_after_the_last_cutoff_the_day_is_planned_once_and_its_sheets_are_ready(
    client, db, settings
):
    from dataclasses import replace

    from tests.meals.helpers import canteen, login_as, meal, senior_at

    site = await canteen(db)
    lunch = await meal(db, site.id, NOW.date())
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    for nth in range(2):
        senior = await senior_at(db, site.id, nth)
        booked = await client.post(
            "/api/v1/bookings",
            json={"senior_id": senior.id, "menu_item_id": lunch.item_id, "fulfilment": "dine_in"},
        )
        assert booked.status_code == 201, booked.text

    from kitchen import Sheet
    from meals.deliveries.models import RoutePlanRecord
    from meals.production.models import ProductionRun
    from meals.words import Slot

    fast = replace(settings, delivery_solver_seconds=1.0)
    before = JobContext(settings=fast, sessions=db, clock=Clock(NOW))  # 07:00: canteens book on
    assert await run_once(before, "plan_after_cutoff", "t1") == (
        "0 of 0 due slots planned, 0 sheets rendered"
    )
    after = JobContext(settings=fast, sessions=db, clock=Clock(NOW + timedelta(hours=2)))

    first = await run_once(after, "plan_after_cutoff", "t2")
    again = await run_once(after, "plan_after_cutoff", "t3")  # a later tick, or a restart

    assert first == f"1 of 1 due slots planned, {len(Sheet)} sheets rendered"
    assert again == "0 of 0 due slots planned, 0 sheets rendered"
    async with db() as s:
        runs = list(await s.scalars(select(ProductionRun)))
        claims = list(await s.scalars(select(JobRun).where(JobRun.task == "freeze_day")))
        routed = await s.get(RoutePlanRecord, runs[0].route_plan_id)
    assert [(r.service_date, r.slot, r.frozen_by_account_id) for r in runs] == [
        (NOW.date(), Slot.LUNCH, None)
    ]
    assert routed is not None  # routes first, then the kitchen's waves packed for them
    assert [c.run_key for c in claims] == [f"{NOW.date().isoformat()}:lunch"]
    assert len(list(fast.pdf_cache_dir.glob("*.pdf"))) == len(Sheet)
