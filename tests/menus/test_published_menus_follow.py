"""Published menus follow the operator's edits of their cycle, and a booked set meal is never lost
silently: its bookings are moved to another set meal (prices kept, families told) or cancelled."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from meals.audit.models import AuditEntry
from meals.bookings.models import Booking
from meals.menus.models import Dish, Menu, MenuItem
from meals.notifications.models import FamilyNotice
from meals.seniors.models import Senior
from meals.words import Role, Slot
from tests.conftest import TODAY
from tests.meals.helpers import bound_senior_ids, login, login_as, meal

DAY = TODAY + timedelta(days=2)


async def _book(client, senior_id, item_id):
    response = await client.post(
        "/api/v1/bookings",
        json={"senior_id": senior_id, "menu_item_id": item_id, "fulfilment": "dine_in"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _items(db, menu_id):
    async with db() as s:
        rows = await s.execute(
            select(MenuItem.code, MenuItem.name, MenuItem.booked_count)
            .where(MenuItem.menu_id == menu_id, MenuItem.withdrawn_at.is_(None))
            .order_by(MenuItem.code)
        )
        return [tuple(r) for r in rows]


async def _booked_family_senior(client, db):
    """A senior with bound family, booked by staff for set meal A of DAY at their home site."""
    senior_id = (await bound_senior_ids(db))[0]
    async with db() as s:
        senior = await s.get(Senior, senior_id)
        senior.allergens, senior.halal, senior.iddsi_level = [], False, 7
        await s.commit()
    ref = await meal(db, senior.home_site_id, DAY)
    await login_as(client, db, Role.SITE_STAFF, site_id=senior.home_site_id)
    booking = await _book(client, senior_id, ref.item_id)
    return senior, ref, booking


async def test_menus_without_bookings_follow_the_cycle_and_booked_ones_keep_their_meals(client, db):
    senior, ref, _ = await _booked_family_senior(client, db)
    await login(client, "admin", "warmmeal-admin")
    cycle = (await client.get("/api/v1/menu-cycles")).json()["items"][0]
    index = (DAY - date.fromisoformat(cycle["starts_on"])).days % (cycle["weeks"] * 7)
    async with db() as s:
        dishes = list(await s.scalars(select(Dish.id).order_by(Dish.id).limit(2)))
        other_menu = await s.scalar(
            select(Menu.id).where(
                Menu.service_date == DAY,
                Menu.slot == Slot.LUNCH,
                Menu.site_id.in_(cycle["site_ids"]),
                Menu.site_id != senior.home_site_id,
                Menu.seats_booked == 0,
            )
        )
    new_day = {
        "set_meals": [
            {"code": code, "name": f"新{code}套餐", "list_price_fen": 1300, "dish_ids": dishes}
            for code in ("A", "B")
        ]
    }

    saved = await client.put(f"/api/v1/menu-cycles/{cycle['id']}/days/{index}/lunch", json=new_day)

    assert saved.status_code == 200, saved.text
    assert ref.menu_id in saved.json()["kept_menu_ids"]
    assert ref.menu_id not in saved.json()["republished_menu_ids"]
    async with db() as s:
        republished_other = await s.scalar(
            select(Menu.id).where(Menu.id.in_(saved.json()["republished_menu_ids"])).limit(1)
        )
    assert other_menu is not None and republished_other is not None
    assert [name for _, name, _ in await _items(db, republished_other)] == ["新A套餐", "新B套餐"]
    assert (await _items(db, ref.menu_id))[0][2] == 1  # still set meal A with its booking


async def test_operator_moves_a_set_meals_bookings_then_takes_it_off(client, db):
    senior, ref, booking = await _booked_family_senior(client, db)
    await login(client, "admin", "warmmeal-admin")
    base = f"/api/v1/menus/{ref.menu_id}/items/A"

    refused = await client.post(f"{base}/remove", json={})
    assert refused.status_code == 409 and senior.name in refused.json()["detail"]
    moved = await client.post(f"{base}/move", json={"to_code": "B", "reason": "A 套餐食材未到"})
    assert moved.status_code == 200, moved.text
    assert [m["senior_name"] for m in moved.json()["moved"]] == [senior.name]
    taken_off = await client.post(f"{base}/remove", json={})

    assert taken_off.status_code == 200 and taken_off.json()["cancelled"] == []
    async with db() as s:
        row = await s.get(Booking, booking["id"])
        target = await s.get(MenuItem, row.menu_item_id)
        notices = list(
            await s.scalars(select(FamilyNotice).where(FamilyNotice.senior_id == senior.id))
        )
        audit = list(
            await s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "menu_item"))
        )
    assert target.code == "B" and target.booked_count == 1
    assert (row.price_fen, row.subsidy_fen) == (booking["price_fen"], booking["subsidy_fen"])
    assert any(n.kind == "meal_moved" and n.params["reason"] == "A 套餐食材未到" for n in notices)
    assert audit == ["move_bookings", "delete"]


async def test_bad_moves_are_refused_with_a_sentence_and_nothing_moved(client, db):
    _senior, ref, booking = await _booked_family_senior(client, db)
    base = f"/api/v1/menus/{ref.menu_id}/items/A/move"
    good = {"to_code": "B", "reason": "换菜"}
    assert (await client.post(base, json=good)).status_code == 403  # staff may not
    await login(client, "admin", "warmmeal-admin")
    cases = [
        ({"to_code": "A", "reason": "换菜"}, 422, "same_set_meal"),
        ({"to_code": "B", "reason": "  "}, 422, "no_reason"),
        ({"to_code": "Z", "reason": "换菜"}, 404, "not_found"),
        ({"to_code": "B"}, 400, None),
        ({"to_code": "B-1", "reason": "x"}, 400, None),
    ]
    for body, status, code in cases:
        response = await client.post(base, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json().get("detail")
        if code:
            assert response.json()["code"] == code
    async with db() as s:
        target = await s.scalar(
            select(MenuItem).where(MenuItem.menu_id == ref.menu_id, MenuItem.code == "B")
        )
        target.capacity = target.booked_count  # full: the move is refused as a whole
        await s.commit()
    full = await client.post(base, json=good)
    assert full.status_code == 409 and full.json()["code"] == "target_full"
    async with db() as s:
        assert (await s.get(Booking, booking["id"])).menu_item_id == ref.item_id
