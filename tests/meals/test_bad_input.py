"""Bad input is a clear 4xx, never a 500, and never changes what was saved."""

from __future__ import annotations

import pytest

from meals.words import Role
from tests.conftest import TODAY
from tests.meals.helpers import canteen, count_bookings, login_as, meal

HUGE = 10**12


@pytest.mark.parametrize(
    ("payload", "status"),
    [
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
    ],
)
async def test_bad_booking_requests(client, db, payload, status):
    await login_as(client, db, Role.ADMIN)
    response = await client.post("/api/v1/bookings", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert await count_bookings(db) == 0


async def test_malformed_json_body(client, db):
    await login_as(client, db, Role.ADMIN)
    response = await client.post(
        "/api/v1/bookings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
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
    ],
)
async def test_bad_queries_are_4xx(client, db, url):
    await login_as(client, db, Role.ADMIN)
    response = await client.get(url)
    assert 400 <= response.status_code < 500, response.text


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


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/auth/login", {"login": "adm\u0000in", "password": "x"}),
        ("/api/v1/auth/login", {"login": "admin", "password": "pass\u0000word"}),
    ],
)
async def test_nul_characters_are_refused_not_500(client, url, body):
    response = await client.post(url, json=body)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("path", ["/api/v1/seniors", "/api/v1/accounts", "/api/v1/dishes"])
async def test_nul_in_a_search_is_refused_not_500(client, db, path):
    """Lists read through advanced-alchemy's services too (their errors wrap the database's)."""
    await login_as(client, db, Role.ADMIN)
    response = await client.get(path, params={"q": "王\u0000", "offset": 2_147_483_647})
    if response.status_code != 400:
        body = response.json()
        assert response.status_code == 200 and (body == [] or body["items"] == []), body
