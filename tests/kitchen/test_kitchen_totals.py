"""The plan sums exactly to the order lines: by dish, variant, destination and in total."""

from collections import Counter

import pytest
from kitchen_builders import (
    PARAMS,
    RECIPES,
    demo_departures,
    demo_order_lines,
    expected_portions,
    home,
    home_line,
    site,
    site_line,
)

from kitchen import DestinationKind, DietVariant, ProductionPlan, plan_production


@pytest.fixture(scope="module")
def demo_plan() -> ProductionPlan:
    return plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)


def test_total_portions_equal_bookings(demo_plan: ProductionPlan) -> None:
    expected = expected_portions(demo_order_lines())
    assert demo_plan.total_portions == sum(expected.values())
    assert demo_plan.total_portions == 350


def test_portions_by_dish_and_variant(demo_plan: ProductionPlan) -> None:
    expected: Counter = Counter()
    for (_, _, _, dish_id, variant), portions in expected_portions(demo_order_lines()).items():
        expected[(dish_id, variant)] += portions
    actual = {(line.dish_id, line.variant): line.portions for line in demo_plan.dishes}
    assert actual == dict(expected)
    assert actual[("braised_pork", DietVariant.HALAL)] == 5
    assert actual[("rice", DietVariant.HALAL)] == 6
    assert actual[("rice", DietVariant.PUREE)] == 4
    assert ("rice", DietVariant.LOW_SUGAR) in actual
    assert ("tomato_egg", DietVariant.LOW_SUGAR) not in actual


def test_portions_by_destination(demo_plan: ProductionPlan) -> None:
    expected: Counter = Counter()
    for key, portions in expected_portions(demo_order_lines()).items():
        departure_id, stop_id, delivery_id, dish_id, variant = key
        destination = departure_id if delivery_id else stop_id
        expected[(destination, dish_id, variant)] += portions
    actual = {
        (line.destination.destination_id, line.dish_id, line.variant): line.portions
        for line in demo_plan.destinations
    }
    assert actual == dict(expected)
    kinds = {
        line.destination.destination_id: line.destination.kind for line in demo_plan.destinations
    }
    assert kinds == {
        "S1": DestinationKind.SITE,
        "S2": DestinationKind.SITE,
        "V2-1": DestinationKind.HOME,
    }


def test_special_diets_come_first_on_the_production_sheet(demo_plan: ProductionPlan) -> None:
    ranks = [line.variant.display_rank for line in demo_plan.dishes]
    assert ranks == sorted(ranks)
    assert demo_plan.dishes[0].variant is DietVariant.HALAL
    assert demo_plan.dishes[-1].variant is DietVariant.REGULAR


def test_allergens_follow_the_variant_recipe(demo_plan: ProductionPlan) -> None:
    allergens = {(line.dish_id, line.variant): line.allergens for line in demo_plan.dishes}
    assert allergens[("braised_pork", DietVariant.REGULAR)] == {"soy"}
    assert allergens[("braised_pork", DietVariant.HALAL)] == frozenset()
    assert allergens[("tomato_egg", DietVariant.REGULAR)] == {"egg"}


def test_every_sheet_is_consistent_with_the_total(demo_plan: ProductionPlan) -> None:
    batch_portions = sum(batch.portions for batch in demo_plan.batches)
    packed = sum(stop.portions for van in demo_plan.packing for stop in van.stops)
    labelled = sum(item.portions for label in demo_plan.labels for item in label.items)
    home_portions = sum(
        line.portions
        for line in demo_plan.destinations
        if line.destination.kind is DestinationKind.HOME
    )
    assert batch_portions == packed == demo_plan.total_portions
    assert labelled == home_portions == 19


def test_empty_input_gives_an_empty_feasible_plan() -> None:
    plan = plan_production([], RECIPES, demo_departures(), PARAMS)
    assert plan.total_portions == 0
    assert plan.is_feasible
    for sheet in (plan.dishes, plan.destinations, plan.ingredients, plan.batches):
        assert sheet == ()
    assert (plan.waves, plan.samples, plan.packing, plan.labels) == ((), (), (), ())


def test_zero_portion_lines_leave_no_trace() -> None:
    lines = [
        site_line(site("V1-1", "S1"), 0, DietVariant.HALAL),
        home_line(home("V2-1", "H1"), "D1", portions=0),
        site_line(site("V1-1", "S2"), 3, dish_ids=("rice",)),
    ]
    plan = plan_production(lines, RECIPES, demo_departures(), PARAMS)
    assert [(line.dish_id, line.variant, line.portions) for line in plan.dishes] == [
        ("rice", DietVariant.REGULAR, 3)
    ]
    assert plan.labels == ()
    assert [stop.stop_id for van in plan.packing for stop in van.stops] == ["S2"]


def test_split_lines_of_one_stop_are_merged() -> None:
    s1 = site("V1-1", "S1")
    plan = plan_production(
        [site_line(s1, 2), site_line(s1, 5), site_line(s1, 1, DietVariant.PUREE)],
        RECIPES,
        demo_departures(),
        PARAMS,
    )
    portions = {(line.dish_id, line.variant): line.portions for line in plan.dishes}
    assert portions[("rice", DietVariant.REGULAR)] == 7
    assert portions[("rice", DietVariant.PUREE)] == 1
    assert plan.total_portions == 24
