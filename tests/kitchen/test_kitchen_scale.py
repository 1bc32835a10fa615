"""A district-sized day: pre-aggregated site lines plus thousands of home deliveries."""

from datetime import timedelta

from kitchen_builders import (
    RECIPES,
    SET_MEAL,
    at,
    expected_portions,
    home,
    home_line,
    site,
    site_line,
)

from kitchen import Departure, DietVariant, Equipment, KitchenParams, StopTiming, plan_production

HOME_VANS = 20
HOMES_PER_VAN = 150
SITE_VANS = 4
SITES_PER_VAN = 5
VARIANTS = [v for v in DietVariant if v is not DietVariant.ALLERGEN_FREE]


def test_large_day_is_planned_consistently() -> None:
    departures = []
    lines = []
    for van in range(HOME_VANS):
        departure_id = f"H{van}"
        departures.append(
            Departure(
                departure_id=departure_id,
                van_id=f"HV{van}",
                departs_at=at(10, 30),
                holding_celsius=65.0,
                stops=tuple(
                    StopTiming(
                        stop_id=f"{departure_id}-{stop}", travel_time=timedelta(minutes=stop // 2)
                    )
                    for stop in range(HOMES_PER_VAN)
                ),
            )
        )
        lines.extend(
            home_line(
                home(departure_id, f"{departure_id}-{stop}", stop),
                f"{departure_id}-{stop}",
                VARIANTS[stop % len(VARIANTS)],
            )
            for stop in range(HOMES_PER_VAN)
        )
    for van in range(SITE_VANS):
        departure_id = f"S{van}"
        departures.append(
            Departure(
                departure_id=departure_id,
                van_id=f"SV{van}",
                departs_at=at(10, 45),
                stops=tuple(
                    StopTiming(stop_id=f"{departure_id}-{stop}", eating_at=at(11, 30))
                    for stop in range(SITES_PER_VAN)
                ),
            )
        )
        lines.extend(
            site_line(site(departure_id, f"{departure_id}-{stop}", stop), 20 + stop, variant)
            for stop in range(SITES_PER_VAN)
            for variant in VARIANTS
        )
    params = KitchenParams(
        equipment={
            "wok": Equipment(units=30, max_portions_per_batch=200),
            "steamer": Equipment(units=10, max_portions_per_batch=600),
        }
    )
    plan = plan_production(lines, RECIPES, departures, params)

    expected = expected_portions(lines)
    assert plan.total_portions == sum(expected.values())
    assert len(plan.labels) == HOME_VANS * HOMES_PER_VAN
    packed = sum(stop.portions for van in plan.packing for stop in van.stops)
    assert packed == sum(batch.portions for batch in plan.batches) == plan.total_portions
    assert all(
        box.portions <= params.box_capacity_portions
        for van in plan.packing
        for stop in van.stops
        for box in stop.boxes
    )
    labelled = sum(item.portions for label in plan.labels for item in label.items)
    assert labelled == HOME_VANS * HOMES_PER_VAN * len(SET_MEAL)
