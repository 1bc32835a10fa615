"""Server-side sessions: ended at once by logout, deactivation, a new role, sites or PIN;
idle and absolute limits; a planted or malformed cookie is no session, never a 500."""

from __future__ import annotations

import secrets
from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from meals.accounts.models import Account, WebSession
from meals.accounts.sessions import STORE_NAME
from meals.words import Role
from seed.data import DEMO_PASSWORDS
from tests.meals.helpers import Sessions, login, login_as
from tests.pages.helpers import submit


async def _account_id(db: Sessions, login_name: str) -> int:
    async with db() as s:
        return await s.scalar(select(Account.id).where(Account.login == login_name))


async def _with_cookie(client: AsyncTestClient, cookie: str, path: str = "/api/v1/auth/me"):
    client.cookies.clear()
    client.cookies.set("session", cookie, domain="testserver.local")
    return await client.get(path, follow_redirects=False)


async def test_an_unchanged_session_is_not_written_or_sent_again(client):
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    assert "session" in client.cookies

    again = await client.get("/api/v1/auth/me")
    assert again.status_code == 200
    assert again.json()["role"] == "admin"
    assert "set-cookie" not in again.headers


async def test_after_logout_the_old_cookie_is_refused(client):
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    cookie = client.cookies["session"]

    out = await client.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert "session=null" in out.headers["set-cookie"]
    refused = await _with_cookie(client, cookie)
    assert refused.status_code == 401


async def test_the_cookie_holds_a_random_id_stored_only_hashed(client, db: Sessions):
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    cookie = client.cookies["session"]
    assert len(cookie) == 64 and int(cookie, 16) >= 0
    async with db() as s:
        stored = list(await s.scalars(select(WebSession.id_hash)))
    assert len(stored) == 1 and cookie not in stored


async def test_a_planted_session_id_is_replaced_at_login(client):
    planted = secrets.token_hex(32)
    client.cookies.set("session", planted, domain="testserver.local")
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    assert client.cookies["session"] != planted
    assert (await _with_cookie(client, planted)).status_code == 401


def _use(client: AsyncTestClient, cookie: str) -> None:
    """Act as the device holding `cookie` (one test client plays several devices)."""
    client.cookies.clear()
    client.cookies.set("session", cookie, domain="testserver.local")


async def _session_of(client: AsyncTestClient, login_name: str, secret: str) -> str:
    client.cookies.clear()
    await login(client, login_name, DEMO_PASSWORDS[secret])
    return client.cookies["session"]


async def test_deactivation_ends_a_kitchen_accounts_sessions_at_once(client, db: Sessions):
    kitchen = await _session_of(client, "kitchen", "kitchen")
    assert (await client.get("/kitchen/", follow_redirects=False)).status_code == 200
    kitchen_id = await _account_id(db, "kitchen")

    await _session_of(client, "admin", "admin")
    done = await client.post(f"/api/v1/accounts/{kitchen_id}/deactivate")
    assert done.status_code == 200, done.text
    assert done.json()["active"] is False

    _use(client, kitchen)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await client.get("/kitchen/", follow_redirects=False)).status_code == 303  # to log in
    again = await client.post(
        "/api/v1/auth/login", json={"login": "kitchen", "password": DEMO_PASSWORDS["kitchen"]}
    )
    assert again.status_code == 401


async def test_a_new_role_ends_the_sessions(client, db: Sessions):
    staff = await login_as(client, db, Role.SITE_STAFF)
    staff_cookie = client.cookies["session"]
    assert (await client.get("/staff/", follow_redirects=False)).status_code == 200

    await _session_of(client, "admin", "admin")
    changed = await client.put(
        f"/api/v1/accounts/{staff['account_id']}/role", json={"role": "driver"}
    )
    assert changed.status_code == 200, changed.text

    _use(client, staff_cookie)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await client.get("/staff/", follow_redirects=False)).status_code == 303


async def test_the_role_is_read_from_the_account_on_every_request(client, db: Sessions):
    """Even a role changed straight in the database (no session ended) counts at once."""
    staff = await login_as(client, db, Role.SITE_STAFF)
    assert (await client.get("/staff/", follow_redirects=False)).status_code == 200
    async with db() as s:
        await s.execute(
            update(Account).where(Account.id == staff["account_id"]).values(role=Role.DRIVER)
        )
        await s.commit()

    refused = await client.get("/staff/", follow_redirects=False)
    assert refused.status_code == 403
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "driver"


