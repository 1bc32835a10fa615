"""Cooking waves meet the food-safety limit, or the plan says which batch misses by how much."""

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kitchen_builders import (
    BRAISED_PORK,
    EQUIPMENT,
    PARAMS,
    RECIPES,
    SET_MEAL,
    at,
    demo_departures,
    demo_order_lines,
    site,
    site_line,
)

from kitchen import (
    Departure,
    DietVariant,
    Equipment,
    InfeasiblePlanError,
    KitchenParams,
    OrderLine,
    ProductionPlan,
    Recipe,
    StopTiming,
    plan_production,
)

PORK_ONLY = ("braised_pork",)
ORDERABLE_WITH_EGG = [v for v in DietVariant if v is not DietVariant.ALLERGEN_FREE]


def one_stop_departure(
    departs_at: datetime, eating_at: datetime, holding_celsius: float | None = None
) -> Departure:
    return Departure(
        departure_id="D1",
        van_id="V1",
        departs_at=departs_at,
        stops=(StopTiming(stop_id="S1", eating_at=eating_at),),
        holding_celsius=holding_celsius,
    )


def plan_one_stop(
    departure: Departure,
    portions: int = 10,
    params: KitchenParams = PARAMS,
    recipes: dict[str, Recipe] = RECIPES,
    variant: DietVariant = DietVariant.REGULAR,
) -> ProductionPlan:
    return plan_production(
        [site_line(site("D1", "S1"), portions, variant, dish_ids=PORK_ONLY)],
        recipes,
        [departure],
        params,
    )


def eating_times(plan_departures: list[Departure]) -> dict[tuple[str, str], datetime]:
    return {
        (departure.departure_id, timing.stop_id): timing.eating_time(departure.departs_at)
        for departure in plan_departures
        for timing in departure.stops
    }


def expected_limit(params: KitchenParams, departure: Departure, recipe: Recipe) -> timedelta:
    """Independent statement of the rule: 4 h only for hot food held at >= 60 °C."""
    held_hot = departure.holding_celsius is not None and departure.holding_celsius >= 60
    return timedelta(hours=4) if held_hot and recipe.served_hot else timedelta(hours=2)


def assert_schedule_is_sound(
    plan: ProductionPlan,
    lines: list[OrderLine],
    departures: list[Departure],
    params: KitchenParams,
) -> None:
    """Portions conserved, capacity respected, no unit double-booked, every breach reported."""
    by_id = {departure.departure_id: departure for departure in departures}
    eating = eating_times(departures)
    demanded: Counter = Counter()
    stops_of: dict[tuple[str, DietVariant, str], set[str]] = {}
    for order_line in lines:
        for dish_id in order_line.dish_ids:
            key = (dish_id, order_line.variant, order_line.destination.departure_id)
            demanded[key] += order_line.portions
            if order_line.portions:
                stops_of.setdefault(key, set()).add(order_line.destination.stop_id)
    allocated: Counter = Counter()
    busy: dict[tuple[str, int], list[tuple[datetime, datetime]]] = {}
    reported = {(v.batch_id, v.departure_id, v.variant): v.excess for v in plan.violations}
    for batch in plan.batches:
        equipment = params.equipment[batch.equipment_kind]
        assert 0 < batch.portions <= equipment.max_portions_per_batch
        assert 1 <= batch.equipment_unit <= equipment.units
        assert batch.portions == sum(a.portions for a in batch.allocations)
        busy.setdefault((batch.equipment_kind, batch.equipment_unit), []).append(
            (batch.cook_start, batch.cook_end)
        )
        recipe = RECIPES[batch.dish_id]
        for allocation in batch.allocations:
            key = (batch.dish_id, allocation.variant, allocation.departure_id)
            allocated[key] += allocation.portions
            departure = by_id[allocation.departure_id]
            assert allocation.ready_at + params.packing_lead_time <= departure.departs_at
            limit = expected_limit(params, departure, recipe)
            worst = max(
                eating[(allocation.departure_id, stop)] - batch.cook_end - limit
                for stop in stops_of[key]
            )
            violation_key = (batch.batch_id, allocation.departure_id, allocation.variant)
            if worst > timedelta():
                assert reported[violation_key] == worst
            else:
                assert violation_key not in reported
    assert allocated == +demanded
    for intervals in busy.values():
        intervals.sort()
        for (_, earlier_end), (later_start, _) in pairwise(intervals):
            assert earlier_end <= later_start


