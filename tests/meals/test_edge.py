"""Every response carries security headers; the JSON API refuses deep, large, non-JSON and
cross-site write bodies with a 4xx sentence before parsing them."""

from __future__ import annotations

import json
from dataclasses import replace

from litestar.testing import AsyncTestClient

from meals.app import create_app
from meals.edge import json_depth
from seed.data import DEMO_PASSWORDS
from tests.meals.helpers import login

LOGIN = "/api/v1/auth/login"


async def test_every_response_carries_security_headers(client):
    """Each path on one app and database; every failing path is named."""
    failures = []
    for path in ["/health", "/login", "/api/v1/auth/me", "/nowhere"]:
        headers = (await client.get(path, follow_redirects=False)).headers
        nosniff, referrer = headers.get("x-content-type-options"), headers.get("referrer-policy")
        policy = headers.get("content-security-policy", "")
        if nosniff != "nosniff":
            failures.append(f"{path}: x-content-type-options {nosniff!r}")
        if referrer != "same-origin":
            failures.append(f"{path}: referrer-policy {referrer!r}")
        if "frame-ancestors 'none'" not in policy:
            failures.append(f"{path}: content-security-policy {policy!r}")
        if "strict-transport-security" in headers:  # plain HTTP in the tests
            failures.append(f"{path}: strict-transport-security over plain HTTP")
    assert not failures, "\n".join(failures)


async def test_hsts_when_cookies_are_secure(settings, clock):
    async with AsyncTestClient(app=create_app(replace(settings, secure_cookies=True))) as client:
        response = await client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_json_nested_a_thousand_levels_is_a_400_before_parsing(client):
    deep = b'{"login": ' + b"[" * 1000 + b"]" * 1000 + b', "password": "x"}'
    response = await client.post(LOGIN, content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"
    assert "levels deep" in response.json()["detail"]


async def test_a_large_body_is_a_413(client, settings):
    big = b'{"login": "' + b"x" * settings.json_max_bytes + b'", "password": "x"}'
    response = await client.post(LOGIN, content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


async def test_the_api_takes_only_json_bodies(client):
    body = b'{"login": "admin", "password": "warmmeal-admin"}'
    response = await client.post(LOGIN, content=body, headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert "session" not in client.cookies


async def test_writes_from_another_sites_page_are_refused(client):
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    foreign = await client.post("/api/v1/auth/logout", headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["code"] == "cross_site"
    fetch = await client.post("/api/v1/auth/logout", headers={"sec-fetch-site": "cross-site"})
    assert fetch.status_code == 403
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    same = await client.post("/api/v1/auth/logout", headers={"origin": "http://testserver.local"})
    assert same.status_code == 204


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth(b'["\\"[[[["]') == 1
    assert json_depth(b"12") == 0


async def test_the_openapi_document_lists_refusals_and_times_of_day(client):
    document = (await client.get("/schema/openapi.json")).json()
    booking = document["paths"]["/api/v1/bookings"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "415", "422", "429"} <= set(
        booking
    )
    assert "503" in document["paths"]["/health"]["get"]["responses"]
    assert '"duration"' not in json.dumps(document)
    slot = document["components"]["schemas"]["SlotView"]["properties"]["serve_start"]
    assert slot["type"] == "string" and slot["pattern"].startswith("^")
