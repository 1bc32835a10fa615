"""A van out of service moves its own stops and few others: the re-plan keeps each other van's
runs on it (``routing.keep_vehicles``), so drivers keep their run and labels keep their van,
departure and stop.

Measured on this test's day (seeded test district, 500 search steps, SQLite): without keeping,
the re-plan put all 21 van stops not on VAN-01 on another van and ``label_changes()`` named
16 of 16 home labels, each on another van; with it, 21 of 21 stay and only VAN-01's 6 labels
go to another van (a spare, the same run). ``label_changes()`` still names 14 of 16 (the demo
day: 320 of 329): box numbers run over the whole plan in departure and van order, so VAN-01's
boxes leaving the front renumber every box after them (docs/routing-benchmark.md, "A van
out")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from meals.deliveries.models import RouteRun, RouteStop
from meals.production import day as one_plan
from meals.production import service
from meals.settings import Settings
from meals.words import Slot
from tests.conftest import NOW, TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions
from tests.production.conftest import book_lunches, replan_lunch_without

STEPS = 500
"""Search steps per plan: the same plans on any machine (the time limit never binds)."""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        quick(settings_for(database_url, tmp_path)),
        delivery_solver_seconds=120.0,
        delivery_solver_steps=STEPS,
    )


@pytest.fixture
async def lunches(db: Sessions) -> int:
    return await book_lunches(db)


async def _vans(db: Sessions, plan_id: int) -> dict[str, str]:
    async with db() as session:
        return dict(
            (
                await session.execute(
                    select(RouteStop.stop_key, RouteRun.van_code)
                    .join(RouteRun, RouteRun.id == RouteStop.run_id)
                    .where(RouteStop.plan_id == plan_id)
                )
            ).all()
        )


async def test_a_van_out_keeps_the_other_vans_runs_and_most_labels(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    async with db() as session:
        first = await one_plan.freeze_day(
            session, settings=settings, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
        )
    before = await _vans(db, first.route_plan.id)
    out = min(before.values())
    second = await replan_lunch_without(db, settings, out)
    after = await _vans(db, second.route_plan.id)
    assert out not in after.values()
    others = [key for key, van in before.items() if van != out]
    kept = sum(1 for key in others if after.get(key) == before[key])
    print(f"stops kept on their van: {kept} of {len(others)}")
    assert kept >= 0.8 * len(others)

    first_plan, second_plan = service.plan_of(first.run), service.plan_of(second.run)
    moved = one_plan.label_changes(first_plan, second_plan)
    # the van, departure or stop printed on a label: only the out van's labels move
    placed = [
        change
        for change in moved
        if change.before is None
        or change.after is None
        or dataclasses.replace(change.before, boxes=())
        != dataclasses.replace(change.after, boxes=())
    ]
    on_out = {int(label.delivery_id) for label in first_plan.labels if label.van_id == out}
    print(
        f"labels moved: {len(moved)} of {len(first_plan.labels)}; placed elsewhere: {len(placed)}"
    )
    assert on_out and {change.booking_id for change in placed} <= on_out
