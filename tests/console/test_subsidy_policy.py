"""Subsidy policy versions: a booking is priced by the version in force on the day it is made,
and keeps that price; versions start tomorrow at the earliest and past ones never change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meals.subsidies.models import SubsidyPolicy, SubsidyTier
from meals.words import Role
from tests.conftest import TODAY
from tests.console.helpers import audit_entries, count, post_form
from tests.meals.helpers import canteen, login_as, meal, senior_at
from tests.pages.helpers import visible_text

TOMORROW = TODAY + timedelta(days=1)
FLAT = {"source": "operator", "min_age": 0, "amount_fen": 777}


async def test_a_booking_keeps_the_price_of_the_version_in_force_when_it_was_made(
    client, db, clock
):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    first_day = await meal(db, site.id, TODAY + timedelta(days=2))
    second_day = await meal(db, site.id, TODAY + timedelta(days=3))
    await login_as(client, db, Role.ADMIN)
    made = await client.post(
        "/api/v1/subsidies/policies",
        json={"name": "2026年12月新政", "effective_from": str(TOMORROW), "tiers": [FLAT]},
    )
    assert made.status_code == 201, made.text

    today_booking = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": first_day.item_id}
    )
    clock.offset = timedelta(days=1)
    tomorrow_booking = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": second_day.item_id}
    )
    kept = await client.get(f"/api/v1/bookings/{today_booking.json()['id']}")
    quote = await client.get(
        "/api/v1/quote", params={"senior_id": senior.id, "menu_item_id": first_day.item_id}
    )

    assert today_booking.status_code == tomorrow_booking.status_code == 201
    assert today_booking.json()["subsidy_fen"] != 777
    assert {s["source"] for s in today_booking.json()["subsidies"]} >= {"civil_affairs"}
    assert tomorrow_booking.json()["subsidy_fen"] == 777
    assert [s["source"] for s in tomorrow_booking.json()["subsidies"]] == ["operator"]
    assert kept.json()["subsidy_fen"] == today_booking.json()["subsidy_fen"]
    assert quote.json()["subsidy_fen"] == 777
    assert [e.action for e in await audit_entries(db, "subsidy_policy")] == ["create"]


BAD_VERSIONS = [  # (body, code)
    ({"effective_from": str(TODAY), "tiers": [FLAT]}, "starts_too_early"),
    ({"effective_from": str(TOMORROW), "tiers": [{**FLAT, "source": "nobody"}]}, "bad_source"),
    (
        {"effective_from": str(TOMORROW), "tiers": [{**FLAT, "min_age": 80, "max_age": 70}]},
        "bad_age_band",
    ),
    (
        {"effective_from": str(TOMORROW), "tiers": [{**FLAT, "category": "royalty"}]},
        "bad_category",
    ),
    ({"effective_from": str(TOMORROW), "tiers": []}, None),
    ({"effective_from": str(TOMORROW), "tiers": [{**FLAT, "amount_fen": -5}]}, None),
]


async def test_bad_versions_are_refused_and_nothing_saved(client, db):
    """Every bad version on one app and database, nothing saved checked after each (so none
    can change what the next one sees); every failing case is named."""
    await login_as(client, db, Role.ADMIN)
    before = await count(db, SubsidyTier)
    failures = []
    for body, code in BAD_VERSIONS:
        response = await client.post("/api/v1/subsidies/policies", json={"name": "x", **body})
        case = f"{body!r}"
        if not (400 <= response.status_code < 500 and response.json().get("detail")):
            failures.append(f"{case}: {response.status_code} {response.text[:300]}")
        elif code and response.json().get("code") != code:
            failures.append(f"{case}: code {response.json().get('code')!r}, not {code!r}")
        if await count(db, SubsidyTier) != before or await count(db, SubsidyPolicy) != 1:
            failures.append(f"{case}: a version or its tiers were saved")
    assert not failures, "\n".join(failures)


async def test_a_version_in_force_cannot_be_withdrawn_a_future_one_can(client, db):
    await login_as(client, db, Role.ADMIN)
    made = await client.post(
        "/api/v1/subsidies/policies",
        json={"name": "下月", "effective_from": str(TOMORROW), "tiers": [FLAT]},
    )
    versions = (await client.get("/api/v1/subsidies/policies")).json()
    in_force = versions["items"][-1]["id"]

    refused = await client.post(f"/api/v1/subsidies/policies/{in_force}/withdraw")
    withdrawn = await client.post(f"/api/v1/subsidies/policies/{made.json()['id']}/withdraw")

    assert versions["total"] == 2
    assert refused.status_code == 409 and refused.json()["code"] == "version_in_force"
    assert withdrawn.status_code == 200
    assert await count(db, SubsidyPolicy) == 1


async def test_only_the_operator_changes_the_policy(client, db):
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client); every failing role is named."""
    failures = []
    for role in [Role.SITE_STAFF, Role.SENIOR, Role.KITCHEN, Role.VIEWER]:
        client.cookies.clear()
        await login_as(client, db, role)
        response = await client.post(
            "/api/v1/subsidies/policies",
            json={"name": "x", "effective_from": str(TOMORROW), "tiers": [FLAT]},
        )
        if response.status_code != 403:
            failures.append(f"{role}: {response.status_code}, not 403: {response.text[:300]}")
        if (versions := await count(db, SubsidyPolicy)) != 1:
            failures.append(f"{role}: {versions} versions, not 1")
    assert not failures, "\n".join(failures)


