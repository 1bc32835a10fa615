"""Month-end settlement: sums equal the bookings to the fen, a closed month is frozen and a
later correction lands in the next month, in the JSON, the XLSX and the drill-down."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import func, select

from meals.bookings.models import Booking
from meals.deliveries.models import RouteStop, StopStatus
from meals.sites.models import Site, SiteSlot
from meals.words import BookingStatus, Fulfilment, Role
from tests.meals.helpers import login_as

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
NOVEMBER = (date(2026, 11, 1), date(2026, 12, 1))
SERVED = (BookingStatus.SERVED, BookingStatus.DELIVERED)


async def served_sums(db, month: tuple[date, date]) -> tuple[dict[str, list[int]], int, int]:
    """From the bookings themselves: per source [meals, fen], meals served, seniors' payments."""
    async with db() as s:
        rows = (
            await s.execute(
                select(Booking.subsidy_breakdown, Booking.price_fen).where(
                    Booking.service_date >= month[0],
                    Booking.service_date < month[1],
                    Booking.status.in_(SERVED),
                )
            )
        ).all()
    per_source: dict[str, list[int]] = {}
    for breakdown, _price in rows:
        for line in breakdown:
            if line["amount_fen"] > 0:
                counted = per_source.setdefault(line["source"], [0, 0])
                counted[0] += 1
                counted[1] += line["amount_fen"]
    return per_source, len(rows), sum(price for _, price in rows)


def owed(figures: dict) -> dict[str, list[int]]:
    return {s["source"]: [s["meals"], s["owed_fen"]] for s in figures["sources"] if s["meals"]}


async def a_booking(db, month, *conditions) -> Booking:
    async with db() as s:
        booking = await s.scalar(
            select(Booking)
            .where(Booking.service_date >= month[0], Booking.service_date < month[1], *conditions)
            .order_by(Booking.id)
        )
    assert booking is not None
    return booking


async def correct(client, booking_id: int, to_status: str, reason: str):
    body = {"to_status": to_status, "reason": reason}
    return await client.post(f"/api/v1/bookings/{booking_id}/corrections", json=body)


async def test_seeded_history_has_the_outcomes_settlement_needs(db, history):
    async with db() as s:
        statuses = Counter(
            (
                await s.execute(
                    select(Booking.status, Booking.fulfilment).where(
                        Booking.service_date >= OCTOBER[0], Booking.service_date < OCTOBER[1]
                    )
                )
            ).all()
        )
        failed = await s.scalar(
            select(func.count()).select_from(RouteStop).where(RouteStop.status == StopStatus.FAILED)
        )
        served_at = (
            await s.execute(
                select(Booking.served_at, SiteSlot.serve_start, SiteSlot.serve_end, Site.timezone)
                .join(Site, Site.id == Booking.site_id)
                .join(SiteSlot, (SiteSlot.site_id == Site.id) & (SiteSlot.slot == Booking.slot))
                .where(Booking.status.in_(SERVED))
            )
        ).all()
    assert statuses[(BookingStatus.SERVED, Fulfilment.DINE_IN)] > 100
    assert statuses[(BookingStatus.DELIVERED, Fulfilment.DELIVERY)] > 10
    assert statuses[(BookingStatus.NO_SHOW, Fulfilment.DINE_IN)] > 0
    assert failed > 0
    # every meal was served inside its site's serving window, on the site's own clock
    assert served_at
    for moment, opens, closes, zone in served_at:
        assert opens <= moment.astimezone(ZoneInfo(zone)).time() <= closes


async def test_month_sums_equal_the_bookings_to_the_fen_and_closing_freezes_them(
    client, db, history
):
    await login_as(client, db, Role.ADMIN)
    # a correction while October is still open changes October itself
    mistaken = await a_booking(db, OCTOBER, Booking.status == BookingStatus.SERVED)
    fixed = await correct(client, mistaken.id, "no_show", "本人当天住院，卡被家属误刷")
    assert fixed.status_code == 201 and fixed.json()["settle_month"] == "2026-10"
    expected, meals, paid = await served_sums(db, OCTOBER)

    report = (await client.get("/api/v1/settlement/2026-10")).json()

    assert owed(report) == expected
    assert report["meals"] == meals and report["senior_paid_fen"] == paid
    assert report["closed"] is False
    for code, (source_meals, fen) in expected.items():
        assert (
            sum(
                next(x for x in site["sources"] if x["source"] == code)["owed_fen"]
                for site in report["sites"]
            )
            == fen
        )
        assert (
            sum(
                next(x for x in site["sources"] if x["source"] == code)["meals"]
                for site in report["sites"]
            )
            == source_meals
        )
    assert sum(site["senior_paid_fen"] for site in report["sites"]) == paid
    assert sum(report["fulfilment"].values()) == meals
    assert sum(report["age_bands"].values()) == meals

    closed = await client.post("/api/v1/settlement/2026-10/close")
    again = await client.post("/api/v1/settlement/2026-10/close")

    assert closed.status_code == 200 and closed.json()["closed"] is True
    assert again.status_code == 409
    assert again.json()["code"] == "month_closed"
    assert again.json()["detail"].startswith("2026-10 was closed on ")
    assert again.json()["detail"].endswith(
        "its figures are frozen. Corrections of its meals count in 2026-11 as adjustments."
    )

    workbook = load_workbook(
        io.BytesIO((await client.get("/api/v1/settlement/2026-10?format=xlsx")).content)
    )
    for source in report["sources"]:
        sheet = workbook[source["name"][:31]]
        rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0] is not None]
        total = next(row for row in rows if row[0] == "合计")
        per_site = [row for row in rows if isinstance(row[0], int)]
        assert total[4] == source["meals"] and total[7] == source["owed_fen"]
        assert sum(row[7] for row in per_site) == source["owed_fen"]
        assert round(total[6] * 100) == source["owed_fen"]
        assert expected.get(source["source"], [0, 0])[1] == total[7]


