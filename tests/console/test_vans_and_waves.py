"""Vans (hot and cold boxes) and the kitchen's departure waves, kept by the operator."""

from __future__ import annotations

import pytest

from meals.sites.models import DepartureWave, Van
from meals.words import Role
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import login_as
from tests.pages.helpers import visible_text


async def test_operator_adds_changes_and_retires_a_van_and_sets_waves(client, db):
    await login_as(client, db, Role.ADMIN)
    made = await client.post(
        "/api/v1/vans", json={"code": "VAN-99", "capacity_boxes": 30, "cold_capacity_boxes": 8}
    )
    assert made.status_code == 201, made.text
    van_id = made.json()["id"]
    changed = await client.put(
        f"/api/v1/vans/{van_id}",
        json={"code": "VAN-99", "capacity_boxes": 36, "cold_capacity_boxes": 8},
    )
    retired = await client.post(f"/api/v1/vans/{van_id}/deactivate")
    in_service = await client.get("/api/v1/vans", params={"q": "VAN-99"})
    wave = await client.post("/api/v1/waves", json={"slot": "lunch", "departs_at": "10:30:00"})
    twice = await client.post("/api/v1/waves", json={"slot": "lunch", "departs_at": "10:30:00"})
    waves = await client.get("/api/v1/waves")

    assert changed.json()["capacity_boxes"] == 36 and retired.json()["active"] is False
    assert in_service.json()["total"] == 0
    assert wave.status_code == 201 and twice.status_code == 409
    assert [w["departs_at"] for w in waves.json()] == ["10:30:00"]
    assert [e.action for e in await audit_entries(db, "van")] == ["create", "update", "deactivate"]
    assert [e.action for e in await audit_entries(db, "wave")] == ["create"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "VAN-98", "capacity_boxes": 0, "cold_capacity_boxes": 0}, "bad_capacity"),
        ({"code": "VAN-98", "capacity_boxes": 10, "depot_site_id": 2}, "bad_depot"),
        ({"code": "VAN-98", "capacity_boxes": 10, "driver_account_id": 1}, "bad_driver"),
        ({"code": "V 98", "capacity_boxes": 10}, None),
        ({"code": "VAN-98", "capacity_boxes": -3}, None),
    ],
)
async def test_bad_vans_are_refused_and_nothing_saved(client, db, body, code):
    await login_as(client, db, Role.ADMIN)
    before = await count(db, Van)
    response = await client.post("/api/v1/vans", json=body)
    assert 400 <= response.status_code < 500 and response.json()["detail"]
    if code:
        assert response.json()["code"] == code
    assert await count(db, Van) == before


@pytest.mark.parametrize("role", [Role.SITE_STAFF, Role.KITCHEN, Role.DRIVER, Role.VIEWER])
async def test_only_the_operator_changes_vans_and_waves(client, db, role):
    await login_as(client, db, role)
    van = await client.post("/api/v1/vans", json={"code": "VAN-97", "capacity_boxes": 10})
    wave = await client.post("/api/v1/waves", json={"slot": "lunch", "departs_at": "10:30:00"})
    assert van.status_code == wave.status_code == 403
    assert await count(db, DepartureWave) == 0


async def test_vans_page_adds_a_van_and_a_wave(client, db):
    await login_as(client, db, Role.ADMIN)
    page = await client.get("/console/vans")
    assert "10:15" in visible_text(page.text)  # the settings' waves until the operator sets some
    van = await post_form(
        client,
        "/console/vans",
        "/console/vans",
        {"code": "VAN-96", "capacity_boxes": "20", "cold_capacity_boxes": "5"},
    )
    wave = await post_form(
        client, "/console/vans", "/console/vans/waves", {"slot": "dinner", "departs_at": "16:40"}
    )
    assert van.status_code == wave.status_code == 303
    shown = visible_text((await client.get("/console/vans")).text)
    assert "VAN-96" in shown and "16:40" in shown


async def test_van_edit_page_saves_and_shows_a_refusal_in_the_form_keeping_what_was_typed(
    client, db
):
    from sqlalchemy import select

    from tests.pages.helpers import submit

    async with db() as s:
        vans = list(await s.scalars(select(Van).order_by(Van.id).limit(2)))
    van, other = vans
    page = f"/console/vans/{van.id}"
    await login_as(client, db, Role.SITE_STAFF)
    assert (await client.get(page)).status_code in (403, 404)
    await login_as(client, db, Role.ADMIN)

    taken = await submit(
        client, page, page, {"code": other.code, "capacity_boxes": 33, "cold_capacity_boxes": 7}
    )
    bad = await submit(client, page, page, {"code": van.code, "capacity_boxes": 9999})
    saved = await submit(
        client, page, page, {"code": van.code, "capacity_boxes": 33, "cold_capacity_boxes": 7}
    )

    assert taken.status_code == 409 and 'value="33"' in taken.text
    assert other.code in visible_text(taken.text)  # the sentence, in the form
    assert bad.status_code == 422 and 'value="9999"' in bad.text
    assert saved.status_code == 303
    async with db() as s:
        kept = await s.get(Van, van.id)
    assert (kept.code, kept.capacity_boxes, kept.cold_capacity_boxes) == (van.code, 33, 7)
    assert [e.action for e in await audit_entries(db, "van")] == ["update"]
