"""Seniors registered and kept by the operator and by meal-point staff (only at their site):
record, meal card, PIN and deactivation, each step in the audit log."""

from __future__ import annotations

from meals.accounts.models import Account
from meals.seniors.models import Senior
from meals.words import Role
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import canteen, login, login_as
from tests.pages.helpers import visible_text


def a_new_senior(site_id: int, **changes: object) -> dict:
    return {
        "name": "赵桂兰",
        "birth_date": "1940-03-08",
        "address": "昆仑路 12 号 3 单元",
        "home_site_id": site_id,
        "phone": "13912345678",
        "latitude": 45.58,
        "longitude": 84.88,
        "categories": ["lives_alone", "minimum_income"],
        "low_salt": True,
        "iddsi_level": 6,
        "allergens": ["peanut"],
        "delivery_eligible": True,
        "emergency_contacts": [{"name": "赵强", "phone": "13800000000", "relation": "儿子"}],
        "pin": "246810",
        **changes,
    }


async def test_staff_register_a_senior_at_their_site_who_logs_in_with_the_pin(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)

    made = await client.post("/api/v1/seniors", json=a_new_senior(site.id))

    assert made.status_code == 201, made.text
    body = made.json()
    assert body["card_number"].startswith("WM") and body["categories"] == [
        "lives_alone",
        "minimum_income",
    ]
    assert body["emergency_contacts"][0]["relation"] == "儿子"
    entry = (await audit_entries(db, "senior"))[-1]
    assert (entry.action, entry.role, entry.site_id) == ("create", "site_staff", site.id)
    await client.post("/api/v1/auth/logout")
    me = await login(client, "13912345678", "246810")
    assert me["role"] == "senior" and me["senior_id"] == body["id"]


async def test_staff_cannot_register_or_change_seniors_of_another_site(client, db):
    mine, theirs = await canteen(db, 0), await canteen(db, 1)
    await login_as(client, db, Role.SITE_STAFF, site_id=mine.id)
    before = await count(db, Senior)
    async with db() as s:
        other = (
            await s.scalars(Senior.__table__.select().where(Senior.home_site_id == theirs.id))
        ).first()

    made = await client.post("/api/v1/seniors", json=a_new_senior(theirs.id))
    record = a_new_senior(mine.id)
    record.pop("pin")
    changed = await client.put(f"/api/v1/seniors/{other}", json=record)
    pin = await client.put(f"/api/v1/seniors/{other}/pin", json={"pin": "999999"})
    gone = await client.post(f"/api/v1/seniors/{other}/deactivate")

    assert made.status_code == 403 and made.json()["code"] == "out_of_scope"
    assert changed.status_code == pin.status_code == gone.status_code == 404
    assert await count(db, Senior) == before
    assert await audit_entries(db) == []


BAD_SENIOR_RECORDS = [  # (changes, code)
    ({"birth_date": "2090-01-01"}, "bad_birth_date"),
    ({"categories": ["royalty"]}, "bad_category"),
    ({"allergens": ["kryptonite"]}, "bad_allergen"),
    ({"latitude": None}, "bad_location"),
    ({"latitude": None, "longitude": None}, "delivery_no_location"),
    ({"home_site_id": 99999}, "bad_site"),
    ({"phone": "admin1"}, None),
    ({"iddsi_level": 9}, None),
    ({"name": ""}, None),
    ({"pin": "12"}, None),
]


async def test_bad_senior_records_are_refused_and_nothing_saved(client, db):
    """Every bad record on one app and database, nothing saved checked after each (so none
    can change what the next one sees); every failing case is named."""
    site = await canteen(db)
    await login_as(client, db, Role.ADMIN)
    before = await count(db, Senior)
    failures = []
    for changes, code in BAD_SENIOR_RECORDS:
        response = await client.post("/api/v1/seniors", json=a_new_senior(site.id, **changes))
        case = f"{changes!r}"
        if not 400 <= response.status_code < 500:
            failures.append(f"{case}: {response.status_code} {response.text[:300]}")
        else:
            body = response.json()
            if not body.get("detail"):
                failures.append(f"{case}: no detail: {body!r}")
            if code and body.get("code") != code:
                failures.append(f"{case}: code {body.get('code')!r}, not {code!r}")
        if (after := await count(db, Senior)) != before:
            failures.append(f"{case}: {after - before} seniors saved")
        if await count(db, Account, Account.login == "13912345678") != 0:
            failures.append(f"{case}: the senior's account was saved")
    assert not failures, "\n".join(failures)


