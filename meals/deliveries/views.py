"""View models for the delivery pages and API: plain data built from stored rows.

Only what a page needs leaves here; the driver's stop carries the senior's name, address,
phone and door notes and nothing else about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import stop_number
from meals.deliveries import service
from meals.deliveries.models import RoutePlanRecord, RouteRun, RouteStop, StopKind
from meals.deliveries.sheet import MapPoint, RouteMap, route_map
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site
from meals.words import SiteKind

METRES_PER_KM = 1000
SECONDS_PER_MINUTE = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class StopView:
    id: int
    sequence: int | None
    kind: str
    name: str
    address: str
    eta: str
    boxes: int
    portions: int
    last_mile_boxes: int
    notes: str
    phone: str
    latitude: float | None
    longitude: float | None
    status: str
    in_van_minutes: int | None
    load_before: int | None
    unserved_reason: str | None
    unserved_detail: str | None
    unserved_remedy: str | None
    unserved_remedy_at: str
    """The time the remedy names, as the kitchen's clock reads it ("" when none)."""
    booking_ids: tuple[int, ...]
    number: str = ""
    """The stop's number as every sheet prints it: ``3`` on a van, ``3·2`` for the second
    home on the walking list of the meal point at stop 3 (``kitchen.stop_number``)."""

    @property
    def navigation_url(self) -> str:
        if self.latitude is None or self.longitude is None:
            return ""
        return f"geo:{self.latitude},{self.longitude}?q={self.latitude},{self.longitude}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunView:
    id: int
    van_code: str
    trip_number: int
    departs: str
    returns: str
    km: float
    load_boxes: int
    capacity_boxes: int
    stops: tuple[StopView, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanView:
    plan: RoutePlanRecord
    runs: tuple[RunView, ...]
    unserved: tuple[StopView, ...]
    walking: dict[str, tuple[StopView, ...]]
    km: float
    longest_minutes: int
    limit_minutes: int
    latest_eta: str

    @property
    def within_limit(self) -> bool:
        return self.longest_minutes <= self.limit_minutes


def _clock(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M") if moment else ""


async def stop_views(
    session: AsyncSession, stops: Sequence[RouteStop], settings: Settings
) -> list[StopView]:
    zone = settings.district_zone
    site_ids = {s.site_id for s in stops if s.site_id}
    senior_ids = {s.senior_id for s in stops if s.senior_id}
    sites = (
        {s.id: s for s in await session.scalars(select(Site).where(Site.id.in_(site_ids)))}
        if site_ids
        else {}
    )
    seniors = (
        {s.id: s for s in await session.scalars(select(Senior).where(Senior.id.in_(senior_ids)))}
        if senior_ids
        else {}
    )
    lead = settings.kitchen_packing_lead.total_seconds()
    drops = await _drop_sequences(session, stops)
    views = []
    for stop in stops:
        senior = seniors.get(stop.senior_id or 0)
        site = sites.get(stop.site_id or 0)
        at_site = stop.kind is StopKind.SITE_DROP
        views.append(
            StopView(
                id=stop.id,
                sequence=stop.sequence,
                kind=stop.kind.value,
                name=(site.name if site else "") if at_site else (senior.name if senior else ""),
                address=(site.address if site else "")
                if at_site
                else (senior.address if senior else ""),
                eta=_clock(stop.eta, zone),
                boxes=stop.boxes,
                portions=stop.portions,
                last_mile_boxes=stop.last_mile_boxes,
                notes="" if at_site or senior is None else senior.delivery_notes or "",
                phone="" if at_site or senior is None else senior.phone or "",
                latitude=stop.latitude,
                longitude=stop.longitude,
                status=stop.status.value,
                in_van_minutes=int((stop.since_departure_s + lead) // SECONDS_PER_MINUTE)
                if stop.since_departure_s is not None
                else None,
                load_before=stop.load_before_boxes,
                unserved_reason=stop.unserved_reason,
                unserved_detail=stop.unserved_detail,
                unserved_remedy=stop.unserved_remedy,
                unserved_remedy_at=_clock(stop.unserved_remedy_at, zone)
                if stop.unserved_remedy_at is not None
                else "",
                booking_ids=tuple(stop.booking_ids),
                number=stop_number(
                    drops.get((stop.plan_id, stop.carried_by_site_id)), stop.sequence
                )
                if stop.kind is StopKind.LAST_MILE_HOME
                else stop_number(stop.sequence),
            )
        )
    return views


async def _drop_sequences(
    session: AsyncSession, stops: Sequence[RouteStop]
) -> dict[tuple[int, int | None], int | None]:
    """(plan id, meal point id) -> its drop's place on its van run, for the walked homes in
    ``stops``: their number starts with it, as on the packing list and labels."""
    walked = {(s.plan_id, s.carried_by_site_id) for s in stops if s.kind is StopKind.LAST_MILE_HOME}
    if not walked:
        return {}
    rows = await session.execute(
        select(RouteStop.plan_id, RouteStop.site_id, RouteStop.sequence, RouteStop.run_id).where(
            RouteStop.plan_id.in_({plan for plan, _ in walked}),
            RouteStop.kind == StopKind.SITE_DROP,
        )
    )
    return {
        (plan, site): sequence if run is not None else None
        for plan, site, sequence, run in rows
        if (plan, site) in walked
    }


def run_view(run: RouteRun, stops: Sequence[StopView], settings: Settings) -> RunView:
    zone = settings.district_zone
    return RunView(
        id=run.id,
        van_code=run.van_code,
        trip_number=run.trip_number,
        departs=_clock(run.departs_at, zone),
        returns=_clock(run.returns_at, zone),
        km=round(run.distance_m / METRES_PER_KM, 1),
        load_boxes=run.load_boxes,
        capacity_boxes=run.capacity_boxes,
        stops=tuple(stops),
    )


async def plan_view(session: AsyncSession, plan: RoutePlanRecord, settings: Settings) -> PlanView:
    runs = await service.plan_runs(session, plan)
    stops = await service.plan_stops(session, plan)
    views = {v.id: v for v in await stop_views(session, stops, settings)}
    by_run: dict[int, list[StopView]] = {}
    walking: dict[int, list[StopView]] = {}
    unserved = []
    for stop in stops:
        if stop.unserved_reason:
            unserved.append(views[stop.id])
        elif stop.run_id is not None:
            by_run.setdefault(stop.run_id, []).append(views[stop.id])
        elif stop.carried_by_site_id is not None:
            walking.setdefault(stop.carried_by_site_id, []).append(views[stop.id])
    site_names = (
        dict((await session.execute(select(Site.id, Site.name).where(Site.id.in_(walking)))).all())
        if walking
        else {}
    )
    zone = settings.district_zone
    etas = [s.eta for s in stops if s.eta is not None]
    return PlanView(
        plan=plan,
        runs=tuple(
            run_view(run, sorted(by_run.get(run.id, []), key=lambda v: v.sequence or 0), settings)
            for run in runs
        ),
        unserved=tuple(unserved),
        walking={
            site_names[site_id]: tuple(sorted(homes, key=lambda v: v.sequence or 0))
            for site_id, homes in sorted(walking.items())
        },
        km=round(plan.distance_m / METRES_PER_KM, 1),
        longest_minutes=plan.longest_in_van_s // SECONDS_PER_MINUTE,
        limit_minutes=plan.food_safety_limit_s // SECONDS_PER_MINUTE,
        latest_eta=_clock(max(etas), zone) if etas else "",
    )


async def run_map(session: AsyncSession, stops: Sequence[StopView]) -> RouteMap | None:
    """The run's map, from the kitchen through each located stop in order."""
    kitchen = await session.scalar(
        select(Site).where(Site.kind == SiteKind.KITCHEN).order_by(Site.id).limit(1)
    )
    located = [
        MapPoint(str(s.sequence), s.latitude, s.longitude)
        for s in stops
        if s.latitude is not None and s.longitude is not None
    ]
    if kitchen is None or not located:
        return None
    return route_map(MapPoint("K", kitchen.latitude, kitchen.longitude), located)
