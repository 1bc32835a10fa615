"""The supervision board (一张图): every site today, vans on their runs, open alerts, trends.

Read-only figures for the operator and civil affairs, counted from bookings, route stops and
welfare alerts as they stand; the page asks for them again every few seconds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.deliveries.models import AlertStatus, RouteRun, RouteStop, StopStatus, WelfareAlert
from meals.deliveries.service import latest_plan
from meals.errors import Forbidden
from meals.settings import Settings
from meals.sites.models import Site
from meals.words import BookingStatus, Role, SiteKind, Slot

BOARD_READERS = (Role.ADMIN, Role.VIEWER)
TILE_PIXELS = 256
MAP_MAX_TILES = 4  # across the district at the zoom chosen for optional tiles
DONE_STOPS = (StopStatus.DELIVERED, StopStatus.FAILED)


def ensure_board_reader(actor: Actor) -> None:
    if actor.role not in BOARD_READERS:
        raise Forbidden("Only the operator and civil affairs may see the supervision board.")


def _mercator(latitude: float, longitude: float, zoom: int) -> tuple[float, float]:
    """Web-Mercator pixels at `zoom`, the projection map tiles use."""
    scale = TILE_PIXELS * 2**zoom
    x = (longitude + 180.0) / 360.0 * scale
    phi = math.radians(latitude)
    y = (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * scale
    return x, y


@dataclass(frozen=True, slots=True)
class MapLayout:
    """Where each site sits on the board's map, in the SVG's own units."""

    width: float
    height: float
    zoom: int
    origin: tuple[float, float]
    points: dict[int, tuple[float, float]]
    tiles: list[dict[str, Any]]


def map_layout(sites: list[Site], tile_url: str | None, margin: float = 40.0) -> MapLayout:
    """Sites placed by their coordinates; tiles (by setting) at a zoom fitting the district."""
    if not sites:
        return MapLayout(0, 0, 0, (0, 0), {}, [])
    zoom = 18
    while zoom > 1:
        xs, ys = zip(*(_mercator(s.latitude, s.longitude, zoom) for s in sites), strict=True)
        if max(max(xs) - min(xs), max(ys) - min(ys)) <= TILE_PIXELS * MAP_MAX_TILES:
            break
        zoom -= 1
    xs, ys = zip(*(_mercator(s.latitude, s.longitude, zoom) for s in sites), strict=True)
    origin = (min(xs) - margin, min(ys) - margin)
    points = {
        site.id: (round(x - origin[0], 1), round(y - origin[1], 1))
        for site, x, y in zip(sites, xs, ys, strict=True)
    }
    width = max(xs) - min(xs) + 2 * margin
    height = max(ys) - min(ys) + 2 * margin
    tiles = []
    if tile_url:
        for tx in range(int(origin[0] // TILE_PIXELS), int((origin[0] + width) // TILE_PIXELS) + 1):
            for ty in range(
                int(origin[1] // TILE_PIXELS), int((origin[1] + height) // TILE_PIXELS) + 1
            ):
                tiles.append(
                    {
                        "href": tile_url.format(z=zoom, x=tx, y=ty),
                        "x": tx * TILE_PIXELS - origin[0],
                        "y": ty * TILE_PIXELS - origin[1],
                    }
                )
    return MapLayout(round(width, 1), round(height, 1), zoom, origin, points, tiles)


def _is_late(stop: RouteStop, now: datetime, late_after: timedelta) -> bool:
    if stop.eta is None:
        return False
    if stop.completed_at is not None:
        return stop.completed_at > stop.eta + late_after
    return now > stop.eta + late_after


async def _site_counts(session: AsyncSession, sites: list[Site], now: datetime) -> dict:
    """Today's bookings per site and status, each site on its own calendar day."""
    days = {site.id: now.astimezone(ZoneInfo(site.timezone)).date() for site in sites}
    result = await session.execute(
        select(Booking.site_id, Booking.service_date, Booking.status, func.count())
        .where(
            Booking.service_date.in_(set(days.values())),
            Booking.status != BookingStatus.CANCELLED,
        )
        .group_by(Booking.site_id, Booking.service_date, Booking.status)
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for site_id, day, status, n in result:
        if days.get(site_id) == day:
            counts[site_id][status.value] += n
    return counts


async def _vans(
    session: AsyncSession, day: date, now: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """Each van run of today's current plans: progress, late stops, food-safety margin."""
    runs = []
    late_after = settings.board_late_after
    for slot in Slot:
        plan = await latest_plan(session, day, slot)
        if plan is None:
            continue
        rows = await session.execute(
            select(RouteRun, RouteStop)
            .join(RouteStop, RouteStop.run_id == RouteRun.id)
            .where(RouteRun.plan_id == plan.id)
            .order_by(RouteRun.departs_at, RouteRun.id, RouteStop.sequence)
        )
        grouped: dict[int, tuple[RouteRun, list[RouteStop]]] = {}
        for run, stop in rows:
            grouped.setdefault(run.id, (run, []))[1].append(stop)
        for run, stops in grouped.values():
            in_van = max((s.since_departure_s or 0) for s in stops)
            in_van += int(settings.kitchen_packing_lead.total_seconds())
            runs.append(
                {
                    "van": run.van_code,
                    "slot": slot.value,
                    "trip": run.trip_number,
                    "departs_at": run.departs_at.isoformat(),
                    "stops": len(stops),
                    "done": sum(s.status in DONE_STOPS for s in stops),
                    "delivered": sum(s.status is StopStatus.DELIVERED for s in stops),
                    "failed": sum(s.status is StopStatus.FAILED for s in stops),
                    "late": sum(_is_late(s, now, late_after) for s in stops),
                    "food_safety_margin_min": (plan.food_safety_limit_s - in_van) // 60,
                }
            )
    return runs


async def serving_sites(session: AsyncSession) -> list[Site]:
    return list(
        await session.scalars(select(Site).where(Site.kind != SiteKind.KITCHEN).order_by(Site.code))
    )


async def board_snapshot(
    session: AsyncSession, *, actor: Actor, now: datetime, settings: Settings
) -> dict[str, Any]:
    """Everything the board shows right now, as JSON-ready values."""
    ensure_board_reader(actor)
    sites = await serving_sites(session)
    counts = await _site_counts(session, sites, now)
    alerts = await session.execute(
        select(WelfareAlert.site_id, func.count())
        .where(WelfareAlert.status == AlertStatus.OPEN)
        .group_by(WelfareAlert.site_id)
    )
    open_alerts = dict(alerts.all())
    day = settings.district_today(now)
    per_site = []
    for site in sites:
        figures = counts.get(site.id, {})
        booked = sum(figures.values())
        served = figures.get(BookingStatus.SERVED.value, 0)
        delivered = figures.get(BookingStatus.DELIVERED.value, 0)
        per_site.append(
            {
                "site_id": site.id,
                "site": site.code,
                "name": site.name,
                "kind": site.kind.value,
                "booked": booked,
                "served": served,
                "delivered": delivered,
                "no_shows": figures.get(BookingStatus.NO_SHOW.value, 0),
                "waiting": figures.get(BookingStatus.BOOKED.value, 0),
                "open_alerts": open_alerts.get(site.id, 0),
            }
        )
    vans = await _vans(session, day, now, settings)
    return {
        "at": now.isoformat(),
        "day": day.isoformat(),
        "sites": per_site,
        "totals": {
            key: sum(site[key] for site in per_site)
            for key in ("booked", "served", "delivered", "no_shows", "waiting", "open_alerts")
        },
        "vans": vans,
        "late_stops": sum(run["late"] for run in vans),
    }


async def month_trends(
    session: AsyncSession, *, actor: Actor, now: datetime, settings: Settings
) -> dict[str, Any]:
    """Meals served per site and day, from the first of this month to yesterday (today's
    counts are still growing, and would read as a drop)."""
    ensure_board_reader(actor)
    today = settings.district_today(now) - timedelta(days=1)
    start = (today + timedelta(days=1)).replace(day=1)
    result = await session.execute(
        select(Booking.site_id, Booking.service_date, func.count())
        .where(
            Booking.service_date >= start,
            Booking.service_date <= today,
            Booking.status.in_((BookingStatus.SERVED, BookingStatus.DELIVERED)),
        )
        .group_by(Booking.site_id, Booking.service_date)
    )
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    served: dict[int, dict[date, int]] = defaultdict(dict)
    for site_id, day, n in result:
        served[site_id][day] = n
    return {
        "days": [day.isoformat() for day in days],
        "sites": {
            site_id: [per_day.get(day, 0) for day in days] for site_id, per_day in served.items()
        },
    }
