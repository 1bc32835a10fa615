"""Dishes and their recipes, as the operator keeps them: nutrition per portion, allergens
(those of the recipe's ingredients, plus any declared), kind, and the diet variants the
kitchen can make. Each change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from advanced_alchemy.filters import CollectionFilter, OrderBy, SearchFilter
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meals.accounts.service import Actor, ensure_role
from meals.audit.service import changed, record_change, record_deactivation, snapshot
from meals.db import begin_write
from meals.errors import Conflict, Invalid, NotFound
from meals.listing import page_of
from meals.menus.models import Dish
from meals.production.models import (
    MILLI,
    Ingredient,
    Recipe,
    RecipeLine,
    RecipeVariant,
    RecipeVariantLine,
    RecipeVariantStep,
)
from meals.settings import Settings
from meals.words import ALLERGENS, Role, Variant

DISH_KINDS = ("meat", "vegetable", "staple", "soup")
DIET_TAGS = ("halal", "low_salt", "low_sugar")
DISH_FIELDS = (
    "name",
    "name_en",
    "kind",
    "diet_tags",
    "allergens",
    "energy_kcal",
    "protein_g",
    "fat_g",
    "carbohydrate_g",
    "sodium_mg",
    "active",
)


@dataclass(frozen=True)
class Line:
    ingredient: str  # ingredient code
    grams: Decimal


@dataclass(frozen=True)
class VariantSpec:
    variant: Variant
    removed: tuple[str, ...] = ()
    lines: tuple[Line, ...] = ()
    steps: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class RecipeSpec:
    cook_minutes: int
    equipment_kind: str
    lines: tuple[Line, ...]
    yield_portions: int = 1
    served_hot: bool = True
    variants: tuple[VariantSpec, ...] = ()


@dataclass(frozen=True)
class DishSpec:
    name: str
    name_en: str
    kind: str
    energy_kcal: int
    protein_g: float
    fat_g: float
    carbohydrate_g: float
    sodium_mg: int
    diet_tags: tuple[str, ...] = ()
    allergens: tuple[str, ...] = ()
    recipe: RecipeSpec | None = None


async def _ingredients(session: AsyncSession, codes: set[str]) -> dict[str, Ingredient]:
    rows = await session.scalars(select(Ingredient).where(Ingredient.code.in_(sorted(codes))))
    found = {i.code: i for i in rows}
    missing = sorted(codes - set(found))
    if missing:
        raise Invalid(
            "There is no ingredient {ingredient}.", code="bad_ingredient", ingredient=missing[0]
        )
    return found


def _check(spec: DishSpec, settings: Settings) -> None:
    if spec.kind not in DISH_KINDS:
        raise Invalid(
            "A dish is meat, vegetable, staple or soup, not {kind}.",
            code="bad_kind",
            kind=spec.kind,
        )
    unknown = sorted(set(spec.diet_tags) - set(DIET_TAGS)) or sorted(
        set(spec.allergens) - set(ALLERGENS)
    )
    if unknown:
        raise Invalid(
            "{word} is not a diet tag or allergen we know.", code="bad_tag", word=unknown[0]
        )
    recipe = spec.recipe
    if recipe is None:
        return
    kinds = {e.kind for e in settings.kitchen_equipment}
    if recipe.equipment_kind not in kinds:
        raise Invalid(
            "The kitchen has no {equipment}; use one of: {kinds}.",
            code="bad_equipment",
            equipment=recipe.equipment_kind,
            kinds=", ".join(sorted(kinds)),
        )
    if not recipe.lines:
        raise Invalid("A recipe needs at least one ingredient.", code="no_lines")
    seen = [v.variant for v in recipe.variants]
    if len(seen) != len(set(seen)):
        raise Invalid("A diet variant is given twice.", code="bad_variant")


def _milli(grams: Decimal) -> int:
    return int(grams * MILLI)


def _recipe(recipe: RecipeSpec, dish_id: int, known: dict[str, Ingredient]) -> Recipe:
    return Recipe(
        dish_id=dish_id,
        yield_portions=recipe.yield_portions,
        cook_minutes=recipe.cook_minutes,
        equipment_kind=recipe.equipment_kind,
        served_hot=recipe.served_hot,
        lines=[
            RecipeLine(
                ingredient_id=known[line.ingredient].id, quantity_milli=_milli(line.grams), unit="g"
            )
            for line in recipe.lines
        ],
        variants=[
            RecipeVariant(
                variant=v.variant,
                removed_ingredient_ids=sorted(known[c].id for c in v.removed),
                lines=[
                    RecipeVariantLine(
                        ingredient_id=known[line.ingredient].id,
                        quantity_milli=_milli(line.grams),
                        unit="g",
                    )
                    for line in v.lines
                ],
                steps=[
                    RecipeVariantStep(position=n, name=name, minutes=minutes)
                    for n, (name, minutes) in enumerate(v.steps)
                ],
            )
            for v in recipe.variants
        ],
    )


def _codes(recipe: RecipeSpec | None) -> set[str]:
    if recipe is None:
        return set()
    codes = {line.ingredient for line in recipe.lines}
    for v in recipe.variants:
        codes |= set(v.removed) | {line.ingredient for line in v.lines}
    return codes


def _recipe_snapshot(recipe: RecipeSpec | None) -> dict[str, Any] | None:
    if recipe is None:
        return None
    return {
        "cook_minutes": recipe.cook_minutes,
        "equipment_kind": recipe.equipment_kind,
        "yield_portions": recipe.yield_portions,
        "lines": {line.ingredient: str(line.grams) for line in recipe.lines},
        "variants": sorted(v.variant.value for v in recipe.variants),
    }


def _apply(dish: Dish, spec: DishSpec, known: dict[str, Ingredient]) -> None:
    dish.name, dish.name_en, dish.kind = spec.name, spec.name_en, spec.kind
    dish.diet_tags = sorted(set(spec.diet_tags))
    from_recipe = {
        a
        for line in (spec.recipe.lines if spec.recipe else ())
        for a in known[line.ingredient].allergens
    }
    dish.allergens = sorted(set(spec.allergens) | from_recipe)
    dish.energy_kcal, dish.protein_g, dish.fat_g = spec.energy_kcal, spec.protein_g, spec.fat_g
    dish.carbohydrate_g, dish.sodium_mg = spec.carbohydrate_g, spec.sodium_mg


async def create_dish(
    session: AsyncSession, *, actor: Actor, spec: DishSpec, settings: Settings, now: datetime
) -> Dish:
    """A new dish, with its recipe and diet variants when given."""
    ensure_role(actor, Role.ADMIN)
    _check(spec, settings)
    await begin_write(session)
    known = await _ingredients(session, _codes(spec.recipe))
    dish = Dish(active=True)
    _apply(dish, spec, known)
    session.add(dish)
    await session.flush()
    if spec.recipe is not None:
        session.add(_recipe(spec.recipe, dish.id, known))
    record_change(
        session,
        actor,
        action="create",
        entity="dish",
        entity_id=dish.id,
        at=now,
        after={**snapshot(dish, DISH_FIELDS), "recipe": _recipe_snapshot(spec.recipe)},
        summary=dish.name,
    )
    await session.commit()
    return dish


async def update_dish(
    session: AsyncSession,
    *,
    actor: Actor,
    dish_id: int,
    spec: DishSpec,
    settings: Settings,
    now: datetime,
) -> Dish:
    """A changed dish; a recipe given replaces the one it had."""
    ensure_role(actor, Role.ADMIN)
    _check(spec, settings)
    await begin_write(session)
    dish = await session.get(Dish, dish_id)
    if dish is None:
        raise NotFound("There is no dish {dish_id}.", dish_id=dish_id)
    known = await _ingredients(session, _codes(spec.recipe))
    before = snapshot(dish, DISH_FIELDS)
    _apply(dish, spec, known)
    if spec.recipe is not None:
        old = await session.scalar(select(Recipe).where(Recipe.dish_id == dish.id))
        if old is not None:
            await session.delete(old)
            await session.flush()
        session.add(_recipe(spec.recipe, dish.id, known))
    old_values, new_values = changed(before, snapshot(dish, DISH_FIELDS))
    if spec.recipe is not None:
        new_values["recipe"] = _recipe_snapshot(spec.recipe)
    record_change(
        session,
        actor,
        action="update",
        entity="dish",
        entity_id=dish.id,
        at=now,
        before=old_values,
        after=new_values,
        summary=dish.name,
    )
    await session.commit()
    return dish


async def deactivate_dish(
    session: AsyncSession, *, actor: Actor, dish_id: int, now: datetime
) -> Dish:
    """A dish no longer offered for new menus (menus already published keep it)."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    dish = await session.get(Dish, dish_id)
    if dish is None:
        raise NotFound("There is no dish {dish_id}.", dish_id=dish_id)
    record_deactivation(session, actor, dish, entity="dish", at=now, summary=dish.name)
    await session.commit()
    return dish


