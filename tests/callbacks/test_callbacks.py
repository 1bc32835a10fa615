"""The month's callback list: its size and strata as configured, low ratings and failed
deliveries always on it, drawn once; calls recorded by the site's staff."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date

from sqlalchemy import select

from meals.bookings.models import Booking
from meals.bookings.ratings import MealRating
from meals.callbacks.api import PAGE_LINES
from meals.callbacks.service import stratum_of
from meals.deliveries.models import RoutePlanRecord, RouteStop, StopStatus
from meals.seniors.models import Senior
from meals.subsidies.service import age_on, effective_categories
from meals.words import BookingStatus, Role
from tests.meals.helpers import login_as

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
LAST_DAY = date(2026, 10, 31)


async def october_eaters(db) -> dict[int, dict[int, str]]:
    """Per home site: the seniors served in October and their stratum, from the tables."""
    async with db() as s:
        rows = (
            await s.execute(
                select(Senior.id, Senior.home_site_id, Senior.birth_date, Senior.categories).where(
                    Senior.id.in_(
                        select(Booking.senior_id).where(
                            Booking.service_date >= OCTOBER[0],
                            Booking.service_date < OCTOBER[1],
                            Booking.status.in_((BookingStatus.SERVED, BookingStatus.DELIVERED)),
                        )
                    )
                )
            )
        ).all()
    eaters: dict[int, dict[int, str]] = defaultdict(dict)
    for senior_id, site_id, born, categories in rows:
        strata = effective_categories(categories, age_on(born, LAST_DAY), 80)
        eaters[site_id][senior_id] = stratum_of(strata)
    return eaters


async def must_call(db) -> tuple[set[int], set[int]]:
    async with db() as s:
        low = set(
            await s.scalars(
                select(MealRating.senior_id)
                .join(Booking, Booking.id == MealRating.booking_id)
                .where(Booking.service_date >= OCTOBER[0], Booking.service_date < OCTOBER[1])
                .where(MealRating.stars <= 2)
            )
        )
        failed = set(
            await s.scalars(
                select(RouteStop.senior_id)
                .join(RoutePlanRecord, RoutePlanRecord.id == RouteStop.plan_id)
                .where(
                    RoutePlanRecord.service_date >= OCTOBER[0],
                    RoutePlanRecord.service_date < OCTOBER[1],
                    RouteStop.status == StopStatus.FAILED,
                )
            )
        )
    return low, failed


async def every_callback(client, month: str = "2026-10", **params) -> list[dict]:
    """The whole list, read a page at a time."""
    lines: list[dict] = []
    while True:
        query = {"limit": 40, "offset": len(lines), **params}
        page = (await client.get(f"/api/v1/callbacks/{month}", params=query)).json()
        lines += page["callbacks"]
        if len(lines) >= page["total"] or not page["callbacks"]:
            return lines


async def _draw_and_check(client, db, share: float) -> list[dict]:
    await login_as(client, db, Role.ADMIN)
    drawn = await client.post("/api/v1/callbacks/2026-10/draw")
    assert drawn.status_code == 201, drawn.text
    listed = await every_callback(client)
    assert len(listed) == drawn.json()["drawn"]
    eaters = await october_eaters(db)
    sampled: dict[int, Counter] = defaultdict(Counter)
    for line in listed:
        if "sample" in line["reasons"]:
            assert eaters[line["site_id"]][line["senior_id"]] == line["stratum"]
            sampled[line["site_id"]][line["stratum"]] += 1
    for site_id, seniors in eaters.items():
        wanted = min(len(seniors), max(1, round(len(seniors) * share)))
        assert sum(sampled[site_id].values()) == wanted, site_id
        strata = Counter(seniors.values())
        for stratum, drawn_here in sampled[site_id].items():
            # proportional to the stratum's size, to within one senior
            assert abs(drawn_here - wanted * strata[stratum] / len(seniors)) < 1
    return listed


async def test_the_list_has_the_configured_share_per_stratum_and_every_low_rating(
    client, db, history
):
    listed = await _draw_and_check(client, db, share=0.1)
    low, failed = await must_call(db)
    reasons = {line["senior_id"]: set(line["reasons"]) for line in listed}

    assert low and failed
    assert all("low_rating" in reasons[senior] for senior in low)
    assert all("failed_delivery" in reasons[senior] for senior in failed)
    assert {s for s, why in reasons.items() if "low_rating" in why} == low

    again = await client.post("/api/v1/callbacks/2026-10/draw")
    assert again.status_code == 409
    assert again.json()["detail"].startswith("The callback list for 2026-10 was drawn on ")


async def test_a_larger_share_draws_more(client, db, history, app):
    app.state.settings = replace(app.state.settings, callback_share=0.3)
    listed = await _draw_and_check(client, db, share=0.3)
    assert sum("sample" in line["reasons"] for line in listed) > 10


async def test_staff_record_their_sites_calls_and_civil_affairs_reads(client, db, history):
    await login_as(client, db, Role.ADMIN)
    await client.post("/api/v1/callbacks/2026-10/draw")
    listed = await every_callback(client)
    first = listed[0]
    other = next(line for line in listed if line["site_id"] != first["site_id"])
    await login_as(client, db, Role.SITE_STAFF, site_id=first["site_id"])

    mine = await every_callback(client)
    no_score = await client.post(f"/api/v1/callbacks/calls/{first['id']}", json={"reached": True})
    recorded = await client.post(
        f"/api/v1/callbacks/calls/{first['id']}",
        json={"reached": True, "score": 4, "remarks": "饭菜可口，希望多些蔬菜"},
    )
    not_mine = await client.post(f"/api/v1/callbacks/calls/{other['id']}", json={"reached": False})
    await login_as(client, db, Role.VIEWER)
    viewer_records = await client.post(
        f"/api/v1/callbacks/calls/{first['id']}", json={"reached": False}
    )
    summary = (await client.get("/api/v1/callbacks/2026-10/summary")).json()

    assert {line["site_id"] for line in mine} == {first["site_id"]}
    assert no_score.status_code == 422
    assert no_score.json()["detail"] == "A senior who was reached gives a score from 1 to 5."
    assert recorded.status_code == 200 and recorded.json()["score"] == 4
    assert not_mine.status_code == 404
    assert viewer_records.status_code == 403
    site = next(row for row in summary["sites"] if row["site_id"] == first["site_id"])
    assert (site["called"], site["reached"], site["average_score"]) == (1, 1, 4.0)
    assert site["callbacks"] == sum(line["site_id"] == first["site_id"] for line in listed)
    assert summary["dishes"] and all(1 <= d["average_stars"] <= 5 for d in summary["dishes"])


async def test_the_callbacks_page_draws_and_records_without_javascript(client, db, history):
    from tests.pages.helpers import submit, visible_text

    await login_as(client, db, Role.ADMIN)
    page = visible_text((await client.get("/callbacks?month=2026-10")).text)
    drawn = await submit(client, "/callbacks?month=2026-10", "/callbacks/2026-10/draw", {})
    listed = await every_callback(client)
    first = listed[0]
    recorded = await submit(
        client,
        "/callbacks?month=2026-10",
        f"/callbacks/calls/{first['id']}",
        {"month": "2026-10", "reached": "no", "score": "", "remarks": "电话无人接听"},
    )
    after = visible_text((await client.get("/callbacks?month=2026-10")).text)

    assert "2026-10 满意度回访" in page and "抽取 2026-10 回访名单" in page
    assert drawn.status_code == 303
    assert (
        recorded.status_code == 303 and recorded.headers["location"] == "/callbacks?month=2026-10"
    )
    assert "回访已记录。" in after and "未联系上 · 电话无人接听" in after
    assert f"回访名单 ({len(listed)})" in after
    assert "抽取 2026-10 回访名单" not in after


async def test_the_list_pages_with_totals_of_the_whole_list(client, db, history, app):
    from tests.pages.helpers import submit, visible_text

    # everyone who ate is drawn, so the list runs over several pages
    app.state.settings = replace(app.state.settings, callback_share=1.0)
    await login_as(client, db, Role.ADMIN)
    drawn = (await client.post("/api/v1/callbacks/2026-10/draw")).json()["drawn"]
    first_page = (await client.get("/api/v1/callbacks/2026-10", params={"limit": 30})).json()
    whole = await every_callback(client)
    assert drawn > 2 * PAGE_LINES
    assert (first_page["total"], first_page["called"], first_page["reached"]) == (drawn, 0, 0)
    assert (first_page["limit"], first_page["offset"]) == (30, 0)
    assert [line["id"] for line in first_page["callbacks"]] == [line["id"] for line in whole[:30]]
    assert len({line["id"] for line in whole}) == len(whole) == drawn
    site_id = whole[0]["site_id"]
    one_site = await every_callback(client, site_id=site_id)
    assert {line["id"] for line in one_site} == {
        line["id"] for line in whole if line["site_id"] == site_id
    }

    # the second page of the page: its lines, links both ways, totals of the whole list
    second = await client.get("/callbacks", params={"month": "2026-10", "offset": PAGE_LINES})
    shown = visible_text(second.text)
    on_second = whole[PAGE_LINES : 2 * PAGE_LINES]
    assert all(line["senior_name"] in shown for line in on_second)
    assert f"回访名单 ({drawn})" in shown
    assert f"共 {drawn} 人，已回访 0 人，联系上 0 人。" in shown
    assert f"本页为第 {PAGE_LINES + 1}–{2 * PAGE_LINES} 人。" in shown
    assert "offset=0" in second.text and f"offset={2 * PAGE_LINES}" in second.text

    # a call recorded from the second page comes back to it, and counts in the totals
    target = on_second[0]
    recorded = await submit(
        client,
        f"/callbacks?month=2026-10&offset={PAGE_LINES}",
        f"/callbacks/calls/{target['id']}",
        {"month": "2026-10", "offset": PAGE_LINES, "reached": "yes", "score": 5, "remarks": ""},
    )
    assert recorded.status_code == 303
    assert recorded.headers["location"] == f"/callbacks?month=2026-10&offset={PAGE_LINES}"
    after = (await client.get("/api/v1/callbacks/2026-10", params={"limit": 1})).json()
    assert (after["total"], after["called"], after["reached"]) == (drawn, 1, 1)
    last = await client.get("/callbacks", params={"month": "2026-10", "offset": drawn - 1})
    assert f"本页为第 {drawn}–{drawn} 人。" in visible_text(last.text)
    assert "往后" not in visible_text(last.text)
