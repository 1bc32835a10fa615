"""The shortcuts that keep a 100,000-booking plan fast change nothing a sheet shows.

Units with equal contents share one contents mapping, a unit given several lines gets its
own merged copy, full boxes of one item share a tuple, and the records are msgspec Structs:
each is checked here against the straightforward way of doing it.
"""

from collections import Counter
from datetime import timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kitchen_builders import (
    PARAMS,
    RECIPES,
    at,
    demo_departures,
    demo_order_lines,
    expected_portions,
    home,
    home_line,
)
from test_kitchen_packing import packed_portions

from kitchen import (
    DietVariant,
    HomeDeliveryLabel,
    ProductionPlan,
    StopTiming,
    plan_production,
)
from kitchen.packing import _Layouts
from kitchen.result import BoxItem, LabelItem
from kitchen.waves import _latest_free_unit


def _label_items(plan: ProductionPlan) -> dict[str, Counter]:
    return {
        label.delivery_id: Counter({(i.dish_id, i.variant): i.portions for i in label.items})
        for label in plan.labels
    }


def test_a_delivery_with_two_lines_does_not_change_its_neighbours_sharing_contents() -> None:
    h1, h2 = home("V2-1", "H1", 1), home("V2-1", "H2", 2)
    lines = [
        home_line(h1, "D1"),
        home_line(h2, "D2"),
        home_line(h1, "D3"),
        home_line(h1, "D1", dish_ids=("rice",)),  # D1 again: its contents are no longer D2's
        home_line(h2, "D2", portions=0),  # nothing, and changes nothing
    ]
    plan = plan_production(lines, RECIPES, demo_departures(), PARAMS)
    items = _label_items(plan)
    assert items["D2"] == items["D3"]
    assert items["D1"] == items["D2"] + Counter({("rice", DietVariant.REGULAR): 1})
    assert packed_portions(plan) == expected_portions(lines)


def test_the_same_line_twice_for_one_delivery_doubles_it() -> None:
    h1 = home("V2-1", "H1", 1)
    once = plan_production([home_line(h1, "D1")], RECIPES, demo_departures(), PARAMS)
    twice = plan_production([home_line(h1, "D1")] * 2, RECIPES, demo_departures(), PARAMS)
    assert _label_items(twice)["D1"] == Counter(
        {key: 2 * n for key, n in _label_items(once)["D1"].items()}
    )
    assert twice.total_portions == 2 * once.total_portions


def _fill_portion_by_portion(items: list[LabelItem], capacity: int) -> list[tuple[BoxItem, ...]]:
    """The obvious packing: one portion at a time, a new box when the open one is full."""
    if not items:
        return []  # nothing of this kind: no empty box is packed
    boxes: list[Counter] = [Counter()]
    order: list[list[str]] = [[]]
    for item in items:
        for _ in range(item.portions):
            if sum(boxes[-1].values()) == capacity:
                boxes.append(Counter())
                order.append([])
            if not boxes[-1][item.dish_id]:
                order[-1].append(item.dish_id)
            boxes[-1][item.dish_id] += 1
    names = {item.dish_id: item.dish_name for item in items}
    return [
        tuple(BoxItem(dish_id=d, dish_name=names[d], portions=box[d]) for d in dish_order)
        for box, dish_order in zip(boxes, order, strict=True)
    ]


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=15),
    portions=st.lists(st.integers(min_value=1, max_value=60), max_size=5),
)
def test_boxes_are_filled_exactly_as_portion_by_portion(capacity: int, portions: list[int]) -> None:
    items = [
        LabelItem(dish_id=f"d{n}", dish_name=f"dish {n}", variant=DietVariant.REGULAR, portions=p)
        for n, p in enumerate(portions)
    ]
    assert _Layouts({}, capacity)._fill(items, capacity) == _fill_portion_by_portion(
        items, capacity
    )


def test_latest_free_unit_prefers_an_unused_unit_then_the_first_latest() -> None:
    assert _latest_free_unit([at(9, 0), None, None]) == 1
    assert _latest_free_unit([at(9, 0), at(10, 0), at(10, 0)]) == 1


def test_eating_time_is_the_later_of_the_stated_time_and_the_arrival() -> None:
    departs = at(10, 0)
    assert StopTiming(stop_id="S", eating_at=at(11, 0)).eating_time(departs) == at(11, 0)
    assert StopTiming(stop_id="S", travel_time=timedelta(minutes=30)).eating_time(departs) == at(
        10, 30
    )
    both = StopTiming(stop_id="S", eating_at=at(10, 20), travel_time=timedelta(minutes=30))
    assert both.eating_time(departs) == at(10, 30)
    late = StopTiming(stop_id="S", eating_at=at(11, 0), travel_time=timedelta(minutes=30))
    assert late.eating_time(departs) == at(11, 0)


def test_records_are_immutable_and_round_trip_through_json() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    with pytest.raises(AttributeError):
        plan.total_portions = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        plan.labels[0].name = "someone else"  # type: ignore[misc]
    with pytest.raises(TypeError):
        HomeDeliveryLabel("D1")  # type: ignore[misc]  # keyword-only, as before
    assert msgspec.json.decode(msgspec.json.encode(plan), type=ProductionPlan) == plan
