"""The scheduled jobs on the seeded district, run the way the worker runs them (`run_once`)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from meals.clock import Clock
from meals.jobs.models import JobRun
from meals.jobs.tasks import JobContext, run_once
from meals.settlement.models import SettlementMonth
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
