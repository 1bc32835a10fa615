"""A paused standing order is never cooked: its dates make no bookings, so no portions."""

from __future__ import annotations

from datetime import timedelta

from meals.accounts.service import Actor
from meals.production import service
from meals.settings import Settings
from meals.standing_orders.service import StandingOrderTerms, save_standing_order
from meals.words import Fulfilment, Role, Slot
from tests.conftest import NOW, TODAY
from tests.meals.helpers import Sessions, canteen, senior_at

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
        async with db() as session:
            outcome = await service.compute_plan(
                session, settings=settings, service_date=day, slot=Slot.LUNCH
            )
        portions[day] = (outcome.bookings_counted, outcome.plan.total_portions)

    assert portions[paused_day] == (0, 0)
    assert portions[next_day] == (1, DISHES_PER_SET_MEAL)
