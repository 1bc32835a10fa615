"""The audit log stores a change together with the change, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from meals.accounts.service import Actor
from meals.audit.models import AuditEntry
from meals.audit.service import changed, record_change, snapshot
from meals.menus.models import Dish
from meals.words import Role

OPERATOR = Actor(account_id=1, role=Role.ADMIN, display_name="admin")
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_an_entry_is_stored_with_its_change_and_rolled_back_with_it(db) -> None:
    async with db() as s:
        dish = await s.scalar(select(Dish).order_by(Dish.id))
        before = snapshot(dish, ("name", "sodium_mg"))
        dish.sodium_mg = 300
        old, new = changed(before, snapshot(dish, ("name", "sodium_mg")))
        record_change(
            s,
            OPERATOR,
            action="update",
            entity="dish",
            entity_id=dish.id,
            at=AT,
            before=old,
            after=new,
            summary="less salt",
        )
        await s.rollback()
    async with db() as s:
        assert await s.scalar(select(AuditEntry)) is None

        dish = await s.scalar(select(Dish).order_by(Dish.id))
        was = dish.sodium_mg
        dish.sodium_mg = was + 1
        record_change(
            s,
            OPERATOR,
            action="update",
            entity="dish",
            entity_id=dish.id,
            at=AT,
            before={"sodium_mg": was},
            after={"sodium_mg": was + 1},
        )
        await s.commit()
    async with db() as s:
        entry = await s.scalar(select(AuditEntry))
    assert (entry.account_name, entry.role, entry.entity, entry.entity_id) == (
        "admin",
        "admin",
        "dish",
        str(dish.id),
    )
    assert entry.before == {"sodium_mg": was} and entry.after == {"sodium_mg": was + 1}
    assert entry.at == AT


async def test_the_demo_dishes_carry_their_nutrition_per_portion(db) -> None:
    async with db() as s:
        dishes = (await s.scalars(select(Dish))).all()
    assert dishes
    for dish in dishes:
        assert dish.energy_kcal and dish.energy_kcal > 0, dish.name
        assert dish.protein_g is not None and dish.sodium_mg is not None, dish.name
