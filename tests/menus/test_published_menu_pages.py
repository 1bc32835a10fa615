"""The operator's published-menu pages: a site's menus by date, one menu's set meals with their
bookings named, moving them to another set meal and taking a set meal off; refusals shown at the
set meal with what was typed kept, and nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from meals.bookings.models import Booking
from meals.menus.models import MenuItem
from meals.words import BookingStatus, Role
from tests.conftest import TODAY
from tests.console.helpers import audit_entries, post_form
from tests.meals.helpers import login_as, meal
from tests.menus.test_published_menus_follow import _booked_family_senior
from tests.pages.helpers import visible_text

DAY = TODAY + timedelta(days=2)


async def _page(client, ref) -> str:
    return f"/menus/published/{ref.menu_id}"


async def test_operator_lists_menus_sees_bookings_named_and_moves_them(client, db):
    senior, ref, booking = await _booked_family_senior(client, db)
    await login_as(client, db, Role.ADMIN)
    listed = await client.get("/menus/published", params={"site": ref.site_id})
    assert listed.status_code == 200
    assert f'href="/menus/published/{ref.menu_id}"' in listed.text
    page = await _page(client, ref)
    shown = visible_text((await client.get(page)).text)
    assert senior.name in shown and f"预订 {booking['id']}" in shown, shown[-600:]

    moved = await post_form(
        client, page, f"{page}/items/A/move", {"to_code": "B", "reason": "A 套餐食材未到"}
    )
    assert moved.status_code == 303, moved.text
    async with db() as s:
        on = await s.scalar(
            select(MenuItem.code)
            .join(Booking, Booking.menu_item_id == MenuItem.id)
            .where(Booking.id == booking["id"])
        )
    assert on == "B"
    taken_off = await post_form(client, page, f"{page}/items/A/remove", {})
    assert taken_off.status_code == 303
    after = visible_text((await client.get(page)).text)
    assert "A 套餐食材未到" not in after and [
        e.action for e in await audit_entries(db, "menu_item")
    ][-2:] == ["move_bookings", "delete"]


@pytest.mark.parametrize(
    ("action", "fields", "sentence"),
    [
        ("move", {"to_code": "B", "reason": ""}, "请说明转移订单的原因"),
        ("move", {"to_code": "A", "reason": "换菜"}, "请选择另一个套餐"),
        ("move", {"to_code": "Z", "reason": "换菜"}, "Z"),
        ("remove", {"reason": "停供"}, "请先改订或取消这些订餐"),
        ("remove", {"cancel_bookings": "true", "reason": ""}, "请说明取消订餐的原因"),
    ],
)
async def test_refusals_are_shown_at_the_set_meal_and_nothing_changes(
    client, db, action, fields, sentence
):
    _, ref, booking = await _booked_family_senior(client, db)
    await login_as(client, db, Role.ADMIN)
    page = await _page(client, ref)
    refused = await post_form(client, page, f"{page}/items/A/{action}", fields)
    assert 400 <= refused.status_code < 500
    assert 'role="alert"' in refused.text and sentence in visible_text(refused.text)
    if fields.get("reason"):
        assert f'value="{fields["reason"]}"' in refused.text  # what was typed is kept
    async with db() as s:
        status = await s.scalar(select(Booking.status).where(Booking.id == booking["id"]))
    assert status == BookingStatus.BOOKED


@pytest.mark.parametrize("role", [Role.SITE_STAFF, Role.KITCHEN, Role.VIEWER])
async def test_only_the_operator_opens_and_acts_on_published_menus(client, db, role):
    _, ref, booking = await _booked_family_senior(client, db)
    scope = {"site_id": ref.site_id} if role is Role.SITE_STAFF else {}
    await login_as(client, db, role, **scope)
    assert (await client.get("/menus/published")).status_code == 403
    assert (await client.get(f"/menus/published/{ref.menu_id}")).status_code == 403
    moved = await client.post(
        f"/menus/published/{ref.menu_id}/items/A/move", data={"to_code": "B", "reason": "x"}
    )
    assert moved.status_code == 403
    async with db() as s:
        assert await s.scalar(select(Booking.status).where(Booking.id == booking["id"])) == (
            BookingStatus.BOOKED
        )


async def test_unknown_menu_and_bad_code_answer_a_page(client, db):
    await login_as(client, db, Role.ADMIN)
    assert (await client.get("/menus/published/999999")).status_code == 404
    ref = await meal(db, (await _first_site(db)), DAY)
    bad = await client.get(f"/menus/published/{ref.menu_id}/items/A%20B/move")
    assert bad.status_code in (404, 405)


async def _first_site(db) -> int:
    from tests.meals.helpers import canteen

    return (await canteen(db)).id