async def test_a_correction_after_closing_lands_in_the_next_month(client, db, history):
    await login_as(client, db, Role.ADMIN)
    assert (await client.post("/api/v1/settlement/2026-10/close")).status_code == 200
    frozen = (await client.get("/api/v1/settlement/2026-10")).json()
    november_before = (await client.get("/api/v1/settlement/2026-11")).json()
    wrong = await a_booking(db, OCTOBER, Booking.status == BookingStatus.SERVED)
    failed_stop = await a_booking(
        db, OCTOBER, Booking.status == BookingStatus.BOOKED, Booking.fulfilment == "delivery"
    )

    taken_back = await correct(client, wrong.id, "no_show", "核销记录有误：本人未到")
    delivered_late = await correct(client, failed_stop.id, "delivered", "下午补送，家属签收")

    assert taken_back.status_code == 201 and delivered_late.status_code == 201
    assert taken_back.json()["settle_month"] == "2026-11" and taken_back.json()["adjustment"]
    assert (await client.get("/api/v1/settlement/2026-10")).json() == frozen
    november = (await client.get("/api/v1/settlement/2026-11")).json()
    adjust = {s["source"]: s for s in november["adjustments"]["sources"]}
    change: Counter = Counter()
    for line in failed_stop.subsidy_breakdown:
        change[line["source"]] += line["amount_fen"]
    for line in wrong.subsidy_breakdown:
        change[line["source"]] -= line["amount_fen"]
    for code, fen in change.items():
        assert adjust[code]["owed_fen"] == fen
    assert november["adjustments"]["meals"] == 0  # one taken back, one added
    assert november["adjustments"]["senior_paid_fen"] == failed_stop.price_fen - wrong.price_fen
    november_served, _, november_paid = await served_sums(db, NOVEMBER)
    for line in november["sources"]:
        base = november_served.get(line["source"], [0, 0])[1]
        assert line["owed_fen"] == base + change.get(line["source"], 0)
    assert november["senior_paid_fen"] == november_paid + failed_stop.price_fen - wrong.price_fen
    assert november_before["adjustments"]["meals"] == 0

    # the closed month still lists the booking as it was counted at the close
    drilled = (
        await client.get(
            f"/api/v1/settlement/2026-10/bookings?site_id={wrong.site_id}&outcome=served&limit=500"
        )
    ).json()
    assert wrong.id in [line["booking_id"] for line in drilled["bookings"]]
    site = next(s for s in frozen["sites"] if s["site_id"] == wrong.site_id)
    assert drilled["meals"] == site["meals"]
    assert drilled["senior_paid_fen"] == site["senior_paid_fen"]
    adjusted = await client.get("/api/v1/settlement/2026-11/bookings?outcome=adjustment")
    adjustments = adjusted.json()
    assert sorted((x["booking_id"], x["delta"]) for x in adjustments["bookings"]) == sorted(
        [(wrong.id, -1), (failed_stop.id, 1)]
    )


async def test_drill_down_of_each_source_sums_to_its_figure(client, db, history):
    await login_as(client, db, Role.VIEWER)
    report = (await client.get("/api/v1/settlement/2026-10")).json()
    for source in report["sources"]:
        drilled = (
            await client.get(
                f"/api/v1/settlement/2026-10/bookings?source={source['source']}&outcome=served&limit=1"
            )
        ).json()
        assert (drilled["meals"], drilled["subsidy_fen"]) == (source["meals"], source["owed_fen"])


async def test_who_may_see_and_close_and_what_is_refused(client, db, history):
    await login_as(client, db, Role.VIEWER)
    viewer_reads = await client.get("/api/v1/settlement/2026-10?format=csv")
    viewer_closes = await client.post("/api/v1/settlement/2026-10/close")
    bad_month = await client.get("/api/v1/settlement/2026-13")
    await login_as(client, db, Role.ADMIN)
    too_early = await client.post("/api/v1/settlement/2026-11/close")
    await login_as(client, db, Role.SITE_STAFF)
    staff = await client.get("/api/v1/settlement/2026-10")

    assert viewer_reads.status_code == 200
    assert viewer_reads.text.splitlines()[0] == (
        "\ufeffmonth,site,site_name,source,source_name,meals,owed_fen"
    )
    assert viewer_closes.status_code == 403
    assert bad_month.status_code == 422
    assert bad_month.json()["detail"] == (
        "Write the month as YYYY-MM, for example 2026-10 (not 2026-13)."
    )
    assert too_early.status_code == 409
    assert too_early.json()["detail"] == (
        "2026-11 has not ended yet; it can be closed from 2026-12-01."
    )
    assert staff.status_code == 403
