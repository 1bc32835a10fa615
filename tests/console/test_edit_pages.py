"""The operator's edit pages for a dish with its recipe and for a departure wave: saved through
the services, a refusal shown in the form with what was typed kept and nothing saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meals.menus import dishes
from meals.menus.models import Dish
from meals.production.models import Recipe
from meals.sites.models import DepartureWave
from meals.words import Role
from tests.console.helpers import audit_entries, post_form
from tests.meals.helpers import login_as
from tests.pages.helpers import submit, visible_text


async def _dish_with_recipe(db) -> Dish:
    async with db() as s:
        return await s.scalar(select(Dish).join(Recipe, Recipe.dish_id == Dish.id).limit(1))


async def _form_of(db, dish: Dish) -> dict[str, object]:
    async with db() as s:
        values = await dishes.dish_form(s, await s.get(Dish, dish.id))
    lines = values.pop("lines")
    values["ingredient"] = [code for code, _ in lines]
    values["grams"] = [grams for _, grams in lines]
    values["served_hot"] = "true" if values["served_hot"] else ""
    return values


@pytest.mark.parametrize("role", [Role.SITE_STAFF, Role.KITCHEN])
async def test_only_the_operator_opens_or_saves_the_edit_pages(client, db, role):
    dish = await _dish_with_recipe(db)
    await login_as(client, db, role)
    assert (await client.get(f"/console/dishes/{dish.id}")).status_code == 403
    assert (await client.post(f"/console/dishes/{dish.id}", data={})).status_code == 403
    assert (await client.post("/console/vans/waves/1", data={})).status_code == 403


async def test_dish_page_saves_and_keeps_what_was_typed_beside_a_refusal(client, db):
    dish = await _dish_with_recipe(db)
    page = f"/console/dishes/{dish.id}"
    await login_as(client, db, Role.ADMIN)
    opened = await client.get(page)
    assert opened.status_code == 200 and f'value="{dish.name}"' in opened.text
    form = await _form_of(db, dish)
    async with db() as s:
        variants_before = (await dishes.recipes_of(s, [dish.id]))[dish.id].variants

    salty = await post_form(client, page, page, {**form, "name": "改过的名字", "sodium_mg": "-5"})
    unknown = await post_form(
        client, page, page, {**form, "name": "改过的名字", "ingredient": ["no_such_thing"]}
    )
    saved = await post_form(client, page, page, {**form, "name": "红烧鸡块", "sodium_mg": "640"})

    assert salty.status_code == 422 and 'value="改过的名字"' in salty.text
    assert 'value="-5"' in salty.text and "sodium_mg" in visible_text(salty.text)
    assert unknown.status_code == 422, visible_text(unknown.text)[:400]
    assert "no_such_thing" in visible_text(unknown.text)
    assert saved.status_code == 303
    async with db() as s:
        kept = await s.get(Dish, dish.id)
        variants_after = (await dishes.recipes_of(s, [dish.id]))[dish.id].variants
    assert (kept.name, kept.sodium_mg) == ("红烧鸡块", 640)
    assert sorted(v.variant for v in variants_after) == sorted(v.variant for v in variants_before)
    assert sorted(sorted(v.removed_ingredient_ids) for v in variants_after) == sorted(
        sorted(v.removed_ingredient_ids) for v in variants_before
    )  # what a variant leaves out, set through the API, survives the page's simpler form
    assert [e.action for e in await audit_entries(db, "dish")] == ["update"]


async def test_wave_page_moves_a_wave_and_refuses_a_time_taken(client, db):
    await login_as(client, db, Role.ADMIN)
    first = await client.post("/api/v1/waves", json={"slot": "lunch", "departs_at": "10:30:00"})
    await client.post("/api/v1/waves", json={"slot": "lunch", "departs_at": "11:30:00"})
    page = f"/console/vans/waves/{first.json()['id']}"

    taken = await submit(client, page, page, {"departs_at": "11:30"})
    bad = await submit(client, page, page, {"departs_at": "25:99"})
    saved = await submit(client, page, page, {"departs_at": "10:45"})

    assert taken.status_code == 409 and 'value="11:30"' in taken.text
    assert "11:30" in visible_text(taken.text)
    assert bad.status_code == 422 and 'value="25:99"' in bad.text
    assert saved.status_code == 303
    async with db() as s:
        times = sorted(
            w.departs_at.strftime("%H:%M") for w in await s.scalars(select(DepartureWave))
        )
    assert times == ["10:45", "11:30"]
    assert [e.action for e in await audit_entries(db, "wave")] == ["create", "create", "update"]
