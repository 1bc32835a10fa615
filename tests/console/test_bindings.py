"""Family bindings with consent: asked by the family, agreed by the senior or by staff with the
senior present, ended by either side; the family's reach changes at once."""

from __future__ import annotations

from meals.accounts.models import Account, FamilyBinding, FamilyBindingRequest
from meals.accounts.service import hash_password
from meals.words import Role
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import canteen, login, login_as, senior_at
from tests.pages.helpers import visible_text


async def _senior_with_login(db, site_id: int, phone: str = "13600000001"):
    senior = await senior_at(db, site_id, 1, phone=phone)
    async with db() as s:
        s.add(
            Account(
                login=phone,
                display_name=senior.name,
                role=Role.SENIOR,
                password_hash=hash_password("111222"),
                senior_id=senior.id,
            )
        )
        s.add(
            Account(
                login="new-family",
                display_name="孙女",
                role=Role.FAMILY,
                password_hash=hash_password("family-pass-1"),
            )
        )
        await s.commit()
    return senior


async def test_family_asks_senior_consents_then_family_books_and_ends_it(client, db):
    site = await canteen(db)
    senior = await _senior_with_login(db, site.id)
    await login(client, "new-family", "family-pass-1")

    asked = await client.post(
        "/api/v1/bindings/requests", json={"senior": "13600000001", "relation": "孙女"}
    )
    again = await client.post(
        "/api/v1/bindings/requests", json={"senior": "13600000001", "relation": "孙女"}
    )
    before_consent = await client.get(f"/api/v1/seniors/{senior.id}")
    assert asked.status_code == 201 and asked.json()["senior_name"] is None  # nothing shown yet
    assert again.status_code == 409 and before_consent.status_code == 404

    await client.post("/api/v1/auth/logout")
    await login(client, "13600000001", "111222")
    waiting = await client.get("/api/v1/bindings/requests")
    agreed = await client.post(
        f"/api/v1/bindings/requests/{waiting.json()[0]['id']}/consent", json={}
    )
    assert agreed.json()["status"] == "bound" and agreed.json()["consent_by"] == "senior"

    await client.post("/api/v1/auth/logout")
    family = await login(client, "new-family", "family-pass-1")
    assert family["senior_ids"] == [senior.id]
    assert (await client.get(f"/api/v1/seniors/{senior.id}")).status_code == 200
    ended = await client.post(
        "/api/v1/bindings/end",
        json={"senior_id": senior.id, "family_account_id": family["account_id"]},
    )
    assert ended.status_code == 200
    assert (await client.get(f"/api/v1/seniors/{senior.id}")).status_code == 404
    actions = [e.action for e in await audit_entries(db, "family_binding")]
    assert actions == ["ask", "consent", "end"]


async def test_staff_bind_at_the_counter_only_with_the_senior_present_and_at_their_site(client, db):
    mine, theirs = await canteen(db, 0), await canteen(db, 1)
    senior = await senior_at(db, mine.id, 1)
    elsewhere = await senior_at(db, theirs.id, 1)
    await login_as(client, db, Role.SITE_STAFF, site_id=mine.id)
    body = {
        "senior_id": senior.id,
        "relation": "儿子",
        "family_login": "13511112222",
        "family_name": "李强",
        "family_password": "li-qiang-pass",
    }
    before = await count(db, FamilyBinding)

    absent = await client.post("/api/v1/bindings", json=body)
    other_site = await client.post(
        "/api/v1/bindings", json={**body, "senior_id": elsewhere.id, "senior_present": True}
    )
    no_password = await client.post(
        "/api/v1/bindings",
        json={**body, "senior_present": True, "family_password": None},
    )
    assert absent.status_code == 422 and absent.json()["code"] == "senior_not_present"
    assert other_site.status_code == 404
    assert no_password.status_code == 422 and no_password.json()["code"] == "no_family_account"
    assert await count(db, FamilyBinding) == before
    assert await count(db, Account, Account.login == "13511112222") == 0

    bound = await client.post("/api/v1/bindings", json={**body, "senior_present": True})
    assert bound.status_code == 201 and bound.json()["consent_by"] == "staff"
    await client.post("/api/v1/auth/logout")
    family = await login(client, "13511112222", "li-qiang-pass")
    assert family["senior_ids"] == [senior.id]
    async with db() as s:
        kept = (await s.execute(FamilyBindingRequest.__table__.select())).all()
    assert len(kept) == 1 and kept[0].consent_by == "staff"


async def test_only_staff_and_operator_bind_at_the_counter(client, db):
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client); nothing bound after any; every failing role is named."""
    body = {"senior_id": 1, "relation": "子", "family_login": "x1234", "senior_present": True}
    before = await count(db, FamilyBinding)
    failures = []
    for role in [Role.KITCHEN, Role.DRIVER, Role.VIEWER, Role.FAMILY, Role.SENIOR]:
        client.cookies.clear()
        await login_as(client, db, role)
        response = await client.post("/api/v1/bindings", json=body)
        if response.status_code != 403:
            failures.append(f"{role}: {response.status_code}, not 403: {response.text[:300]}")
        if (after := await count(db, FamilyBinding)) != before:
            failures.append(f"{role}: {after - before} bindings saved")
        if await count(db, Account, Account.login == "x1234") != 0:
            failures.append(f"{role}: the family account was saved")
    assert not failures, "\n".join(failures)


async def test_the_senior_confirms_on_the_phone_page(client, db):
    site = await canteen(db)
    await _senior_with_login(db, site.id)
    await login(client, "new-family", "family-pass-1")
    asked = await post_form(
        client,
        "/family-bindings",
        "/family-bindings/ask",
        {"senior": "13600000001", "relation": "孙女"},
    )
    unknown = await post_form(
        client,
        "/family-bindings",
        "/family-bindings/ask",
        {"senior": "0000000", "relation": "孙女"},
    )
    assert asked.status_code == 303
    assert unknown.status_code == 404 and "0000000" in visible_text(unknown.text)
    await client.post("/api/v1/auth/logout")
    await login(client, "13600000001", "111222")
    page = await client.get("/family-bindings")
    assert "孙女" in visible_text(page.text)
    request_id = (await client.get("/api/v1/bindings/requests")).json()[0]["id"]
    agreed = await post_form(client, "/family-bindings", f"/bindings/{request_id}/consent", {})
    assert agreed.status_code == 303
    assert await count(db, FamilyBinding, FamilyBinding.relation == "孙女") == 1