async def test_other_roles_cannot_register_seniors(client, db):
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client); every failing role is named."""
    before = await count(db, Senior)
    failures = []
    for role in [Role.SENIOR, Role.FAMILY, Role.KITCHEN, Role.DRIVER, Role.VIEWER]:
        client.cookies.clear()
        await login_as(client, db, role)
        response = await client.post("/api/v1/seniors", json=a_new_senior(1))
        if response.status_code != 403:
            failures.append(f"{role}: {response.status_code}, not 403: {response.text[:300]}")
        if (after := await count(db, Senior)) != before:
            failures.append(f"{role}: {after - before} seniors saved")
    assert not failures, "\n".join(failures)


async def test_operator_edits_reissues_card_resets_pin_and_deactivates(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.ADMIN)
    senior = (await client.post("/api/v1/seniors", json=a_new_senior(site.id))).json()
    url = f"/api/v1/seniors/{senior['id']}"
    edited = a_new_senior(site.id, halal=True, iddsi_level=5)
    edited.pop("pin")

    saved = await client.put(url, json=edited)
    card = await client.post(f"{url}/card/reissue")
    pin = await client.put(f"{url}/pin", json={"pin": "135791"})
    gone = await client.post(f"{url}/deactivate")
    listed = await client.get("/api/v1/seniors/paged", params={"q": "赵桂兰"})
    listed_gone = await client.get("/api/v1/seniors/paged", params={"q": "赵桂兰", "active": False})

    assert saved.json()["halal"] is True and saved.json()["iddsi_level"] == 5
    assert card.json()["card_issue"] == 2
    assert pin.json()["login"] == "13912345678"
    assert gone.json()["active"] is False
    assert listed.json()["total"] == 0 and listed_gone.json()["total"] == 1
    entries = await audit_entries(db, "senior")
    assert [e.action for e in entries] == [
        "create",
        "update",
        "reissue_card",
        "reset_pin",
        "deactivate",
    ]
    assert entries[1].before == {"halal": False, "iddsi_level": 6}
    await client.post("/api/v1/auth/logout")
    refused = await client.post(
        "/api/v1/auth/login", json={"login": "13912345678", "password": "135791"}
    )
    assert refused.status_code == 401


async def test_staff_register_a_senior_on_the_page(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    fields = {
        "name": "钱玉珍",
        "birth_date": "1938-07-01",
        "address": "准噶尔路 8 号",
        "home_site_id": site.id,
        "phone": "13700001111",
        "categories": ["empty_nest"],
        "diet": ["low_sugar"],
        "allergens": ["egg", "fish"],
        "contact_name": "钱勇",
        "contact_phone": "13700002222",
        "contact_relation": "儿子",
        "pin": "112233",
    }

    made = await post_form(client, "/console/seniors/new", "/console/seniors", fields)
    wrong = await post_form(
        client, "/console/seniors/new", "/console/seniors", {**fields, "birth_date": "soon"}
    )

    assert made.status_code == 303, made.text
    shown = visible_text((await client.get(made.headers["location"])).text)
    assert "钱玉珍" in shown and "WM" in shown
    assert wrong.status_code == 422 and "birth_date" in visible_text(wrong.text)
    async with db() as s:
        senior = await s.get(Senior, int(made.headers["location"].rsplit("/", 1)[-1]))
    assert senior.low_sugar and senior.allergens == ["egg", "fish"]
    assert senior.home_site_id == site.id