def test_demo_plan_is_feasible_and_sound() -> None:
    lines = demo_order_lines()
    departures = list(demo_departures())
    plan = plan_production(lines, RECIPES, departures, PARAMS)
    assert plan.is_feasible
    assert plan.violations == ()
    assert_schedule_is_sound(plan, lines, departures, PARAMS)


def test_impossible_plan_is_reported_not_produced() -> None:
    departure = one_stop_departure(departs_at=at(10), eating_at=at(13))
    with pytest.raises(InfeasiblePlanError) as raised:
        plan_one_stop(departure)
    [violation] = raised.value.violations
    assert violation.batch_id == raised.value.draft.batches[0].batch_id
    assert violation.stop_id == "S1"
    assert violation.cook_end == at(9, 45)
    assert violation.excess == timedelta(hours=1, minutes=15)
    assert "exceeds the limit by 1:15:00" in str(raised.value)
    assert not raised.value.draft.is_feasible


def test_violations_can_be_shown_when_asked_for() -> None:
    departure = one_stop_departure(departs_at=at(10), eating_at=at(13))
    plan = plan_production(
        [site_line(site("D1", "S1"), 3, dish_ids=PORK_ONLY)],
        RECIPES,
        [departure],
        PARAMS,
        allow_violations=True,
    )
    assert not plan.is_feasible
    assert [v.excess for v in plan.violations] == [timedelta(hours=1, minutes=15)]


def test_too_little_equipment_pushes_batches_too_early_and_says_which() -> None:
    one_wok = KitchenParams(
        equipment={**EQUIPMENT, "wok": Equipment(units=1, max_portions_per_batch=40)}
    )
    departure = one_stop_departure(departs_at=at(10, 45), eating_at=at(11, 45))
    with pytest.raises(InfeasiblePlanError) as raised:
        plan_one_stop(departure, portions=160, params=one_wok)
    draft = raised.value.draft
    assert [batch.cook_end for batch in draft.batches] == [at(9), at(9, 30), at(10), at(10, 30)]
    excess = {v.batch_id: v.excess for v in raised.value.violations}
    assert excess == {
        draft.batches[0].batch_id: timedelta(minutes=45),
        draft.batches[1].batch_id: timedelta(minutes=15),
    }
    two_woks = KitchenParams(
        equipment={**EQUIPMENT, "wok": Equipment(units=2, max_portions_per_batch=40)}
    )
    assert plan_one_stop(departure, portions=160, params=two_woks).is_feasible


@pytest.mark.parametrize(
    ("holding_celsius", "feasible"), [(60.0, True), (75.0, True), (59.9, False), (None, False)]
)
def test_hot_holding_limit_applies_only_at_60_degrees_or_more(
    holding_celsius: float | None, feasible: bool
) -> None:
    departure = one_stop_departure(at(10), eating_at=at(12, 45), holding_celsius=holding_celsius)
    if feasible:
        plan = plan_one_stop(departure)
        assert plan.batches[0].safety_limit == timedelta(hours=4)
    else:
        with pytest.raises(InfeasiblePlanError) as raised:
            plan_one_stop(departure)
        assert [v.excess for v in raised.value.violations] == [timedelta(hours=1)]
        assert raised.value.violations[0].limit == timedelta(hours=2)


