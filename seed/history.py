"""Past days of the demo district with what happened: check-ins inside serving windows,
confirmed deliveries, no-shows, a few failed deliveries and ratings.

Works on a district already seeded (the demo's last step, or a test's copy of it), so
settlement, the supervision board and callbacks have a month to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.bookings.ratings import MealRating
from meals.deliveries.models import (
    FailureReason,
    PlanSource,
    RoutePlanRecord,
    RouteStop,
    StopKind,
    StopStatus,
)
from meals.seniors.models import Senior
from meals.sites.models import Site, SiteSlot
from meals.words import BookingStatus, Fulfilment, Slot
from seed import data
from seed.demo import _insert_with_ids, booking_rows, ensure_menus, write_bookings

HISTORY_SEED_OFFSET = 1  # its own random stream: the district itself stays the same
SENIOR_COLUMNS = (
    Senior.id,
    Senior.home_site_id,
    Senior.halal,
    Senior.low_salt,
    Senior.low_sugar,
    Senior.iddsi_level,
    Senior.allergens,
    Senior.delivery_eligible,
    Senior.birth_date,
    Senior.categories,
    Senior.phone,
)


@dataclass(frozen=True, slots=True)
class HistorySummary:
    bookings: int
    served: int
    delivered: int
    no_shows: int
    failed_deliveries: int
    ratings: int


async def _senior_rows(session: AsyncSession) -> list[dict[str, Any]]:
    names = [column.key for column in SENIOR_COLUMNS]
    result = await session.execute(select(*SENIOR_COLUMNS).order_by(Senior.id))
    return [dict(zip(names, row, strict=True)) for row in result]


async def _lunch_windows(session: AsyncSession) -> dict[int, tuple[ZoneInfo, time, time]]:
    result = await session.execute(
        select(Site.id, Site.timezone, SiteSlot.serve_start, SiteSlot.serve_end)
        .join(SiteSlot, SiteSlot.site_id == Site.id)
        .where(SiteSlot.slot == Slot.LUNCH)
    )
    return {site_id: (ZoneInfo(zone), start, end) for site_id, zone, start, end in result}


def _moment_in(rng: random.Random, day: date, window: tuple[ZoneInfo, time, time]) -> datetime:
    zone, start, end = window
    opens = datetime.combine(day, start, tzinfo=zone)
    closes = datetime.combine(day, end, tzinfo=zone)
    return opens + timedelta(seconds=rng.uniform(0, (closes - opens).total_seconds()))


def _stars(rng: random.Random) -> int:
    stars, weights = zip(*data.HISTORY_RATING_WEIGHTS, strict=True)
    return rng.choices(stars, weights=weights)[0]


def _decide(rng: random.Random, row: dict[str, Any], moment: datetime) -> str:
    """What happened to one past booking; sets its status and times, returns the outcome."""
    row["served_at"] = row["cancelled_at"] = None
    roll = rng.random()
    if roll < data.HISTORY_CANCELLED_SHARE:
        row["status"] = BookingStatus.CANCELLED
        row["cancelled_at"] = moment - timedelta(days=1)
        return "cancelled"
    if row["fulfilment"] is Fulfilment.DELIVERY:
        if rng.random() < data.HISTORY_FAILED_DELIVERY_SHARE:
            return "failed"  # stays booked: never served, so never paid for
        row["status"] = BookingStatus.DELIVERED
        row["served_at"] = moment
        return "delivered"
    roll = rng.random()
    if roll < data.HISTORY_NO_SHOW_SHARE:
        row["status"] = BookingStatus.NO_SHOW
        return "no_show"
    if roll < data.HISTORY_NO_SHOW_SHARE + data.HISTORY_UNSCANNED_SHARE:
        return "unscanned"  # ate or not, nobody scanned the card: booked, not served
    row["status"] = BookingStatus.SERVED
    row["served_at"] = moment
    return "served"


async def seed_history(
    session: AsyncSession, *, seed: int, today: date, days: int, now: datetime
) -> HistorySummary:
    """Bookings for the `days` before `today` with their outcomes (the caller commits)."""
    rng = random.Random(seed + HISTORY_SEED_OFFSET)
    start = today - timedelta(days=days)
    await ensure_menus(
        session,
        start=start,
        days=days,
        published_at=datetime.combine(start - timedelta(days=7), time(8, 0), tzinfo=now.tzinfo),
    )
    seniors = await _senior_rows(session)
    rows = await booking_rows(session, rng, seniors, start=start, days=days, now=now)
    windows = await _lunch_windows(session)
    outcomes = []
    for row in rows:
        moment = _moment_in(rng, row["service_date"], windows[row["site_id"]])
        booked_at = moment - timedelta(days=1 + rng.randint(0, 3))
        row["created_at"] = row["updated_at"] = booked_at
        outcomes.append((_decide(rng, row, moment), moment))
    ids = await write_bookings(session, rows)
    ratings, failed = [], []
    for booking_id, row, (outcome, moment) in zip(ids, rows, outcomes, strict=True):
        if outcome in ("served", "delivered") and rng.random() < data.HISTORY_RATING_SHARE:
            ratings.append(
                {
                    "booking_id": booking_id,
                    "senior_id": row["senior_id"],
                    "menu_item_id": row["menu_item_id"],
                    "stars": (stars := _stars(rng)),
                    "comment": rng.choice(data.HISTORY_COMMENTS[stars]) or None,
                    "account_id": None,
                    "created_at": moment + timedelta(hours=2),
                }
            )
        if outcome == "failed":
            failed.append((booking_id, row, moment))
    for begin in range(0, len(ratings), data.HISTORY_BATCH):
        await session.execute(
            insert(MealRating.__table__), ratings[begin : begin + data.HISTORY_BATCH]
        )
    await _failed_stops(session, rng, failed)
    counted = [outcome for outcome, _ in outcomes]
    return HistorySummary(
        bookings=len(rows),
        served=counted.count("served"),
        delivered=counted.count("delivered"),
        no_shows=counted.count("no_show"),
        failed_deliveries=len(failed),
        ratings=len(ratings),
    )


async def _failed_stops(
    session: AsyncSession, rng: random.Random, failed: list[tuple[int, dict[str, Any], datetime]]
) -> None:
    """One plan per day with a failed home stop, so a failure is on record as drivers leave it."""
    by_day: dict[date, list[tuple[int, dict[str, Any], datetime]]] = {}
    for entry in failed:
        by_day.setdefault(entry[1]["service_date"], []).append(entry)
    for day, entries in sorted(by_day.items()):
        [plan_id] = await _insert_with_ids(
            session,
            RoutePlanRecord,
            [
                {
                    "service_date": day,
                    "slot": Slot.LUNCH,
                    "created_at": entries[0][2] - timedelta(hours=3),
                    "created_by_account_id": None,
                    "source": PlanSource.LIVE_BOOKINGS,
                    "production_run_id": None,
                    "previous_plan_id": None,
                    "excluded_vans": [],
                    "travel_provider": "history",
                    "vans_used": 0,
                    "distance_m": 0,
                    "longest_in_van_s": 0,
                    "food_safety_limit_s": 0,
                    "stops_served": len(entries),
                    "stops_unserved": 0,
                }
            ],
        )
        await session.execute(
            insert(RouteStop.__table__),
            [
                {
                    "plan_id": plan_id,
                    "run_id": None,
                    "stop_key": f"home-{row['senior_id']}",
                    "kind": StopKind.HOME,
                    "sequence": None,
                    "site_id": None,
                    "senior_id": row["senior_id"],
                    "carried_by_site_id": None,
                    "booking_ids": [booking_id],
                    "portions": 1,
                    "boxes": 1,
                    "last_mile_boxes": 0,
                    "eta": moment,
                    "status": StopStatus.FAILED,
                    "failure_reason": rng.choice(list(FailureReason)),
                    "failure_note": None,
                    "completed_at": moment,
                }
                for booking_id, row, moment in entries
            ],
        )