async def test_new_sites_or_a_new_pin_end_the_sessions(client, db: Sessions):
    staff = await login_as(client, db, Role.SITE_STAFF)
    staff_cookie = client.cookies["session"]
    client.cookies.clear()
    senior = await login_as(client, db, Role.SENIOR)
    senior_cookie = client.cookies["session"]

    await _session_of(client, "admin", "admin")
    moved = await client.put(
        f"/api/v1/accounts/{staff['account_id']}/sites", json={"site_ids": [1]}
    )
    assert moved.status_code == 200, moved.text
    reset = await client.put(
        f"/api/v1/accounts/{senior['account_id']}/password", json={"password": "654321"}
    )
    assert reset.status_code == 200, reset.text

    for cookie in (staff_cookie, senior_cookie):
        assert (await _with_cookie(client, cookie)).status_code == 401


async def test_the_operator_lists_and_ends_an_accounts_sessions(client, db: Sessions):
    kitchen_id = await _account_id(db, "kitchen")
    phone = await _session_of(client, "kitchen", "kitchen")
    tablet = await _session_of(client, "kitchen", "kitchen")
    operator = await _session_of(client, "admin", "admin")

    listed = await client.get(f"/api/v1/accounts/{kitchen_id}/sessions")
    assert listed.status_code == 200
    assert len(listed.json()) == 2
    assert phone not in listed.text and tablet not in listed.text
    _use(client, phone)
    assert (await client.get(f"/api/v1/accounts/{kitchen_id}/sessions")).status_code == 403

    _use(client, operator)
    ended = await client.delete(f"/api/v1/accounts/{kitchen_id}/sessions")
    assert ended.status_code == 200 and ended.json() == {"ended": 2}
    for device in (phone, tablet):
        assert (await _with_cookie(client, device)).status_code == 401
    assert (await _with_cookie(client, operator)).status_code == 200


async def test_a_session_ends_when_idle_and_after_its_absolute_lifetime(client, app):
    """Sessions age on their own clock (real time), not on the service's pinned one."""
    settings = app.state.settings
    clock = app.stores.get(STORE_NAME).clock
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    clock.offset = settings.session_idle_timeout - timedelta(minutes=1)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    clock.offset += settings.session_idle_timeout + timedelta(seconds=1)
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    clock.offset = timedelta()
    await login(client, "admin", DEMO_PASSWORDS["admin"])
    step = settings.session_idle_timeout - timedelta(minutes=1)
    while clock.offset + step < settings.session_absolute_lifetime:
        clock.offset += step
        assert (await client.get("/api/v1/auth/me")).status_code == 200
    clock.offset = settings.session_absolute_lifetime + timedelta(seconds=1)
    assert (await client.get("/api/v1/auth/me")).status_code == 401


MALFORMED_COOKIES = [
    "garbage",
    "null",
    "0" * 64,
    "Zm9v" * 40 + "!!",
    "a" * 5000,
    '"unterminated',
    "ab" * 31 + "%ff",
]


async def test_a_malformed_session_cookie_is_no_session_never_a_500(client):
    """Every malformed cookie on one app and database (each request sends only that cookie);
    every failing cookie is named."""
    failures = []
    for cookie in MALFORMED_COOKIES:
        case = repr(cookie if len(cookie) < 80 else cookie[:40] + f"… ({len(cookie)} chars)")
        if (status := (await _with_cookie(client, cookie)).status_code) != 401:
            failures.append(f"{case} /api/v1/auth/me: {status}, not 401")
        if (status := (await _with_cookie(client, cookie, "/health")).status_code) != 200:
            failures.append(f"{case} /health: {status}, not 200")
        page = await _with_cookie(client, cookie, "/menu")
        if not (page.status_code == 303 and page.headers["location"].startswith("/login")):
            failures.append(f"{case} /menu: {page.status_code} {page.headers.get('location')}")
        if (status := (await _with_cookie(client, cookie, "/login")).status_code) != 200:
            failures.append(f"{case} /login: {status}, not 200")
    assert not failures, "\n".join(failures)


async def test_the_operator_sees_an_accounts_sessions_on_a_page_and_ends_them(client, db: Sessions):
    kitchen = await _session_of(client, "kitchen", "kitchen")
    assert (await client.get("/accounts/sessions", follow_redirects=False)).status_code == 403

    await _session_of(client, "admin", "admin")
    found = await client.get("/accounts/sessions?login=kitchen", follow_redirects=False)
    assert found.status_code == 303
    page = found.headers["location"]
    listed = await client.get(page)
    assert listed.status_code == 200
    assert listed.text.count("<li>登录时间") == 1  # the kitchen's one session
    assert "结束全部 1 个会话" in listed.text
    unknown = await client.get("/accounts/sessions?login=nobody-here")
    assert unknown.status_code == 404 and "nobody-here" in unknown.text

    ended = await submit(client, page, page.replace("/sessions", "/sessions/end"), {})
    assert ended.status_code == 303
    after = await client.get(page)
    assert "1 个会话已结束" in after.text and "这个账号目前没有在任何地方登录" in after.text

    _use(client, kitchen)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
