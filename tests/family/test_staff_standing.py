"""Meal-point staff keep standing orders for the seniors of their site (phoneless ones too),
each change kept in the audit log; another site's senior is out of their reach."""

from __future__ import annotations

from sqlalchemy import select

from meals.audit.models import AuditEntry
from meals.bookings.models import Booking
from meals.seniors.models import Senior
from meals.words import Role
from tests.meals.helpers import canteen, login_as, senior_at
from tests.pages.helpers import submit, visible_text


async def test_staff_set_and_end_a_standing_order_for_a_senior_of_their_site(client, db):
    site = await canteen(db)
    other = await canteen(db, 1)
    senior = await senior_at(db, site.id, 0)
    stranger = await senior_at(db, other.id, 0)
    async with db() as s:
        (await s.get(Senior, senior.id)).phone = None  # no phone: staff are the only way
        await s.commit()
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    page = f"/staff/standing?senior={senior.id}"
    opened = await client.get(page)
    assert opened.status_code == 200 and senior.name in visible_text(opened.text)

    fields = {"slot": "lunch", "item_code": "A", "fulfilment": "dine_in"}
    fields.update({f"day_{d}": "true" for d in range(5)})
    saved = await submit(client, page, page, fields)
    assert saved.status_code == 303 and saved.headers["location"] == page
    async with db() as s:
        booked = list(await s.scalars(select(Booking).where(Booking.senior_id == senior.id)))
        audit = list(
            await s.scalars(select(AuditEntry).where(AuditEntry.entity == "standing_order"))
        )
    assert booked and all(b.booked_by.value == "staff" for b in booked)
    assert [a.action for a in audit] == ["standing_order.save"]

    ended = await submit(client, page, f"/staff/standing/end?senior={senior.id}", {"slot": "lunch"})
    assert ended.status_code == 303
    async with db() as s:
        actions = list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-1] == "standing_order.end"

    refused = await client.get(f"/staff/standing?senior={stranger.id}")
    assert refused.status_code in (403, 404)
    assert refused.headers["content-type"].startswith("text/html")


async def test_standing_orders_opened_without_a_senior_send_staff_to_find_one(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    opened = await client.get("/staff/standing", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/staff/book"
    book_page = await client.get("/staff/book")
    assert "请先找到这位老人" in visible_text(book_page.text)
