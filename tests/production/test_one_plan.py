"""The plan of the day, as a kitchen worker and a driver would check it: every box label on
the packing list is on the van, departure and stop the route sheet gives, no van is loaded
beyond its hot or cold boxes, every box is eaten within the limit, cooking starts after the
freeze, and a van out of service re-flows labels and packing."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from meals.deliveries import commands as route_commands
from meals.deliveries.models import RouteRun
from meals.production import commands as kitchen_commands
from meals.production import day as one_plan
from meals.production import service
from meals.settings import Settings
from meals.words import Slot
from tests.conftest import NOW, TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions
from tests.production.conftest import book_lunches, replan_lunch_without


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick(settings_for(database_url, tmp_path))


@pytest.fixture
async def lunches(db: Sessions) -> int:
    return await book_lunches(db)


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


async def test_labels_and_route_sheet_agree_within_capacity_and_the_limit(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    async with db() as session:
        planned = await one_plan.freeze_day(
            session, settings=settings, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
        )
    labels = _rows(
        await kitchen_commands.labels_command(settings, service_date=TODAY, slot="lunch")
    )
    sheet = _rows(
        await route_commands.route_sheet_command(settings, service_date=TODAY, slot="lunch")
    )
    assert labels and sheet
    unserved = await _unserved(db, planned)
    assert unserved == [], unserved

    # every label is on the van, departure and stop the route sheet gives: 100 % agreement
    on_sheet = {
        int(label): (row["van"], row["departure"], row["stop_position"], row["stop_id"])
        for row in sheet
        for label in row["labels"].split(";")
        if label
    }
    packed = {
        int(row["label"]): (row["van"], row["departure"], row["stop_position"], row["stop_id"])
        for row in labels
    }
    assert packed == on_sheet
    assert len(packed) == len(labels)  # label numbers are unique over the day

    # the router loaded exactly the boxes the kitchen packs, hot and cold apart
    for row in sheet:
        kinds = [
            labels_row["box_kind"]
            for labels_row in labels
            if labels_row["label"] in row["labels"].split(";")
        ]
        assert kinds.count("hot") == int(row["hot_boxes"]), row
        assert kinds.count("cold") == int(row["cold_boxes"]), row

    # no van is loaded beyond its hot or cold capacity on any trip
    trips: dict[tuple[str, str], list[int]] = {}
    for row in sheet:
        load = trips.setdefault((row["van"], row["departure"]), [0, 0])
        load[0] += int(row["hot_boxes"])
        load[1] += int(row["cold_boxes"])
        assert load[0] <= int(row["van_hot_capacity"])
        assert load[1] <= int(row["van_cold_capacity"])

    # every box is eaten within the limit counted from the end of cooking, after the freeze
    for row in labels:
        assert 0 < int(row["cook_to_eat_minutes"]) <= int(row["limit_minutes"]), row
        assert datetime.fromisoformat(row["cooked_at"]) > NOW
        assert datetime.fromisoformat(row["eta"]).utcoffset() is not None
    plan = service.plan_of(planned.run)
    assert min(batch.cook_start for batch in plan.batches) >= NOW
    assert sum(1 for row in labels if row["booking_ids"]) >= len(plan.labels)


async def test_a_van_out_reflows_labels_and_packing(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    async with db() as session:
        first = await one_plan.freeze_day(
            session, settings=settings, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
        )
        used = sorted(
            set(
                await session.scalars(
                    select(RouteRun.van_code).where(RouteRun.plan_id == first.route_plan.id)
                )
            )
        )
    out = used[0]
    second = await replan_lunch_without(db, settings, out)
    async with db() as session:
        previous = await one_plan.previous_run(session, second.run)
    assert previous is not None and previous.id == first.run.id
    after = service.plan_of(second.run)
    assert all(van.van_id != out for van in after.packing)
    assert second.run.frozen_at == first.run.frozen_at  # the same frozen bookings
    changes = one_plan.label_changes(service.plan_of(first.run), after)
    moved_off = {
        label.delivery_id for label in service.plan_of(first.run).labels if label.van_id == out
    }
    assert moved_off <= {str(change.booking_id) for change in changes}
    labels = _rows(
        await kitchen_commands.labels_command(settings, service_date=TODAY, slot="lunch")
    )
    assert labels and all(row["van"] != out for row in labels)


async def test_a_plan_past_the_limit_is_refused_with_the_box_and_minutes(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    strict = dataclasses.replace(settings, food_safety_limit=settings.kitchen_packing_lead)
    async with db() as session:
        with pytest.raises(service.PlanRefused) as refused:
            await one_plan.freeze_day(
                session, settings=strict, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
            )
        assert await service.latest_run(session, TODAY, Slot.LUNCH) is None
    assert "min" in refused.value.text


async def _unserved(db: Sessions, planned: one_plan.DayPlan) -> list[tuple[str, str | None]]:
    from meals.deliveries.models import RouteStop

    async with db() as session:
        return [
            (stop.stop_key, stop.unserved_detail)
            for stop in await session.scalars(
                select(RouteStop).where(
                    RouteStop.plan_id == planned.route_plan.id,
                    RouteStop.unserved_reason.is_not(None),
                )
            )
        ]
