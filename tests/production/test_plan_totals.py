"""The plan adds up to the bookings exactly: by dish, variant, site and in total."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from kitchen import DestinationKind
from meals.bookings.models import Booking
from meals.menus.models import MenuItemDish
from meals.production.adapter import site_stop_id
from meals.settings import Settings
from meals.words import BookingStatus, Fulfilment, Slot, Variant
from tests.conftest import TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions
from tests.production.conftest import frozen_plan


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick(settings_for(database_url, tmp_path))


async def _booked_dishes(db: Sessions) -> list[tuple[int, str, int, bool, int]]:
    """(booking id, variant, site id, home delivery?, dish id) of every dish actually booked."""
    async with db() as session:
        rows = await session.execute(
            select(
                Booking.id,
                Booking.variant,
                Booking.site_id,
                Booking.fulfilment,
                MenuItemDish.dish_id,
            )
            .join(MenuItemDish, MenuItemDish.menu_item_id == Booking.menu_item_id)
            .where(
                Booking.service_date == TODAY,
                Booking.slot == Slot.LUNCH,
                Booking.status != BookingStatus.CANCELLED,
            )
        )
        return [
            (b, v.value, site, fulfilment is Fulfilment.DELIVERY, dish)
            for b, v, site, fulfilment, dish in rows
        ]


async def test_plan_sums_to_bookings_by_dish_variant_site_and_total(
    db: Sessions, settings: Settings, lunch_booked: list[int]
) -> None:
    booked = await _booked_dishes(db)
    cancelled = set(lunch_booked)
    assert not cancelled & {row[0] for row in booked}, "cancelled bookings must not be cooked"
    counted, plan = await frozen_plan(db, settings)

    assert plan.total_portions == len(booked)
    assert counted == len({row[0] for row in booked})
    by_dish_variant = Counter((str(dish), variant) for _, variant, _, _, dish in booked)
    assert {(d.dish_id, d.variant.value): d.portions for d in plan.dishes} == by_dish_variant

    site_drops = Counter(
        (site_stop_id(site), str(dish), variant)
        for _, variant, site, home, dish in booked
        if not home
    )
    planned_sites = {
        (line.destination.destination_id, line.dish_id, line.variant.value): line.portions
        for line in plan.destinations
        if line.destination.kind is DestinationKind.SITE
    }
    assert planned_sites == site_drops
    home_portions = sum(1 for row in booked if row[3])
    assert home_portions, "the demo lunch must include home deliveries"
    assert (
        sum(
            line.portions
            for line in plan.destinations
            if line.destination.kind is DestinationKind.HOME
        )
        == home_portions
    )

    delivered = {row[0] for row in booked if row[3]}
    assert {int(label.delivery_id) for label in plan.labels} == delivered
    assert sum(item.portions for label in plan.labels for item in label.items) == home_portions
    packed = sum(box.portions for van in plan.packing for stop in van.stops for box in stop.boxes)
    assert packed == plan.total_portions
    assert all(
        box.portions <= settings.kitchen_box_capacity_portions
        for van in plan.packing
        for stop in van.stops
        for box in stop.boxes
    )


async def test_special_diets_come_first_and_match_the_seniors(
    db: Sessions, settings: Settings, lunch_booked: list[int]
) -> None:
    _, plan = await frozen_plan(db, settings)
    variants = [line.variant for line in plan.dishes]
    specials = [v for v in variants if v.is_special]
    assert specials, "the demo lunch must include special diets"
    assert variants[: len(specials)] == specials, "special diets lead the production sheet"
    texture_labels = [label for label in plan.labels if label.texture]
    for label in texture_labels:
        assert label.is_special
        assert any(v.value in {Variant.SOFT, Variant.MINCED, Variant.PUREE} for v in label.variants)
    first_regular = next((i for i, label in enumerate(plan.labels) if not label.is_special), None)
    if first_regular is not None:
        assert all(not label.is_special for label in plan.labels[first_regular:])
    assert len(plan.samples) == len(plan.batches)
    assert all(sample.grams >= settings.kitchen_sample_grams for sample in plan.samples)
