"""The menu-cycle pages: operator only; a bad form is refused with a sentence in the operator's
language and nothing is saved; a good one is saved and audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from meals.audit.models import AuditEntry
from meals.menus.models import Dish, MenuCycle, MenuCycleItem
from meals.words import Role
from tests.conftest import TODAY
from tests.meals.helpers import canteen, login_as
from tests.pages.helpers import submit, visible_text


async def _count(db, model, *where) -> int:
    async with db() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_only_the_operator_opens_or_posts_menu_cycle_pages(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    assert (await client.get("/menus/cycles")).status_code == 403
    assert (await client.get("/menus/cycles/1")).status_code == 403
    posted = await client.post("/menus/cycles/1/publish", data={}, follow_redirects=False)
    assert posted.status_code == 403


async def test_bad_day_form_is_refused_in_chinese_and_nothing_saved(client, db):
    await login_as(client, db, Role.ADMIN)
    async with db() as s:
        cycle_id = await s.scalar(select(MenuCycle.id))
        dish_id = await s.scalar(select(Dish.id).order_by(Dish.id))
    before = await _count(db, MenuCycleItem)
    day_page = f"/menus/cycles/{cycle_id}/days/0/lunch"
    bad = await submit(
        client,
        day_page,
        day_page,
        {"code": "A", "name": "A套餐", "price_yuan": "十二元", "meat": str(dish_id)},
    )
    assert bad.status_code == 422
    assert "价格请以元为单位填写" in visible_text(bad.text)
    no_dish = await submit(
        client, day_page, day_page, {"code": "A", "name": "A套餐", "price_yuan": "12.00"}
    )
    assert no_dish.status_code == 422 and "还没有菜品" in visible_text(no_dish.text)
    assert await _count(db, MenuCycleItem) == before

    good = await submit(
        client,
        day_page,
        day_page,
        {"code": "A", "name": "A套餐：新菜", "price_yuan": "12.50", "meat": str(dish_id)},
    )
    assert good.status_code == 303
    async with db() as s:
        items = list(
            await s.scalars(
                select(MenuCycleItem).where(
                    MenuCycleItem.cycle_id == cycle_id, MenuCycleItem.day_index == 0
                )
            )
        )
    lunch = [i for i in items if i.slot.value == "lunch"]
    assert [(i.name, i.list_price_fen, i.dish_ids) for i in lunch] == [
        ("A套餐：新菜", 1250, [dish_id])
    ]
    assert await _count(db, AuditEntry, AuditEntry.entity == "menu_cycle_day") == 1


async def test_a_cycle_made_on_the_page_must_start_on_a_monday(client, db):
    await login_as(client, db, Role.ADMIN)
    before = await _count(db, MenuCycle)
    tuesday = TODAY + timedelta(days=8)
    refused = await submit(
        client,
        "/menus/cycles",
        "/menus/cycles",
        {"name": "周二开始", "weeks": "2", "starts_on": tuesday.isoformat()},
    )
    assert refused.status_code == 422
    assert "须从星期一开始" in visible_text(refused.text)
    assert await _count(db, MenuCycle) == before