def test_cold_dish_never_gets_the_hot_holding_limit() -> None:
    cold = Recipe(
        dish_id="braised_pork",
        dish_name="凉拌肉",
        lines=BRAISED_PORK.lines,
        cook_time=BRAISED_PORK.cook_time,
        equipment_kind="wok",
        served_hot=False,
    )
    departure = one_stop_departure(at(10), eating_at=at(12, 45), holding_celsius=70.0)
    with pytest.raises(InfeasiblePlanError):
        plan_one_stop(departure, recipes={"braised_pork": cold})


def test_limits_are_settings_not_literals() -> None:
    departure = one_stop_departure(at(10), eating_at=at(12, 45), holding_celsius=62.0)
    stricter_holding = KitchenParams(equipment=EQUIPMENT, hot_holding_min_celsius=65.0)
    with pytest.raises(InfeasiblePlanError):
        plan_one_stop(departure, params=stricter_holding)
    exactly_three_hours = KitchenParams(
        equipment=EQUIPMENT, hot_held_safety_limit=timedelta(hours=3)
    )
    assert plan_one_stop(departure, params=exactly_three_hours).is_feasible
    unheld = one_stop_departure(at(10), eating_at=at(12, 45))
    longer_default = KitchenParams(equipment=EQUIPMENT, safety_limit=timedelta(hours=3))
    assert plan_one_stop(unheld, params=longer_default).is_feasible
    longer_lead = KitchenParams(equipment=EQUIPMENT, packing_lead_time=timedelta(minutes=30))
    near = one_stop_departure(at(10, 45), eating_at=at(11, 45))
    assert plan_one_stop(near, params=longer_lead).batches[0].cook_end == at(10, 15)


def test_puree_step_runs_after_cooking_and_before_departure() -> None:
    departure = one_stop_departure(at(10, 45), eating_at=at(11, 45))
    plan = plan_one_stop(departure, variant=DietVariant.PUREE)
    [batch] = plan.batches
    assert batch.cook_end == at(10, 15)
    assert batch.ready_at == at(10, 30)
    assert batch.allocations[0].extra_steps[0].name == "blend to IDDSI 4"


def test_variants_cooked_alike_share_a_pot_but_halal_does_not() -> None:
    departure = one_stop_departure(at(10, 45), eating_at=at(11, 45))
    lines = [
        site_line(site("D1", "S1"), count, variant, dish_ids=("rice",))
        for variant, count in [
            (DietVariant.REGULAR, 20),
            (DietVariant.PUREE, 3),
            (DietVariant.LOW_SALT, 2),
            (DietVariant.HALAL, 4),
        ]
    ]
    plan = plan_production(lines, RECIPES, [departure], PARAMS)
    variants_per_batch = sorted(batch.variants for batch in plan.batches)
    assert variants_per_batch == [
        (DietVariant.HALAL,),
        (DietVariant.PUREE, DietVariant.LOW_SALT, DietVariant.REGULAR),
    ]


def test_eating_times_in_another_time_zone_are_compared_as_instants() -> None:
    urumqi = ZoneInfo("Asia/Urumqi")
    eating_in_urumqi = at(11, 45).astimezone(urumqi)
    assert eating_in_urumqi.hour == 9
    departure = one_stop_departure(at(10, 45), eating_at=eating_in_urumqi)
    shanghai_plan = plan_one_stop(one_stop_departure(at(10, 45), eating_at=at(11, 45)))
    assert plan_one_stop(departure).batches == shanghai_plan.batches


