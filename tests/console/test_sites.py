"""Sites run by the operator: added with slots, windows, cutoffs and seats; changed; closed."""

from __future__ import annotations

from meals.sites.models import Site, SiteSlot
from meals.words import Role
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import login_as
from tests.pages.helpers import visible_text

LUNCH = {
    "slot": "lunch",
    "serve_start": "11:00:00",
    "serve_end": "13:00:00",
    "cutoff_time": "09:00:00",
    "capacity": 80,
}
NEW_SITE = {
    "code": "KL-P99",
    "name": "友谊路助餐点",
    "kind": "meal_point",
    "address": "友谊路 99 号",
    "latitude": 45.6,
    "longitude": 84.9,
    "timezone": "Asia/Urumqi",
    "offers_delivery": True,
    "slots": [LUNCH],
}


async def test_operator_adds_changes_and_closes_a_site(client, db):
    await login_as(client, db, Role.ADMIN)
    made = await client.post("/api/v1/sites", json=NEW_SITE)
    assert made.status_code == 201, made.text
    site_id = made.json()["id"]
    assert made.json()["slots"][0]["cutoff"] == "09:00 the same day"

    dinner = {
        **LUNCH,
        "slot": "dinner",
        "serve_start": "17:00:00",
        "serve_end": "18:30:00",
        "cutoff_time": "15:00:00",
        "cutoff_days_before": 1,
        "capacity": 40,
    }
    changed = await client.put(
        f"/api/v1/sites/{site_id}", json={**NEW_SITE, "slots": [{**LUNCH, "capacity": 90}, dinner]}
    )
    found = await client.get("/api/v1/sites/paged", params={"q": "KL-P99", "kind": "meal_point"})
    closed = await client.post(f"/api/v1/sites/{site_id}/deactivate")
    open_now = await client.get("/api/v1/sites/paged", params={"q": "KL-P99"})

    assert {s["slot"]: s["capacity"] for s in changed.json()["slots"]} == {
        "lunch": 90,
        "dinner": 40,
    }
    assert found.json()["total"] == 1
    assert closed.json()["active"] is False and {s["capacity"] for s in closed.json()["slots"]} == {
        0
    }
    assert open_now.json()["total"] == 0
    entries = await audit_entries(db, "site")
    assert [e.action for e in entries] == ["create", "update", "deactivate"]
    assert entries[1].before["slots"]["lunch"]["capacity"] == 80


BAD_SITES = [  # (changes, code)
    ({"timezone": "Mars/Olympus"}, "bad_timezone"),
    ({"slots": [{**LUNCH, "serve_end": "10:00:00"}]}, "bad_window"),
    ({"slots": [{**LUNCH, "cutoff_time": "12:00:00"}]}, "bad_cutoff"),
    ({"slots": [LUNCH, LUNCH]}, "bad_slot"),
    ({"slots": []}, "no_slots"),
    ({"code": "KL-C"}, "code_taken"),
    ({"latitude": 123}, None),
    ({"slots": [{**LUNCH, "capacity": -1}]}, None),
    ({"kind": "castle"}, None),
]


async def site_rows(db) -> tuple[int, int]:
    return await count(db, Site), await count(db, SiteSlot)


async def test_bad_sites_are_refused_and_nothing_saved(client, db):
    """Every bad site on one app and database, nothing saved checked after each (so none can
    change what the next one sees); every failing case is named."""
    await login_as(client, db, Role.ADMIN)
    before = await site_rows(db)
    failures = []
    for changes, code in BAD_SITES:
        response = await client.post("/api/v1/sites", json={**NEW_SITE, **changes})
        case = f"{changes!r}"
        if not (400 <= response.status_code < 500 and response.json().get("detail")):
            failures.append(f"{case}: {response.status_code} {response.text[:300]}")
        elif code and response.json().get("code") != code:
            failures.append(f"{case}: code {response.json().get('code')!r}, not {code!r}")
        if (after := await site_rows(db)) != before:
            failures.append(f"{case}: (sites, slots) {before} became {after}")
    assert not failures, "\n".join(failures)


async def test_only_the_operator_changes_sites(client, db):
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client); every failing role is named."""
    before = await site_rows(db)
    failures = []
    for role in [Role.SITE_STAFF, Role.KITCHEN, Role.VIEWER, Role.SENIOR]:
        client.cookies.clear()
        await login_as(client, db, role)
        made = await client.post("/api/v1/sites", json=NEW_SITE)
        closed = await client.post("/api/v1/sites/1/deactivate")
        if made.status_code != 403:
            failures.append(f"{role} adds a site: {made.status_code}, not 403")
        if closed.status_code != 403:
            failures.append(f"{role} closes site 1: {closed.status_code}, not 403")
        async with db() as s:
            still_open = (await s.get(Site, 1)).active
        if (after := await site_rows(db)) != before or not still_open:
            failures.append(f"{role}: (sites, slots) {before} became {after}, open {still_open}")
    assert not failures, "\n".join(failures)


async def test_site_pages_add_a_site_with_lunch(client, db):
    await login_as(client, db, Role.ADMIN)
    fields = {
        "code": "KL-P98",
        "name": "胜利路助餐点",
        "kind": "meal_point",
        "address": "胜利路 1 号",
        "latitude": "45.61",
        "longitude": "84.87",
        "timezone": "Asia/Shanghai",
        "lunch": "true",
        "lunch_serve_start": "11:00",
        "lunch_serve_end": "12:30",
        "lunch_cutoff_time": "09:30",
        "lunch_cutoff_days_before": "0",
        "lunch_capacity": "50",
    }
    made = await post_form(client, "/console/sites/new", "/console/sites", fields)
    bad = await post_form(
        client,
        "/console/sites/new",
        "/console/sites",
        {**fields, "code": "KL-P97", "lunch_serve_end": "10:00"},
    )
    assert made.status_code == 303, made.text
    shown = visible_text((await client.get("/console/sites", params={"q": "胜利路"})).text)
    assert "胜利路助餐点" in shown and "11:00–12:30" in shown
    assert bad.status_code == 422 and "10:00" in visible_text(bad.text)
