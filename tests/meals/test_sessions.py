"""The session cookie is re-sent only when the session changed or is due for renewal."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from litestar.testing import AsyncTestClient

from meals.accounts.sessions import RenewingCookieBackend, RenewingCookieConfig
from meals.app import create_app
from seed.data import DEMO_PASSWORDS
from tests.meals.helpers import login


async def test_an_unchanged_session_is_not_sent_again_until_logout(client):
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    assert "session" in client.cookies

    again = await client.get("/api/v1/auth/me")
    assert again.status_code == 200
    assert again.json()["role"] == "admin"
    assert "set-cookie" not in again.headers

    out = await client.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert "session=null" in out.headers["set-cookie"]
    refused = await client.get("/api/v1/auth/me")
    assert refused.status_code == 401


async def test_a_session_due_for_renewal_is_sent_again_and_keeps_working(settings, clock):
    app = create_app(replace(settings, session_touch_interval=timedelta(0)), clock=clock)
    async with AsyncTestClient(app=app) as client:
        await login(client, "admin", DEMO_PASSWORDS["admin"])
        first = client.cookies["session"]

        renewed = await client.get("/api/v1/auth/me")
        assert renewed.status_code == 200
        assert renewed.headers["set-cookie"].startswith("session=")
        assert client.cookies["session"] != first

        still = await client.get("/api/v1/auth/me")
        assert still.status_code == 200
        assert still.json()["role"] == "admin"


def _backend(max_age: int = 60) -> RenewingCookieBackend:
    config = RenewingCookieConfig(secret=b"k" * 32, max_age=max_age, remembered_sessions=10)
    return RenewingCookieBackend(config=config)


def test_a_remembered_cookie_opens_only_until_the_expiry_sealed_in_it(monkeypatch):
    backend = _backend(max_age=60)
    cookie = backend.dump_data({"account_id": 7, "role": "admin"})
    first = backend.load_data(cookie)
    first["role"] = "changed by this request only"

    assert backend.load_data(cookie) == {"account_id": 7, "role": "admin"}
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert backend.load_data(cookie) == {}


def test_a_forged_cookie_is_refused_even_beside_a_remembered_one():
    backend = _backend()
    (cookie,) = backend.dump_data({"account_id": 7, "role": "senior"})
    assert backend.load_data([cookie]) == {"account_id": 7, "role": "senior"}
    forged = cookie[:20] + (b"A" if cookie[20:21] != b"A" else b"B") + cookie[21:]

    with pytest.raises(InvalidTag):
        backend.load_data([forged])
