"""Diet variants change recipes; unsafe or unknown variants are refused, never guessed."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from kitchen_builders import (
    BLEND,
    BRAISED_PORK,
    PARAMS,
    PORK,
    RECIPES,
    STEAMED_RICE,
    TOMATO_EGG,
    demo_departures,
    line,
    site,
    site_line,
)

from kitchen import (
    Departure,
    DietVariant,
    Equipment,
    KitchenParams,
    PlanInputError,
    Recipe,
    RecipeLine,
    StopTiming,
    VariantChange,
    plan_production,
    resolve_recipe,
)


def quantities(recipe: Recipe, variant: DietVariant) -> dict[str, str]:
    resolved = resolve_recipe(recipe, variant)
    return {line.ingredient.ingredient_id: str(line.quantity) for line in resolved.lines}


def test_low_salt_sets_less_salt_and_keeps_the_rest() -> None:
    regular = quantities(BRAISED_PORK, DietVariant.REGULAR)
    low_salt = quantities(BRAISED_PORK, DietVariant.LOW_SALT)
    assert regular["salt"] == "3"
    assert low_salt == {**regular, "salt": "1"}


def test_low_sugar_removes_sugar() -> None:
    assert "sugar" not in quantities(BRAISED_PORK, DietVariant.LOW_SUGAR)


def test_halal_swaps_the_protein_and_drops_non_halal_sauce() -> None:
    halal = resolve_recipe(BRAISED_PORK, DietVariant.HALAL)
    ids = {line.ingredient.ingredient_id for line in halal.lines}
    assert "pork" not in ids
    assert "soy_sauce" not in ids
    assert "chicken" in ids
    assert all(line.ingredient.halal for line in halal.lines)
    assert halal.allergens == frozenset()


def test_puree_adds_a_processing_step_with_its_own_time() -> None:
    puree = resolve_recipe(BRAISED_PORK, DietVariant.PUREE)
    assert puree.extra_steps == (BLEND,)
    assert puree.extra_steps_duration == timedelta(minutes=15)
    assert resolve_recipe(BRAISED_PORK, DietVariant.REGULAR).extra_steps_duration == timedelta()


def test_allergens_derive_from_ingredients() -> None:
    assert resolve_recipe(TOMATO_EGG, DietVariant.REGULAR).allergens == {"egg"}
    assert resolve_recipe(STEAMED_RICE, DietVariant.REGULAR).allergens == frozenset()


def test_undeclared_variant_is_refused() -> None:
    with pytest.raises(PlanInputError, match="no allergen_free variant"):
        resolve_recipe(TOMATO_EGG, DietVariant.ALLERGEN_FREE)


def test_halal_variant_with_a_non_halal_ingredient_is_refused() -> None:
    careless = Recipe(
        dish_id="careless",
        dish_name="careless",
        lines=(line(PORK, "100"),),
        cook_time=timedelta(minutes=10),
        equipment_kind="wok",
        variants={DietVariant.HALAL: VariantChange()},
    )
    with pytest.raises(PlanInputError, match="non-halal pork"):
        resolve_recipe(careless, DietVariant.HALAL)


def test_allergen_free_variant_still_containing_an_allergen_is_refused() -> None:
    careless = Recipe(
        dish_id="egg_soup",
        dish_name="egg soup",
        lines=TOMATO_EGG.lines,
        cook_time=timedelta(minutes=10),
        equipment_kind="wok",
        variants={DietVariant.ALLERGEN_FREE: VariantChange()},
    )
    with pytest.raises(PlanInputError, match="still contains egg"):
        resolve_recipe(careless, DietVariant.ALLERGEN_FREE)


def test_plan_lists_every_input_problem_at_once() -> None:
    lines = [
        site_line(site("V1-1", "S1"), 1, DietVariant.ALLERGEN_FREE, dish_ids=("tomato_egg",)),
        site_line(site("V1-1", "S1"), 1, dish_ids=("mystery_stew",)),
        site_line(site("V1-1", "S9"), 1, dish_ids=("rice",)),
        site_line(site("V9-1", "S1"), 1, dish_ids=("rice",)),
    ]
    with pytest.raises(PlanInputError) as raised:
        plan_production(lines, RECIPES, demo_departures(), PARAMS)
    assert set(raised.value.problems) == {
        "dish tomato_egg has no allergen_free variant",
        "no recipe for dish mystery_stew",
        "departure V1-1 has no timing for stop S9",
        "no departure V9-1 for stop S1",
    }


def test_unknown_equipment_is_refused() -> None:
    params = KitchenParams(equipment={"wok": Equipment(units=1, max_portions_per_batch=10)})
    with pytest.raises(PlanInputError, match="unknown equipment steamer"):
        plan_production(
            [site_line(site("V1-1", "S1"), 1, dish_ids=("rice",))],
            RECIPES,
            demo_departures(),
            params,
        )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Departure(departure_id="D", van_id="V", departs_at=datetime(2025, 3, 10, 10), stops=())
    with pytest.raises(ValueError, match="timezone-aware"):
        StopTiming(stop_id="S", eating_at=datetime(2025, 3, 10, 12))


def test_float_quantities_are_read_by_their_shortest_form() -> None:
    assert RecipeLine(ingredient=PORK, quantity=0.1).quantity == Decimal("0.1")
    assert RecipeLine(ingredient=PORK, quantity=3).quantity == Decimal(3)