async def page_dishes(
    session: AsyncSession,
    *,
    kind: str | None = None,
    search: str | None = None,
    active: bool | None = True,
    limit: int = 50,
    offset: int = 0,
) -> OffsetPagination[Dish]:
    filters: list[Any] = [OrderBy(field_name="id", sort_order="asc")]
    if kind:
        filters.append(CollectionFilter(field_name="kind", values=[kind]))
    if active is not None:
        filters.append(CollectionFilter(field_name="active", values=[active]))
    if search:
        filters.append(
            SearchFilter(field_name={"name", "name_en"}, value=search.strip(), ignore_case=True)
        )
    return await page_of(session, Dish, *filters, limit=limit, offset=offset)


async def recipes_of(session: AsyncSession, dish_ids: list[int]) -> dict[int, Recipe]:
    rows = await session.scalars(
        select(Recipe)
        .where(Recipe.dish_id.in_(dish_ids))
        .options(selectinload(Recipe.lines), selectinload(Recipe.variants))
    )
    return {r.dish_id: r for r in rows}


async def ingredients(session: AsyncSession) -> list[Ingredient]:
    return list(await session.scalars(select(Ingredient).order_by(Ingredient.code)))


async def create_ingredient(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str,
    name: str,
    allergens: tuple[str, ...],
    halal: bool,
    now: datetime,
) -> Ingredient:
    """A stock item recipes can use; its allergens follow into every dish made with it."""
    ensure_role(actor, Role.ADMIN)
    unknown = sorted(set(allergens) - set(ALLERGENS))
    if unknown:
        raise Invalid("There is no allergen {allergen}.", code="bad_allergen", allergen=unknown[0])
    await begin_write(session)
    if await session.scalar(select(Ingredient.id).where(Ingredient.code == code)):
        raise Conflict(
            "There is already an ingredient {ingredient}.", code="code_taken", ingredient=code
        )
    ingredient = Ingredient(code=code, name=name, allergens=sorted(set(allergens)), halal=halal)
    session.add(ingredient)
    await session.flush()
    record_change(
        session,
        actor,
        action="create",
        entity="ingredient",
        entity_id=ingredient.id,
        at=now,
        after={"code": code, "name": name, "allergens": sorted(set(allergens)), "halal": halal},
        summary=name,
    )
    await session.commit()
    return ingredient


