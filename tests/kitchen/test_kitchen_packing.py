"""Packing: boxes within capacity, every portion packed once, special diets first, labels."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from kitchen_builders import (
    EQUIPMENT,
    PARAMS,
    RECIPES,
    SET_MEAL,
    demo_departures,
    demo_order_lines,
    expected_portions,
    home,
    home_line,
    site,
    site_line,
)

from kitchen import (
    DestinationKind,
    DietVariant,
    Equipment,
    KitchenParams,
    OrderLine,
    ProductionPlan,
    plan_production,
)

ORDERABLE = [v for v in DietVariant if v is not DietVariant.ALLERGEN_FREE]
ROOMY_EQUIPMENT = Equipment(units=50, max_portions_per_batch=500)


def packed_portions(plan: ProductionPlan) -> Counter:
    packed: Counter = Counter()
    for van in plan.packing:
        for stop in van.stops:
            for box in stop.boxes:
                for item in box.items:
                    key = (van.departure_id, stop.stop_id, box.delivery_id, item.dish_id)
                    packed[(*key, box.variant)] += item.portions
    return packed


def test_demo_packing_lists_by_van_and_stop_in_delivery_order() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    assert [(van.van_id, [stop.stop_id for stop in van.stops]) for van in plan.packing] == [
        ("V1", ["S1", "S2"]),
        ("V2", ["H1", "H2", "H3"]),
    ]
    assert packed_portions(plan) == expected_portions(demo_order_lines())


def test_special_diet_boxes_come_first_at_each_site() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    s1 = plan.packing[0].stops[0]
    variants = [box.variant for box in s1.boxes]
    assert variants[:3] == [DietVariant.HALAL, DietVariant.PUREE, DietVariant.LOW_SALT]
    assert variants[-1] is DietVariant.REGULAR
    assert [
        box.box_number for van in plan.packing[:1] for s in van.stops for box in s.boxes
    ] == list(range(1, 1 + sum(len(s.boxes) for s in plan.packing[0].stops)))


def test_one_label_per_home_delivery_special_diets_first() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    assert sorted(label.delivery_id for label in plan.labels) == [
        "D100",
        "D101",
        "D102",
        "D103",
        "D104",
    ]
    specials = [label.is_special for label in plan.labels]
    assert specials == sorted(specials, reverse=True)
    assert [label.delivery_id for label in plan.labels[:3]] == ["D101", "D102", "D103"]
    by_id = {label.delivery_id: label for label in plan.labels}
    assert by_id["D101"].texture == "IDDSI 4 泥状"
    assert by_id["D101"].variants == (DietVariant.PUREE,)
    assert by_id["D103"].diet_notes == "高血压"
    assert by_id["D102"].name == "senior D102"
    assert by_id["D102"].address == "D102 幸福路"
    assert {(item.dish_id, item.portions) for item in by_id["D102"].items} == {
        ("rice", 2),
        ("braised_pork", 1),
        ("tomato_egg", 1),
    }
    assert by_id["D102"].allergens == {"egg"}
    assert by_id["D104"].van_id == "V2"


def test_labels_point_at_their_boxes() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    boxes = {
        box.box_number: box
        for van in plan.packing
        if van.van_id == "V2"
        for stop in van.stops
        for box in stop.boxes
    }
    for label in plan.labels:
        assert label.box_numbers
        assert all(boxes[number].delivery_id == label.delivery_id for number in label.box_numbers)
        label_portions = sum(item.portions for item in label.items)
        assert label_portions == sum(boxes[number].portions for number in label.box_numbers)


@st.composite
def packing_scenarios(draw: st.DrawFn) -> tuple[list[OrderLine], int]:
    lines: list[OrderLine] = []
    for stop_id in ("S1", "S2"):
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            lines.append(
                site_line(
                    site("V1-1", stop_id, int(stop_id[1])),
                    draw(st.integers(min_value=0, max_value=60)),
                    draw(st.sampled_from(ORDERABLE)),
                    dish_ids=draw(st.sampled_from([SET_MEAL, ("rice",), ("tomato_egg",)])),
                )
            )
    deliveries = draw(st.integers(min_value=0, max_value=8))
    for number in range(deliveries):
        stop_id = draw(st.sampled_from(["H1", "H2", "H3"]))
        lines.append(
            home_line(
                home("V2-1", stop_id, int(stop_id[1])),
                f"D{number}",
                draw(st.sampled_from(ORDERABLE)),
                portions=draw(st.integers(min_value=1, max_value=3)),
                texture=draw(st.sampled_from(["", "IDDSI 5 软质"])),
            )
        )
    return lines, draw(st.integers(min_value=1, max_value=15))


@settings(max_examples=100, deadline=None)
@given(packing_scenarios())
def test_every_portion_packed_exactly_once_within_capacity(
    scenario: tuple[list[OrderLine], int],
) -> None:
    lines, capacity = scenario
    roomy_kitchen = KitchenParams(
        equipment={kind: ROOMY_EQUIPMENT for kind in EQUIPMENT},
        box_capacity_portions=capacity,
    )
    plan = plan_production(lines, RECIPES, demo_departures(), roomy_kitchen, allow_violations=True)
    assert packed_portions(plan) == expected_portions(lines)
    for van in plan.packing:
        for stop in van.stops:
            for box in stop.boxes:
                assert 0 < box.portions <= capacity
            if stop.kind is DestinationKind.SITE:
                ranks = [box.variant.display_rank for box in stop.boxes]
                assert ranks == sorted(ranks)
            else:
                assert all(box.delivery_id for box in stop.boxes)
    deliveries = {line.recipient.delivery_id for line in lines if line.recipient}
    assert sorted(label.delivery_id for label in plan.labels) == sorted(deliveries)
    specials = [label.is_special for label in plan.labels]
    assert specials == sorted(specials, reverse=True)
