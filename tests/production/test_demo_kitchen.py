"""The demo kitchen's shape plans the day within the food-safety rule: a few large pans,
kettles and steamers for the regular food and a row of small pots for the small, separately
cooked diet batches (halal, allergen-free). Without the small pots those batches hold the
large pans for whole cooks and the day is refused; with them it is planned with no stop
unserved, every box eaten within the limit and cooking after the freeze.

The seeded test district is small, so its kitchen is scaled down to match: two units of each
large kind, as the demo district's ~1,700 lunches load the demo kitchen's six or more."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from meals.deliveries.models import RouteStop
from meals.production import commands as kitchen_commands
from meals.production import day as one_plan
from meals.production import service
from meals.settings import DEFAULT_KITCHEN_EQUIPMENT, Settings
from meals.words import Slot
from tests.conftest import NOW, TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions
from tests.production.conftest import book_lunches

SMALL_POT = "small_pot"


def _scaled_kitchen(settings: Settings) -> Settings:
    """Two units of every large kind, the demo's small pots as they are."""
    return dataclasses.replace(
        settings,
        kitchen_equipment=tuple(
            item if item.kind == SMALL_POT else dataclasses.replace(item, units=2)
            for item in DEFAULT_KITCHEN_EQUIPMENT
        ),
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _scaled_kitchen(quick(settings_for(database_url, tmp_path)))


@pytest.fixture
async def lunches(db: Sessions) -> int:
    return await book_lunches(db)


async def test_the_demo_kitchen_plans_the_day_within_the_limit(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    assert settings.kitchen_small_batch_equipment == SMALL_POT
    async with db() as session:
        planned = await one_plan.freeze_day(
            session, settings=settings, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
        )
        unserved = list(
            await session.scalars(
                select(RouteStop.stop_key).where(
                    RouteStop.plan_id == planned.route_plan.id,
                    RouteStop.unserved_reason.is_not(None),
                )
            )
        )
    assert unserved == []
    plan = service.plan_of(planned.run)
    small = [batch for batch in plan.batches if batch.equipment_kind == SMALL_POT]
    assert small, "the separately cooked diet batches go to the small pots"
    capacity = {item.kind: item.portions_per_batch for item in settings.kitchen_equipment}
    for batch in small:
        assert batch.portions <= capacity[SMALL_POT]
        assert "regular" not in batch.variants
    assert min(batch.cook_start for batch in plan.batches) >= NOW
    labels = list(
        csv.DictReader(
            io.StringIO(
                (
                    await kitchen_commands.labels_command(
                        settings, service_date=TODAY, slot="lunch"
                    )
                ).decode()
            )
        )
    )
    assert labels
    for row in labels:
        assert 0 < int(row["cook_to_eat_minutes"]) <= int(row["limit_minutes"]), row
        assert datetime.fromisoformat(row["cooked_at"]) > NOW


async def test_without_small_pots_the_same_day_is_refused(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    no_small_pots = dataclasses.replace(settings, kitchen_small_batch_equipment=None)
    async with db() as session:
        with pytest.raises(service.PlanRefused) as refused:
            await one_plan.freeze_day(
                session,
                settings=no_small_pots,
                service_date=TODAY,
                slot=Slot.LUNCH,
                actor=None,
                now=NOW,
            )
        assert await service.latest_run(session, TODAY, Slot.LUNCH) is None
    assert "limit" in refused.value.text
