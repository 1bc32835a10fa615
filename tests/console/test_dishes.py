"""Dishes and their recipes: nutrition per portion, allergens (from the ingredients too), kind
and diet variants, kept by the operator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meals.menus.models import Dish
from meals.production.models import Ingredient, Recipe, RecipeVariant
from meals.words import Role
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import login_as
from tests.pages.helpers import visible_text


async def _ingredients(db) -> list[Ingredient]:
    async with db() as s:
        return list(await s.scalars(select(Ingredient).order_by(Ingredient.code)))


async def _dish(db, **changes) -> dict:
    ingredients = await _ingredients(db)
    with_allergen = next(i for i in ingredients if i.allergens)
    plain = next(i for i in ingredients if not i.allergens)
    return {
        "name": "清蒸鲈鱼",
        "name_en": "Steamed sea bass",
        "kind": "meat",
        "energy_kcal": 210,
        "protein_g": 24.5,
        "fat_g": 8.0,
        "carbohydrate_g": 3.2,
        "sodium_mg": 420,
        "diet_tags": ["low_salt"],
        "recipe": {
            "cook_minutes": 20,
            "equipment_kind": "steamer",
            "yield_portions": 10,
            "lines": [
                {"ingredient": with_allergen.code, "grams": 1200},
                {"ingredient": plain.code, "grams": 50},
            ],
            "variants": [
                {"variant": "regular"},
                {"variant": "puree", "steps": [{"name": "打成糊", "minutes": 5}]},
            ],
        },
        **changes,
    }, with_allergen


async def test_operator_adds_a_dish_with_recipe_and_variants(client, db):
    await login_as(client, db, Role.ADMIN)
    body, with_allergen = await _dish(db)
    made = await client.post("/api/v1/dishes", json=body)
    assert made.status_code == 201, made.text
    dish = made.json()
    assert set(with_allergen.allergens) <= set(dish["allergens"])
    assert dish["variants"] == ["puree", "regular"]
    listed = await client.get("/api/v1/dishes", params={"q": "sea bass"})
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["sodium_mg"] == 420
    changed = await client.put(f"/api/v1/dishes/{dish['id']}", json={**body, "sodium_mg": 300})
    gone = await client.post(f"/api/v1/dishes/{dish['id']}/deactivate")
    assert changed.json()["sodium_mg"] == 300 and gone.json()["active"] is False
    async with db() as s:
        recipe = await s.scalar(select(Recipe).where(Recipe.dish_id == dish["id"]))
        variants = await s.scalar(
            select(RecipeVariant.variant).where(
                RecipeVariant.recipe_id == recipe.id, RecipeVariant.variant == "puree"
            )
        )
    assert recipe.yield_portions == 10 and variants is not None
    assert [e.action for e in await audit_entries(db, "dish")] == ["create", "update", "deactivate"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kind": "dessert"}, "bad_kind"),
        ({"allergens": ["kryptonite"]}, "bad_tag"),
        ("equipment", "bad_equipment"),
        ("ingredient", "bad_ingredient"),
        ("twice", "bad_variant"),
        ({"sodium_mg": -1}, None),
        ({"name": ""}, None),
    ],
)
async def test_bad_dishes_are_refused_and_nothing_saved(client, db, change, code):
    await login_as(client, db, Role.ADMIN)
    body, _ = await _dish(db)
    if change == "equipment":
        body["recipe"]["equipment_kind"] = "microwave"
    elif change == "ingredient":
        body["recipe"]["lines"][0]["ingredient"] = "unobtainium"
    elif change == "twice":
        body["recipe"]["variants"].append({"variant": "regular"})
    else:
        body.update(change)
    dishes, recipes = await count(db, Dish), await count(db, Recipe)
    response = await client.post("/api/v1/dishes", json=body)
    assert 400 <= response.status_code < 500 and response.json()["detail"], response.text
    if code:
        assert response.json()["code"] == code
    assert (await count(db, Dish), await count(db, Recipe)) == (dishes, recipes)


@pytest.mark.parametrize("role", [Role.KITCHEN, Role.SITE_STAFF, Role.VIEWER])
async def test_only_the_operator_changes_dishes(client, db, role):
    await login_as(client, db, role)
    body, _ = await _dish(db)
    assert (await client.post("/api/v1/dishes", json=body)).status_code == 403


async def test_dish_page_adds_a_dish_with_its_recipe(client, db):
    await login_as(client, db, Role.ADMIN)
    ingredients = await _ingredients(db)
    fields = {
        "name": "番茄炒蛋",
        "name_en": "Tomato and egg",
        "kind": "vegetable",
        "energy_kcal": "180",
        "protein_g": "9",
        "fat_g": "11",
        "carbohydrate_g": "8",
        "sodium_mg": "380",
        "cook_minutes": "12",
        "equipment_kind": "wok",
        "yield_portions": "1",
        "served_hot": "true",
        "variants": ["regular", "soft"],
        "ingredient": [ingredients[0].code, "", ""],
        "grams": ["150", "", ""],
    }
    made = await post_form(client, "/console/dishes", "/console/dishes", fields)
    bad = await post_form(
        client, "/console/dishes", "/console/dishes", {**fields, "grams": ["lots", "", ""]}
    )
    assert made.status_code == 303, made.text
    assert "番茄炒蛋" in visible_text(
        (await client.get("/console/dishes", params={"q": "番茄"})).text
    )
    assert bad.status_code == 422 and "lots" in visible_text(bad.text)
