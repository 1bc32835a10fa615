"""Bad input is a clear 4xx, never a 500, and never changes what was saved."""

from __future__ import annotations

from meals.words import Role
from tests.conftest import TODAY
from tests.meals.helpers import canteen, count_bookings, login_as, meal

HUGE = 10**12


BAD_BOOKINGS = [  # (payload, status)
    ({"senior_id": 999_999, "menu_item_id": 1}, 404),
    ({"senior_id": 1, "menu_item_id": 999_999}, 404),
    ({"senior_id": -1, "menu_item_id": 1}, 400),
    ({"senior_id": HUGE, "menu_item_id": 1}, 400),
    ({"senior_id": "one", "menu_item_id": 1}, 400),
    ({"senior_id": 1, "menu_item_id": 1, "fulfilment": "teleport"}, 400),
    ({"senior_id": 1, "menu_item_id": 1, "variant": "spicy"}, 400),
    ({"senior_id": 1, "menu_item_id": 1, "price_fen": 0}, 400),
    ({"menu_item_id": 1}, 400),
    ([], 400),
]


async def test_bad_booking_requests(client, db):
    """Every bad booking on one app and database: each is refused with its status and a
    reason, and no booking is saved after any of them; every failing case is named."""
    await login_as(client, db, Role.ADMIN)
    failures = []
    for payload, status in BAD_BOOKINGS:
        response = await client.post("/api/v1/bookings", json=payload)
        if response.status_code != status:
            failures.append(f"{payload!r}: {response.status_code}, not {status}: {response.text}")
        elif not response.json().get("detail"):
            failures.append(f"{payload!r}: no detail: {response.text}")
        if (saved := await count_bookings(db)) != 0:
            failures.append(f"{payload!r}: {saved} bookings saved")
    assert not failures, "\n".join(failures)


async def test_malformed_json_body(client, db):
    await login_as(client, db, Role.ADMIN)
    response = await client.post(
        "/api/v1/bookings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


BAD_QUERIES = [
    "/api/v1/bookings?date_from=2026-13-01",
    "/api/v1/bookings?limit=0",
    "/api/v1/bookings?limit=100000",
    "/api/v1/bookings?offset=-1",
    "/api/v1/bookings?status=eaten",
    "/api/v1/bookings/0",
    "/api/v1/bookings/99999999999",
    "/api/v1/menus?date_from=2026-11-30&date_to=2026-11-01",
    "/api/v1/menus?date_from=2026-01-01&date_to=2026-12-31",
    "/api/v1/seniors?q=" + "x" * 100,
    "/api/v1/quote?senior_id=1",
]


async def test_bad_queries_are_4xx(client, db):
    """Every bad query (reads only) on one app and database; every failing URL is named."""
    await login_as(client, db, Role.ADMIN)
    failures = []
    for url in BAD_QUERIES:
        response = await client.get(url)
        if not 400 <= response.status_code < 500:
            failures.append(f"{url}: {response.status_code} {response.text[:300]}")
    assert not failures, "\n".join(failures)


async def test_wrong_idempotency_key_header(client, db):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    await login_as(client, db, Role.ADMIN)
    response = await client.post(
        "/api/v1/bookings",
        json={"senior_id": 1, "menu_item_id": ref.item_id},
        headers={"Idempotency-Key": "k" * 500},
    )
    assert response.status_code == 400
    assert await count_bookings(db) == 0


async def test_unknown_booking_cancel_is_404(client, db):
    await login_as(client, db, Role.ADMIN)
    response = await client.post("/api/v1/bookings/424242/cancel")
    assert response.status_code == 404
    assert "424242" in response.json()["detail"]


NUL_LOGINS = [  # (url, body)
    ("/api/v1/auth/login", {"login": "adm\u0000in", "password": "x"}),
    ("/api/v1/auth/login", {"login": "admin", "password": "pass\u0000word"}),
]


async def test_nul_characters_are_refused_not_500(client):
    failures = []
    for url, body in NUL_LOGINS:
        client.cookies.clear()
        response = await client.post(url, json=body)
        if not 400 <= response.status_code < 500:
            failures.append(f"{url} {body!r}: {response.status_code} {response.text[:300]}")
    assert not failures, "\n".join(failures)


async def test_nul_in_a_search_is_refused_not_500(client, db):
    """Lists read through advanced-alchemy's services too (their errors wrap the database's);
    each list in turn on one app and database, every failing list named."""
    await login_as(client, db, Role.ADMIN)
    failures = []
    for path in ["/api/v1/seniors", "/api/v1/accounts", "/api/v1/dishes"]:
        response = await client.get(path, params={"q": "王\u0000", "offset": 2_147_483_647})
        if response.status_code != 400:
            body = response.json()
            if not (response.status_code == 200 and (body == [] or body["items"] == [])):
                failures.append(f"{path}: {response.status_code} {body!r}"[:400])
    assert not failures, "\n".join(failures)