async def test_the_policy_page_copies_the_version_in_force_into_the_next(client, db):
    await login_as(client, db, Role.ADMIN)
    page = await client.get("/console/subsidies")
    assert "¥10.00" in visible_text(page.text)  # 特困 tier of the seeded version
    fields = {
        "name": "2027年政策",
        "effective_from": str(TODAY + timedelta(days=40)),
        "source": ["civil_affairs", "operator"],
        "min_age": ["60", "0"],
        "max_age": ["", ""],
        "category": ["", ""],
        "amount": ["4.50", ""],
    }
    saved = await post_form(client, "/console/subsidies", "/console/subsidies", fields)
    bad = await post_form(
        client, "/console/subsidies", "/console/subsidies", {**fields, "amount": ["4.555", ""]}
    )
    assert saved.status_code == 303
    assert bad.status_code == 422 and "4.555" in visible_text(bad.text)
    async with db() as s:
        newest = (
            await s.scalars(SubsidyPolicy.__table__.select().order_by(SubsidyPolicy.id.desc()))
        ).first()
    assert await count(db, SubsidyTier, SubsidyTier.policy_id == newest) == 1
    assert "2027年政策" in visible_text((await client.get("/console/subsidies")).text)


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"amount": ["4.555", ""]}, "4.555"),
        ({"min_age": ["sixty", "0"]}, "sixty"),
        ({"effective_from": str(TODAY)}, None),  # starts tomorrow at the earliest
        ({"name": "x" * 200}, None),
    ],
)
async def test_a_refused_new_version_is_shown_in_the_form_with_what_was_typed(
    client, db, change, sentence
):
    await login_as(client, db, Role.ADMIN)
    fields = {
        "name": "2027年政策",
        "effective_from": str(TODAY + timedelta(days=40)),
        "note": "区里新标准",
        "source": ["civil_affairs", "operator"],
        "min_age": ["65", "0"],
        "max_age": ["79", ""],
        "category": ["lives_alone", ""],
        "amount": ["4.50", ""],
        **change,
    }
    before = await count(db, SubsidyPolicy)
    refused = await post_form(client, "/console/subsidies", "/console/subsidies", fields)
    assert 400 <= refused.status_code < 500
    html = refused.text
    assert 'id="version-error"' in html  # in the form, not the general error page
    assert sentence is None or sentence in visible_text(html.split('id="version-error"')[1])
    kept = fields["amount"][0], fields["min_age"][0], fields["max_age"][0], fields["note"]
    assert all(f'value="{value}"' in html for value in kept)
    assert '<option value="lives_alone" selected>' in html
    assert await count(db, SubsidyPolicy) == before
