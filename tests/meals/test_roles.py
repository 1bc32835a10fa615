"""Every route states its roles; scoping is enforced in the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meals.accounts.models import Account
from meals.seniors.models import Senior
from meals.words import Role
from tests.conftest import TODAY
from tests.meals.helpers import (
    a_senior,
    bound_senior_ids,
    canteen,
    login,
    login_as,
    meal,
    senior_at,
)

ALL = set(Role)
BOOKERS = {Role.SENIOR, Role.FAMILY, Role.SITE_STAFF, Role.ADMIN}

# (method, path, roles that may call it); {item} and {senior} are filled in per test.
ROUTES = [
    ("GET", "/api/v1/auth/me", ALL),
    ("GET", "/api/v1/sites", ALL),
    ("GET", "/api/v1/sites/1", ALL),
    ("GET", "/api/v1/menus", ALL),
    ("GET", "/api/v1/seniors", BOOKERS),
    ("GET", "/api/v1/seniors/{senior}", BOOKERS),
    ("GET", "/api/v1/bookings", BOOKERS),
    ("GET", "/api/v1/bookings/1", BOOKERS),
    ("POST", "/api/v1/bookings", BOOKERS),
    ("POST", "/api/v1/bookings/1/cancel", BOOKERS),
    ("GET", "/api/v1/quote?senior_id={senior}&menu_item_id={item}", BOOKERS),
    ("POST", "/api/v1/bookings/1/corrections", {Role.SITE_STAFF, Role.ADMIN}),
    ("GET", "/api/v1/settlement/2026-10", {Role.ADMIN, Role.VIEWER}),
    ("GET", "/api/v1/settlement/2026-10/bookings", {Role.ADMIN, Role.VIEWER}),
    ("POST", "/api/v1/settlement/2026-10/close", {Role.ADMIN}),
    ("GET", "/api/v1/board", {Role.ADMIN, Role.VIEWER}),
    ("GET", "/api/v1/callbacks/2026-10", {Role.ADMIN, Role.VIEWER, Role.SITE_STAFF}),
    ("POST", "/api/v1/callbacks/2026-10/draw", {Role.ADMIN}),
    ("POST", "/api/v1/callbacks/calls/1", {Role.ADMIN, Role.SITE_STAFF}),
    ("GET", "/api/v1/menu-cycles", {Role.ADMIN}),
    ("POST", "/api/v1/menu-cycles", {Role.ADMIN}),
    ("GET", "/api/v1/menu-cycles/1", {Role.ADMIN}),
    ("PATCH", "/api/v1/menu-cycles/1", {Role.ADMIN}),
    ("PUT", "/api/v1/menu-cycles/1/days/0/lunch", {Role.ADMIN}),
    ("POST", "/api/v1/menu-cycles/1/publish", {Role.ADMIN}),
    ("PATCH", "/api/v1/menus/1/items/A", {Role.ADMIN}),
    ("POST", "/api/v1/menus/1/items/A/remove", {Role.ADMIN}),
]


@pytest.mark.parametrize("role", list(Role))
async def test_role_matrix(client, db, role):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    senior = await senior_at(db, site.id)
    await login_as(client, db, role, **({"site_id": site.id} if role is Role.SITE_STAFF else {}))
    for method, path, allowed in ROUTES:
        url = path.format(item=ref.item_id, senior=senior.id)
        body = {"senior_id": senior.id, "menu_item_id": ref.item_id}
        response = await client.request(method, url, json=body if method == "POST" else None)
        if role in allowed:
            assert response.status_code not in (401, 403, 500) or (
                # allowed routes may still refuse out-of-scope data with a reason
                response.status_code == 403 and response.json().get("code") == "out_of_scope"
            ), f"{role} {method} {url}: {response.status_code} {response.text}"
        else:
            assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"


async def test_anonymous_is_401(client):
    """Every route, one after another on one app and database (each case is refused, so none
    can affect the next), with no cookies, as a fresh client; every failing route is named."""
    failures = []
    for method, path, _roles in ROUTES:
        client.cookies.clear()
        response = await client.request(method, path.format(item=1, senior=1))
        case = f"{method} {path}"
        if response.status_code != 401:
            failures.append(f"{case}: {response.status_code} {response.text[:200]}")
        elif response.json().get("detail") != "Please log in first.":
            failures.append(f"{case}: detail {response.json().get('detail')!r}")
    assert not failures, "\n".join(failures)


async def test_senior_sees_and_books_only_for_self(client, db):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    me = await senior_at(db, site.id, 0)
    other = await senior_at(db, site.id, 1)

    async with db() as s:
        s.add(
            Account(
                login="me-test",
                display_name="me",
                role=Role.SENIOR,
                password_hash=(
                    __import__("meals.accounts.service", fromlist=["hash_password"]).hash_password(
                        "pin-1"
                    )
                ),
                senior_id=me.id,
            )
        )
        await s.commit()

    await login(client, "me-test", "pin-1")
    mine = await client.post(
        "/api/v1/bookings", json={"senior_id": me.id, "menu_item_id": ref.item_id}
    )
    theirs = await client.post(
        "/api/v1/bookings", json={"senior_id": other.id, "menu_item_id": ref.item_id}
    )
    other_record = await client.get(f"/api/v1/seniors/{other.id}")
    listed = await client.get("/api/v1/bookings")

    assert mine.status_code == 201
    assert theirs.status_code == 403 and theirs.json()["code"] == "out_of_scope"
    assert other_record.status_code == 404
    assert {b["senior_id"] for b in listed.json()} == {me.id}


async def test_family_books_for_bound_senior_only(client, db):
    bound = await bound_senior_ids(db)
    async with db() as s:
        senior = await s.get(Senior, bound[0])
        senior.halal, senior.iddsi_level, senior.allergens = False, 7, []
        await s.commit()
        site_id = senior.home_site_id
    ref = await meal(db, site_id, TODAY)
    stranger = await a_senior(db, Senior.id.not_in(bound))
    await login_as(client, db, Role.FAMILY)

    ok = await client.post(
        "/api/v1/bookings", json={"senior_id": bound[0], "menu_item_id": ref.item_id}
    )
    refused = await client.post(
        "/api/v1/bookings", json={"senior_id": stranger.id, "menu_item_id": ref.item_id}
    )
    me = await client.get("/api/v1/auth/me")

    assert ok.status_code == 201 and ok.json()["booked_by"] == "family"
    assert refused.status_code == 403
    assert me.json()["senior_ids"] == bound


async def test_staff_act_only_at_their_sites(client, db):
    mine = await canteen(db, 0)
    theirs = await canteen(db, 1)
    senior = await senior_at(db, theirs.id)
    await login_as(client, db, Role.SITE_STAFF, site_id=mine.id)

    walk_in = await client.post(
        "/api/v1/bookings",
        json={"senior_id": senior.id, "menu_item_id": (await meal(db, mine.id, TODAY)).item_id},
    )
    elsewhere = await client.post(
        "/api/v1/bookings",
        json={"senior_id": senior.id, "menu_item_id": (await meal(db, theirs.id, TODAY)).item_id},
    )
    seniors = await client.get("/api/v1/seniors", params={"limit": 500})
    bookings = await client.get("/api/v1/bookings")

    assert walk_in.status_code == 201 and walk_in.json()["booked_by"] == "staff"
    assert elsewhere.status_code == 403
    assert {s["home_site_id"] for s in seniors.json()} == {mine.id}
    assert {b["site_id"] for b in bookings.json()} == {mine.id}


async def test_wrong_password_then_backed_off_not_locked_out(client, db, clock):
    for _ in range(3):
        wrong = await client.post("/api/v1/auth/login", json={"login": "admin", "password": "nope"})
        assert wrong.status_code == 401
    right_but_early = await client.post(
        "/api/v1/auth/login", json={"login": "admin", "password": "warmmeal-admin"}
    )
    assert right_but_early.status_code == 429
    assert "wait 2 seconds" in right_but_early.json()["detail"]
    clock.offset = timedelta(seconds=2)
    right = await client.post(
        "/api/v1/auth/login", json={"login": "admin", "password": "warmmeal-admin"}
    )
    assert right.status_code == 200


async def test_logout_ends_the_session(client, db):
    await login_as(client, db, Role.ADMIN)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401
