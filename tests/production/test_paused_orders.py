"""A paused standing order is never cooked: its dates make no bookings, so no portions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from meals.accounts.service import Actor
from meals.settings import Settings
from meals.standing_orders.service import StandingOrderTerms, save_standing_order
from meals.words import Fulfilment, Role, Slot
from tests.conftest import NOW, TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions, canteen, senior_at
from tests.production.conftest import frozen_plan


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick(settings_for(database_url, tmp_path))


WEEKDAYS = frozenset(range(5))
DISHES_PER_SET_MEAL = 4


async def test_paused_days_are_not_in_the_plan_and_the_others_are(
    db: Sessions, settings: Settings
) -> None:
    paused_day = TODAY + timedelta(days=1)
    next_day = TODAY + timedelta(days=2)
    site = await canteen(db)
    senior = await senior_at(db, site.id)
    admin = Actor(account_id=1, role=Role.ADMIN)
    terms = StandingOrderTerms(
        slot=Slot.LUNCH,
        item_code="A",
        fulfilment=Fulfilment.DINE_IN,
        weekdays=WEEKDAYS,
        paused_from=paused_day,
        paused_to=paused_day,
    )
    async with db() as session:
        await save_standing_order(
            session, actor=admin, senior_id=senior.id, terms=terms, now=NOW, settings=settings
        )

    portions = {}
    for day in (paused_day, next_day):
        counted, plan = await frozen_plan(db, settings, day)
        portions[day] = (counted, plan.total_portions)

    assert portions[paused_day] == (0, 0)
    assert portions[next_day] == (1, DISHES_PER_SET_MEAL)
