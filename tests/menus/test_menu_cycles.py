"""Menu cycles through the operator's API: create, fill a day, publish, edit a published day,
and a set meal with bookings that cannot be taken off silently."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from meals.accounts.models import Account, FamilyBinding
from meals.audit.models import AuditEntry
from meals.bookings.models import Booking
from meals.menus.models import Dish, Menu, MenuCycle, MenuItem
from meals.notifications.models import FamilyNotice
from meals.sites.models import Site
from meals.words import BookingStatus, Role, SiteKind
from tests.conftest import NOW, TODAY
from tests.meals.helpers import a_senior, canteen, login_as, meal

NEXT_MONDAY = TODAY + timedelta(days=7)


async def _count(db, model, *where) -> int:
    async with db() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _dish_ids(db, n: int = 3) -> list[int]:
    async with db() as s:
        return list(await s.scalars(select(Dish.id).order_by(Dish.id).limit(n)))


async def _new_site_without_cycle(db) -> int:
    """A meal point taken out of the demo cycle, so a new cycle may take it."""
    async with db() as s:
        site_id = await s.scalar(
            select(Site.id).where(Site.kind == SiteKind.MEAL_POINT).order_by(Site.id.desc())
        )
    return site_id


async def test_operator_builds_a_cycle_and_its_menus_are_published(client, db):
    await login_as(client, db, Role.ADMIN)
    site_id = await _new_site_without_cycle(db)
    listed = await client.get("/api/v1/menu-cycles")
    assert listed.status_code == 200, listed.text
    demo = listed.json()
    assert demo["total"] == 1
    demo_cycle = demo["items"][0]
    # Take the site out of the demo cycle, and clear its menus from next week on.
    left = [s for s in demo_cycle["site_ids"] if s != site_id]
    assert (
        await client.patch(f"/api/v1/menu-cycles/{demo_cycle['id']}", json={"site_ids": left})
    ).status_code == 200
    created = await client.post(
        "/api/v1/menu-cycles",
        json={
            "name": "西区两周菜单",
            "weeks": 2,
            "starts_on": NEXT_MONDAY.isoformat(),
            "site_ids": [site_id],
        },
    )
    assert created.status_code == 201, created.text
    cycle = created.json()
    dishes = await _dish_ids(db)
    for day in range(14):
        day_set = await client.put(
            f"/api/v1/menu-cycles/{cycle['id']}/days/{day}/lunch",
            json={
                "set_meals": [
                    {
                        "code": "A",
                        "name": f"第{day + 1}天A套餐",
                        "name_en": f"Day {day + 1} set A",
                        "list_price_fen": 1250,
                        "dish_ids": dishes,
                        "portions": 40,
                    }
                ]
            },
        )
        assert day_set.status_code == 200, day_set.text
    page = (await client.get("/api/v1/menu-cycles?limit=1&offset=1")).json()
    assert page["total"] == 2 and [c["name"] for c in page["items"]] == ["西区两周菜单"]

    published = await client.post(f"/api/v1/menu-cycles/{cycle['id']}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["menus_published"] > 0
    async with db() as s:
        item = (
            await s.execute(
                select(MenuItem.name, MenuItem.list_price_fen, MenuItem.capacity)
                .join(Menu)
                .where(
                    Menu.site_id == site_id, Menu.service_date == NEXT_MONDAY + timedelta(days=7)
                )
            )
        ).one()
    assert item == ("第8天A套餐", 1250, 40)  # day 8 of the rotation: the second Monday
    # Publishing again adds nothing.
    again = await client.post(f"/api/v1/menu-cycles/{cycle['id']}/publish")
    assert again.json()["menus_published"] == 0
    assert (
        await _count(db, AuditEntry, AuditEntry.entity.in_(["menu_cycle", "menu_cycle_day"])) >= 16
    )


async def test_bad_cycles_are_refused_with_a_sentence_and_nothing_saved(client, db):
    await login_as(client, db, Role.ADMIN)
    before = await _count(db, MenuCycle)
    site = await canteen(db)
    tuesday = (NEXT_MONDAY + timedelta(days=1)).isoformat()
    cases = [
        ({"name": "x", "weeks": 0, "starts_on": NEXT_MONDAY.isoformat()}, 400, None),
        ({"name": "x", "weeks": 2, "starts_on": tuesday}, 422, "is not one"),
        (
            {"name": "x", "weeks": 2, "starts_on": NEXT_MONDAY.isoformat(), "site_ids": [999999]},
            422,
            "no site 999999",
        ),
        (
            {"name": "x", "weeks": 2, "starts_on": NEXT_MONDAY.isoformat(), "site_ids": [site.id]},
            409,
            "already follows the cycle",
        ),
    ]
    for body, status, words in cases:
        response = await client.post("/api/v1/menu-cycles", json=body)
        assert response.status_code == status, (body, response.text)
        if words:
            assert words in response.json()["detail"]
    cycle_id = (await client.get("/api/v1/menu-cycles")).json()["items"][0]["id"]
    unknown_dish = await client.put(
        f"/api/v1/menu-cycles/{cycle_id}/days/0/lunch",
        json={
            "set_meals": [{"code": "A", "name": "A", "list_price_fen": 100, "dish_ids": [999999]}]
        },
    )
    assert unknown_dish.status_code == 422
    assert "no dish 999999" in unknown_dish.json()["detail"]
    outside = await client.put(
        f"/api/v1/menu-cycles/{cycle_id}/days/40/lunch", json={"set_meals": []}
    )
    assert outside.status_code == 422 and "outside this 4-week cycle" in outside.json()["detail"]
    assert await _count(db, MenuCycle) == before
    async with db() as s:
        cycle = await s.get(MenuCycle, cycle_id)
        assert len([i for i in cycle.items if i.day_index == 0]) == 4  # untouched


async def test_a_set_meal_with_bookings_is_not_removed_silently(client, db):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY + timedelta(days=2))
    senior = await a_senior(db, *[], with_account=True)
    staff_login = await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    assert staff_login
    async with db() as s:
        from meals.seniors.models import Senior

        senior = (
            await s.scalars(
                select(Senior).where(Senior.home_site_id == site.id).order_by(Senior.id)
            )
        ).first()
    booked = await client.post(
        "/api/v1/bookings",
        json={"senior_id": senior.id, "menu_item_id": ref.item_id, "fulfilment": "dine_in"},
    )
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["id"]
    # Staff may not edit menus at all.
    refused = await client.post(f"/api/v1/menus/{ref.menu_id}/items/A/remove", json={})
    assert refused.status_code == 403

    async with db() as s:  # a daughter bound to the senior, who must be told
        daughter = await s.scalar(select(Account).where(Account.login == "family"))
        await s.merge(
            FamilyBinding(
                account_id=daughter.id, senior_id=senior.id, relation="女儿", consented_at=NOW
            )
        )
        await s.commit()

    await login_as(client, db, Role.ADMIN)
    response = await client.post(f"/api/v1/menus/{ref.menu_id}/items/A/remove", json={})
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert senior.name in detail and f"booking {booking_id}" in detail
    lower = await client.patch(f"/api/v1/menus/{ref.menu_id}/items/A", json={"capacity": 0})
    assert lower.status_code == 409 and "already booked" in lower.json()["detail"]
    no_reason = await client.post(
        f"/api/v1/menus/{ref.menu_id}/items/A/remove", json={"cancel_bookings": True}
    )
    assert no_reason.status_code == 422
    async with db() as s:
        assert (await s.get(Booking, booking_id)).status is BookingStatus.BOOKED
        assert (await s.get(MenuItem, ref.item_id)).withdrawn_at is None

    removed = await client.post(
        f"/api/v1/menus/{ref.menu_id}/items/A/remove",
        json={"cancel_bookings": True, "reason": "供应商断货，请改订B套餐"},
    )
    assert removed.status_code == 200, removed.text
    assert [b["booking_id"] for b in removed.json()["cancelled"]] == [booking_id]
    async with db() as s:
        booking = await s.get(Booking, booking_id)
        assert booking.status is BookingStatus.CANCELLED
        assert booking.cancel_reason == "供应商断货，请改订B套餐"
        told = (
            await s.scalars(
                select(FamilyNotice).where(
                    FamilyNotice.senior_id == senior.id, FamilyNotice.kind == "meal_cancelled"
                )
            )
        ).all()
    assert [(n.account_id, n.kind, n.params["reason"]) for n in told] == [
        (daughter.id, "meal_cancelled", "供应商断货，请改订B套餐")
    ]
    menu = (await client.get(f"/api/v1/menus/{ref.menu_id}")).json()
    assert [i["code"] for i in menu["items"]] == ["B"]
    price = await client.patch(
        f"/api/v1/menus/{ref.menu_id}/items/B", json={"list_price_fen": 1500}
    )
    assert price.status_code == 200
    assert price.json()["items"][0]["list_price_fen"] == 1500