def test_waves_group_batches_by_first_departure() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    batch_ids = [batch_id for wave in plan.waves for batch_id in wave.batch_ids]
    assert sorted(batch_ids) == sorted(batch.batch_id for batch in plan.batches)
    assert [wave.wave_number for wave in plan.waves] == list(range(1, len(plan.waves) + 1))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[OrderLine], list[Departure], KitchenParams]:
    departures = []
    lines = []
    for number in range(draw(st.integers(min_value=1, max_value=4))):
        departure_id = f"D{number}"
        departs_at = at(9) + timedelta(minutes=draw(st.integers(min_value=0, max_value=180)))
        stop_count = draw(st.integers(min_value=1, max_value=3))
        stops = tuple(
            StopTiming(
                stop_id=f"S{number}-{stop}",
                travel_time=timedelta(minutes=draw(st.integers(min_value=5, max_value=240))),
            )
            for stop in range(stop_count)
        )
        holding = draw(st.sampled_from([None, 55.0, 60.0, 70.0]))
        departures.append(
            Departure(
                departure_id=departure_id,
                van_id=f"V{number}",
                departs_at=departs_at,
                stops=stops,
                holding_celsius=holding,
            )
        )
        for timing in stops:
            for _ in range(draw(st.integers(min_value=0, max_value=3))):
                dish_ids = draw(st.sampled_from([SET_MEAL, ("rice",), ("tomato_egg",)]))
                allowed = list(DietVariant) if dish_ids == ("rice",) else ORDERABLE_WITH_EGG
                lines.append(
                    site_line(
                        site(departure_id, timing.stop_id),
                        draw(st.integers(min_value=0, max_value=150)),
                        draw(st.sampled_from(allowed)),
                        dish_ids=dish_ids,
                    )
                )
    params = KitchenParams(
        equipment={
            "wok": Equipment(
                units=draw(st.integers(min_value=1, max_value=3)),
                max_portions_per_batch=draw(st.integers(min_value=5, max_value=60)),
            ),
            "steamer": Equipment(
                units=draw(st.integers(min_value=1, max_value=2)),
                max_portions_per_batch=draw(st.integers(min_value=20, max_value=120)),
            ),
        }
    )
    return lines, departures, params


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_wave_plans_never_exceed_the_limit_unreported(
    scenario: tuple[list[OrderLine], list[Departure], KitchenParams],
) -> None:
    lines, departures, params = scenario
    plan = plan_production(lines, RECIPES, departures, params, allow_violations=True)
    assert_schedule_is_sound(plan, lines, departures, params)
    if plan.violations:
        with pytest.raises(InfeasiblePlanError) as raised:
            plan_production(lines, RECIPES, departures, params)
        assert raised.value.violations == plan.violations
    else:
        assert plan_production(lines, RECIPES, departures, params) == plan


def test_small_diet_batches_go_to_the_small_pots_and_free_the_large_wok() -> None:
    """One large wok; the low-salt and halal pork (own ingredients) would each hold it for
    a whole cook before the regular batch. With small pots they cook there, side by side."""
    one_wok = {**EQUIPMENT, "wok": Equipment(units=1, max_portions_per_batch=200)}
    departure = one_stop_departure(departs_at=at(10, 45), eating_at=at(11, 45))
    lines = [
        site_line(site("D1", "S1"), portions, variant, dish_ids=PORK_ONLY)
        for portions, variant in (
            (100, DietVariant.REGULAR),
            (12, DietVariant.LOW_SALT),
            (8, DietVariant.HALAL),
            (40, DietVariant.LOW_SUGAR),
        )
    ]
    without = plan_production(
        lines, RECIPES, [departure], KitchenParams(equipment=one_wok), allow_violations=True
    )
    assert not without.is_feasible
    small_pots = KitchenParams(
        equipment={**one_wok, "small_pot": Equipment(units=4, max_portions_per_batch=30)},
        small_batch_equipment="small_pot",
    )
    plan = plan_production(lines, RECIPES, [departure], small_pots, allow_violations=True)
    kinds = {batch.variants: batch.equipment_kind for batch in plan.batches}
    assert kinds == {
        (DietVariant.REGULAR,): "wok",
        (DietVariant.LOW_SUGAR,): "wok",  # 40 portions: more than a small pot holds
        (DietVariant.LOW_SALT,): "small_pot",
        (DietVariant.HALAL,): "small_pot",
    }
    assert plan.is_feasible


def test_small_batch_equipment_must_be_among_the_equipment() -> None:
    with pytest.raises(ValueError, match="small-batch"):
        KitchenParams(equipment=EQUIPMENT, small_batch_equipment="small_pot")
