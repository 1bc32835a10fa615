"""Scaling and merging ingredients conserves every gram."""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from kitchen_builders import PARAMS, RECIPES, demo_departures, demo_order_lines

from kitchen import (
    DietVariant,
    Ingredient,
    Recipe,
    RecipeLine,
    plan_production,
    resolve_recipe,
    scale_ingredients,
)
from kitchen.plan import fraction_to_decimal

INGREDIENTS = [
    Ingredient(ingredient_id=f"i{number}", name=f"ingredient {number}", halal=True)
    for number in range(6)
]
UNITS = ["g", "ml"]

recipe_lines = st.builds(
    lambda ingredient, quantity, unit: RecipeLine(
        ingredient=ingredient, quantity=quantity, unit=unit
    ),
    st.sampled_from(INGREDIENTS),
    st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False),
    st.sampled_from(UNITS),
)


@st.composite
def recipes_with_portions(draw: st.DrawFn) -> list[tuple[Recipe, int]]:
    dish_count = draw(st.integers(min_value=0, max_value=6))
    return [
        (
            Recipe(
                dish_id=f"dish{number}",
                dish_name=f"dish {number}",
                lines=tuple(draw(st.lists(recipe_lines, max_size=5))),
                yield_portions=draw(st.integers(min_value=1, max_value=12)),
                cook_time=timedelta(minutes=20),
                equipment_kind="wok",
            ),
            draw(st.integers(min_value=0, max_value=10_000)),
        )
        for number in range(dish_count)
    ]


@given(recipes_with_portions())
def test_scaling_and_merging_conserves_quantity(dishes: list[tuple[Recipe, int]]) -> None:
    portions = {(recipe.dish_id, DietVariant.REGULAR): count for recipe, count in dishes}
    resolved = {
        (recipe.dish_id, DietVariant.REGULAR): resolve_recipe(recipe, DietVariant.REGULAR)
        for recipe, _ in dishes
    }
    totals = scale_ingredients(portions, resolved)

    expected: dict[tuple[str, str], Fraction] = {}
    for recipe, count in dishes:
        if not count:
            continue
        for line in recipe.lines:
            key = (line.ingredient.ingredient_id, line.unit)
            share = Fraction(line.quantity) * count / recipe.yield_portions
            expected[key] = expected.get(key, Fraction(0)) + share
    actual = {(total.ingredient_id, total.unit): total.quantity for total in totals}
    assert actual == {key: fraction_to_decimal(value) for key, value in expected.items()}
    assert len(totals) == len(actual), "each ingredient and unit appears once"
    for total in totals:
        used = sum(Fraction(use.quantity) for use in total.used_by)
        assert abs(used - Fraction(total.quantity)) <= Fraction(1, 10**12)


@given(recipes_with_portions())
def test_whole_yield_totals_are_exact_decimals(dishes: list[tuple[Recipe, int]]) -> None:
    single_yield = [
        (
            Recipe(
                dish_id=recipe.dish_id,
                dish_name=recipe.dish_name,
                lines=recipe.lines,
                cook_time=recipe.cook_time,
                equipment_kind=recipe.equipment_kind,
            ),
            count,
        )
        for recipe, count in dishes
    ]
    portions = {(recipe.dish_id, DietVariant.REGULAR): count for recipe, count in single_yield}
    resolved = {
        (recipe.dish_id, DietVariant.REGULAR): resolve_recipe(recipe, DietVariant.REGULAR)
        for recipe, _ in single_yield
    }
    grams_in = sum(
        (line.quantity * count for recipe, count in single_yield for line in recipe.lines),
        Decimal(0),
    )
    grams_out = sum((total.quantity for total in scale_ingredients(portions, resolved)), Decimal(0))
    assert grams_out == grams_in


def test_same_ingredient_from_several_dishes_is_summed_once() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    by_key = {(total.ingredient_id, total.unit): total for total in plan.ingredients}
    assert len(by_key) == len(plan.ingredients)
    salt = by_key[("salt", "g")]
    assert {use.dish_id for use in salt.used_by} == {"braised_pork", "tomato_egg"}
    portions = {(line.dish_id, line.variant): line.portions for line in plan.dishes}
    expected_salt = Decimal(0)
    for (dish_id, variant), count in portions.items():
        for line in resolve_recipe(RECIPES[dish_id], variant).lines:
            if line.ingredient.ingredient_id == "salt":
                expected_salt += line.quantity * count
    assert salt.quantity == expected_salt == Decimal("559.5")
    oil = by_key[("oil", "ml")]
    assert oil.quantity == sum(use.quantity for use in oil.used_by)


def test_rice_is_scaled_by_the_recipe_yield() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    rice_portions = sum(line.portions for line in plan.dishes if line.dish_id == "rice")
    rice = next(total for total in plan.ingredients if total.ingredient_id == "rice")
    assert rice.quantity == Decimal(100) * rice_portions
    assert "chicken" in {total.ingredient_id for total in plan.ingredients}
