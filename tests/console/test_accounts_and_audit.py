"""Accounts made and changed by the operator, effective at once, every step in the audit log,
which the operator and civil affairs read, filter and download."""

from __future__ import annotations

import csv
import io

from meals.accounts.models import Account
from meals.words import Role
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import canteen, login, login_as
from tests.pages.helpers import visible_text

NEW_STAFF = {
    "login": "staff-new",
    "display_name": "王小芳",
    "role": "site_staff",
    "password": "counter-pass-1",
}


async def test_operator_creates_staff_who_logs_in_at_once_scoped_to_their_site(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.ADMIN)

    created = await client.post("/api/v1/accounts", json={**NEW_STAFF, "site_ids": [site.id]})
    listed = await client.get("/api/v1/accounts", params={"role": "site_staff", "q": "staff-new"})

    assert created.status_code == 201, created.text
    assert created.json()["site_ids"] == [site.id]
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["login"] == "staff-new"
    me = await login(client, "staff-new", "counter-pass-1")
    assert me["role"] == "site_staff" and me["site_ids"] == [site.id]
    entry = (await audit_entries(db, "account"))[-1]
    assert entry.action == "create" and entry.after["login"] == "staff-new"
    assert "password" not in entry.after and "password_hash" not in entry.after


BAD_ACCOUNTS = [  # (body, code)
    ({**NEW_STAFF, "site_ids": []}, "no_site"),
    ({**NEW_STAFF, "site_ids": [99999]}, "no_site"),
    ({**NEW_STAFF, "login": "admin", "site_ids": [1]}, "login_taken"),
    ({**NEW_STAFF, "role": "senior", "site_ids": [1]}, "bad_role"),
    ({**NEW_STAFF, "password": "short", "site_ids": [1]}, None),
    ({**NEW_STAFF, "login": "has space", "site_ids": [1]}, None),
]


async def test_bad_account_is_refused_with_a_sentence_and_nothing_saved(client, db):
    """Every bad account on one app and database, nothing saved checked after each (so none
    can change what the next one sees); every failing case is named."""
    await login_as(client, db, Role.ADMIN)
    before = await count(db, Account)
    failures = []
    for body, code in BAD_ACCOUNTS:
        response = await client.post("/api/v1/accounts", json=body)
        case = f"{body!r}"
        if not 400 <= response.status_code < 500:
            failures.append(f"{case}: {response.status_code} {response.text[:300]}")
        elif not response.json().get("detail"):
            failures.append(f"{case}: no detail: {response.text[:300]}")
        elif code and response.json().get("code") != code:
            failures.append(f"{case}: code {response.json().get('code')!r}, not {code!r}")
        if (after := await count(db, Account)) != before:
            failures.append(f"{case}: {after - before} accounts saved")
        if entries := await audit_entries(db):
            failures.append(f"{case}: audited {[e.action for e in entries]}")
    assert not failures, "\n".join(failures)


async def test_only_the_operator_manages_accounts(client, db):
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client); every failing role is named."""
    before = await count(db, Account)
    failures = []
    for role in [r for r in Role if r is not Role.ADMIN]:
        client.cookies.clear()
        await login_as(client, db, role)
        made = await client.post("/api/v1/accounts", json={**NEW_STAFF, "site_ids": [1]})
        listed = await client.get("/api/v1/accounts")
        if not made.status_code == listed.status_code == 403:
            failures.append(f"{role}: made {made.status_code}, listed {listed.status_code}")
        if (after := await count(db, Account)) != before:
            failures.append(f"{role}: {after - before} accounts saved")
    assert not failures, "\n".join(failures)


async def test_account_pages_create_change_and_deactivate_with_each_step_audited(client, db):
    site = await canteen(db)
    await login_as(client, db, Role.ADMIN)

    made = await post_form(
        client, "/console/accounts", "/console/accounts", {**NEW_STAFF, "site_ids": [site.id]}
    )
    assert made.status_code == 303, made.text
    page = made.headers["location"]
    opened = await client.get(page)
    assert "王小芳" in visible_text(opened.text)
    role = await post_form(client, page, f"{page}/role", {"role": "kitchen"})
    reset = await post_form(client, page, f"{page}/password", {"password": "new-pass-22"})
    gone = await post_form(client, page, f"{page}/deactivate", {})
    bad = await post_form(client, page, f"{page}/role", {"role": "wizard"})

    assert role.status_code == reset.status_code == gone.status_code == 303
    assert bad.status_code == 422 and "role" in visible_text(bad.text)
    async with db() as s:
        account = await s.get(Account, int(page.rsplit("/", 1)[-1]))
        assert account.role is Role.KITCHEN and not account.active
    actions = [e.action for e in await audit_entries(db, "account")]
    assert actions == ["create", "change_role", "reset_password", "deactivate"]
    refused = await client.post(
        "/api/v1/auth/login", json={"login": "staff-new", "password": "new-pass-22"}
    )
    assert refused.status_code == 401


async def test_audit_log_filters_pages_and_exports_for_operator_and_civil_affairs(client, db):
    await login_as(client, db, Role.ADMIN)
    for n in range(3):
        response = await client.post(
            "/api/v1/accounts",
            json={**NEW_STAFF, "login": f"driver-x{n}", "role": "driver"},
        )
        assert response.status_code == 201
    await client.post("/api/v1/auth/logout")
    await login_as(client, db, Role.VIEWER)

    first = await client.get("/api/v1/audit", params={"entity": "account", "limit": 2})
    second = await client.get("/api/v1/audit", params={"entity": "account", "offset": 2})
    nobody = await client.get("/api/v1/audit", params={"who": "nobody-at-all"})
    past = await client.get("/api/v1/audit", params={"last_day": "2026-11-01"})
    backwards = await client.get(
        "/api/v1/audit", params={"first_day": "2026-11-23", "last_day": "2026-11-01"}
    )
    page = await client.get("/audit", params={"entity": "account"})
    exported = await client.get("/audit/export.csv", params={"entity": "account"})

    assert first.json()["total"] == 3 and len(first.json()["items"]) == 2
    assert first.json()["items"][0]["after"]["login"] == "driver-x2"  # newest first
    assert [e["after"]["login"] for e in second.json()["items"]] == ["driver-x0"]
    assert nobody.json()["total"] == 0 and past.json()["total"] == 0
    assert backwards.status_code == 422 and "swap" in backwards.json()["detail"]
    assert "driver-x1" in visible_text(page.text) and "3" in visible_text(page.text)
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["at", "account_name", "role"] and len(rows) == 4
    assert exported.headers["content-type"].startswith("text/csv")


async def test_audit_log_is_closed_to_everyone_else(client, db):
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client); every failing role is named."""
    failures = []
    for role in [Role.SENIOR, Role.FAMILY, Role.SITE_STAFF, Role.DRIVER]:
        client.cookies.clear()
        await login_as(client, db, role)
        for path in ["/api/v1/audit", "/audit/export.csv"]:
            if (status := (await client.get(path)).status_code) != 403:
                failures.append(f"{role} {path}: {status}, not 403")
    assert not failures, "\n".join(failures)