async def get_dish(session: AsyncSession, dish_id: int) -> Dish:
    dish = await session.get(Dish, dish_id)
    if dish is None:
        raise NotFound("There is no dish {dish_id}.", dish_id=dish_id)
    return dish


async def dish_form(session: AsyncSession, dish: Dish) -> dict[str, Any]:
    """The edit page's fields as they are stored: scalars as text, ticked lists, recipe rows."""
    recipe = (await recipes_of(session, [dish.id])).get(dish.id)
    codes = {i.id: i.code for i in await ingredients(session)}
    values: dict[str, Any] = {
        "name": dish.name,
        "name_en": dish.name_en,
        "kind": dish.kind,
        **{f: "" if getattr(dish, f) is None else str(getattr(dish, f)) for f in NUTRITION},
        "diet_tags": list(dish.diet_tags),
        "allergens": list(dish.allergens),
        "variants": [],
        "lines": [],
    }
    if recipe is not None:
        values |= {
            "yield_portions": str(recipe.yield_portions),
            "cook_minutes": str(recipe.cook_minutes),
            "equipment_kind": recipe.equipment_kind,
            "served_hot": recipe.served_hot,
            "variants": [v.variant.value for v in recipe.variants],
            "lines": [
                (codes[line.ingredient_id], str(Decimal(line.quantity_milli) / MILLI))
                for line in recipe.lines
            ],
        }
    return values


NUTRITION = ("energy_kcal", "protein_g", "fat_g", "carbohydrate_g", "sodium_mg")


async def kept_variants(
    session: AsyncSession, dish_id: int, ticked: tuple[Variant, ...]
) -> tuple[VariantSpec, ...]:
    """The ticked diet variants, each keeping what was set for it before (ingredients left out
    or added, extra steps), so saving the page's simpler form loses none of it."""
    recipe = (await recipes_of(session, [dish_id])).get(dish_id)
    before = {v.variant: v for v in recipe.variants} if recipe is not None else {}
    if not before:
        return tuple(VariantSpec(v) for v in ticked)
    ids = [i for v in before.values() for i in v.removed_ingredient_ids]
    variant_ids = [v.id for v in before.values()]
    lines = await session.scalars(
        select(RecipeVariantLine).where(RecipeVariantLine.recipe_variant_id.in_(variant_ids))
    )
    steps = await session.scalars(
        select(RecipeVariantStep)
        .where(RecipeVariantStep.recipe_variant_id.in_(variant_ids))
        .order_by(RecipeVariantStep.position)
    )
    lines, steps = list(lines), list(steps)
    ids += [line.ingredient_id for line in lines]
    found = await session.execute(
        select(Ingredient.id, Ingredient.code).where(Ingredient.id.in_(ids))
    )
    codes = {ingredient_id: code for ingredient_id, code in found}
    kept = []
    for variant in ticked:
        old = before.get(variant)
        if old is None:
            kept.append(VariantSpec(variant))
            continue
        kept.append(
            VariantSpec(
                variant,
                removed=tuple(codes[i] for i in old.removed_ingredient_ids),
                lines=tuple(
                    Line(codes[x.ingredient_id], Decimal(x.quantity_milli) / MILLI)
                    for x in lines
                    if x.recipe_variant_id == old.id
                ),
                steps=tuple((s.name, s.minutes) for s in steps if s.recipe_variant_id == old.id),
            )
        )
    return tuple(kept)
