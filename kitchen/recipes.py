"""Applying a diet variant to a recipe, and the checks a variant must pass."""

from __future__ import annotations

from datetime import timedelta

from msgspec import Struct

from kitchen.errors import PlanInputError
from kitchen.model import DietVariant, ProcessingStep, Recipe, RecipeLine


class ResolvedRecipe(Struct, frozen=True, kw_only=True, gc=False):
    """A recipe as cooked for one variant: what the kitchen actually follows."""

    dish_id: str
    dish_name: str
    variant: DietVariant
    lines: tuple[RecipeLine, ...]
    yield_portions: int
    cook_time: timedelta
    equipment_kind: str
    served_hot: bool
    extra_steps: tuple[ProcessingStep, ...]
    allergens: frozenset[str]

    @property
    def extra_steps_duration(self) -> timedelta:
        """Time between cook end and the food being ready to pack."""
        return sum((step.duration for step in self.extra_steps), timedelta())


def variant_problems(recipe: Recipe, variant: DietVariant) -> list[str]:
    """Why ``recipe`` cannot be served as ``variant``; empty when it can."""
    if variant is not DietVariant.REGULAR and variant not in recipe.variants:
        return [f"dish {recipe.dish_id} has no {variant} variant"]
    resolved = _apply(recipe, variant)
    problems = []
    if variant is DietVariant.HALAL:
        not_halal = sorted(
            line.ingredient.ingredient_id for line in resolved.lines if not line.ingredient.halal
        )
        if not_halal:
            problems.append(f"halal {recipe.dish_id} uses non-halal {', '.join(not_halal)}")
    if variant is DietVariant.ALLERGEN_FREE and resolved.allergens:
        allergens = ", ".join(sorted(resolved.allergens))
        problems.append(f"allergen-free {recipe.dish_id} still contains {allergens}")
    return problems


def resolve_recipe(recipe: Recipe, variant: DietVariant) -> ResolvedRecipe:
    """The recipe for ``variant``; raises PlanInputError if the variant is not allowed."""
    problems = variant_problems(recipe, variant)
    if problems:
        raise PlanInputError(problems)
    return _apply(recipe, variant)


def _apply(recipe: Recipe, variant: DietVariant) -> ResolvedRecipe:
    change = recipe.variants.get(variant)
    lines = list(recipe.lines)
    extra_steps: tuple[ProcessingStep, ...] = ()
    if change is not None:
        replaced = {(line.ingredient.ingredient_id, line.unit) for line in change.set_lines}
        lines = [
            line
            for line in lines
            if line.ingredient.ingredient_id not in change.remove
            and (line.ingredient.ingredient_id, line.unit) not in replaced
        ]
        lines.extend(change.set_lines)
        extra_steps = change.extra_steps
    allergens = frozenset().union(*(line.ingredient.allergens for line in lines))
    return ResolvedRecipe(
        dish_id=recipe.dish_id,
        dish_name=recipe.dish_name,
        variant=variant,
        lines=tuple(lines),
        yield_portions=recipe.yield_portions,
        cook_time=recipe.cook_time,
        equipment_kind=recipe.equipment_kind,
        served_hot=recipe.served_hot,
        extra_steps=extra_steps,
        allergens=allergens,
    )
