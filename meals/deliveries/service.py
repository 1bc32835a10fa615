"""Route plans: load what to deliver, solve with ``routing``, store it, compare with the last.

The routes are one step of the plan of the day (``meals.production.day``): the frozen
bookings and the kitchen's boxes come in, the plan is solved outside any transaction (it
takes seconds) and stored beside the kitchen's packing for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.deliveries import adapter
from meals.deliveries.models import (
    PlanSource,
    RoutePlanRecord,
    RouteRun,
    RouteStop,
    StopKind,
    StopStatus,
)
from meals.errors import Conflict, NotFound
from meals.ops.metrics import PLAN_SOLVE_SECONDS
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot, Van
from meals.words import BookingStatus, SiteKind, Slot
from routing import (
    Coordinates,
    OsrmError,
    OsrmParams,
    OsrmProvider,
    StraightLineParams,
    TravelTimeProvider,
)

STRAIGHT_LINE = "straight_line"
OSRM = "osrm"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryInputs:
    source: PlanSource
    production_run_id: int | None
    kitchen: Coordinates
    sites: dict[int, adapter.SiteDemand]
    homes: list[adapter.HomeDemand]
    vans: list[adapter.VanInfo]
    previous_vans: dict[str, str] = field(default_factory=dict)
    """Stop key -> van code in the plan being replaced (none for a first plan): a re-plan
    keeps each van's work on it where it can (``routing.keep_vehicles``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StopChange:
    """How one stop moved between the previous plan and this one."""

    stop_key: str
    name: str
    before: str
    after: str


def kitchen_midnight(settings: Settings, service_date: date) -> datetime:
    return datetime.combine(service_date, time(0), tzinfo=settings.district_zone)


def seconds_to_moment(settings: Settings, service_date: date, seconds: int) -> datetime:
    return kitchen_midnight(settings, service_date) + timedelta(seconds=seconds)


def _seconds_of(settings: Settings, service_date: date, moment: time, zone: str) -> int:
    local = datetime.combine(service_date, moment, tzinfo=ZoneInfo(zone))
    return int((local - kitchen_midnight(settings, service_date)).total_seconds())


def delivery_rules(
    settings: Settings,
    service_date: date,
    slot: Slot,
    waves: Sequence[time] | None = None,
) -> adapter.DeliveryRules:
    """Every number the route plan depends on. ``waves`` are the kitchen's departure times
    as the operator keeps them (``meals.sites.fleet.waves_for``); without them, the
    settings' ``kitchen_*_departures``."""
    zone = settings.default_timezone
    if waves is None:
        waves = (
            settings.kitchen_lunch_departures
            if slot is Slot.LUNCH
            else settings.kitchen_dinner_departures
        )
    shift = settings.delivery_lunch_shift if slot is Slot.LUNCH else settings.delivery_dinner_shift
    return adapter.DeliveryRules(
        departure_waves=tuple(
            sorted({_seconds_of(settings, service_date, w, zone) for w in waves})
        ),
        shift=(
            _seconds_of(settings, service_date, shift[0], zone),
            _seconds_of(settings, service_date, shift[1], zone),
        ),
        van_fixed_cost=settings.delivery_van_fixed_cost,
        food_safety_limit=settings.food_safety_limit,
        packing_lead=settings.kitchen_packing_lead,
        site_earliest_before_serving=settings.delivery_site_earliest_before_serving,
        site_latest_before_serving=settings.delivery_site_latest_before_serving,
        home_earliest_before_serving=settings.delivery_home_earliest_before_serving,
        home_latest_after_serving=settings.delivery_home_latest_after_serving,
        site_service=settings.delivery_site_service,
        home_service=settings.delivery_home_service,
        reload=settings.delivery_reload,
        last_mile_enabled=settings.last_mile_enabled,
        last_mile_travel=StraightLineParams(
            detour_factor=settings.last_mile_detour_factor,
            speed_metres_per_second=settings.last_mile_speed_metres_per_second,
        ),
        last_mile_handover=settings.last_mile_handover_service,
        solver_seconds=settings.delivery_solver_seconds,
        last_mile_solver_seconds=settings.last_mile_solver_seconds,
        last_mile_walk_share=settings.last_mile_walk_share,
        solver_seed=settings.delivery_solver_seed,
        solver_steps=settings.delivery_solver_steps,
    )


def _active(service_date: date, slot: Slot) -> tuple:
    return (
        Booking.service_date == service_date,
        Booking.slot == slot,
        Booking.status != BookingStatus.CANCELLED,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FrozenDemand:
    """What the routes carry: portions per site, home deliveries, and the kitchen's boxes.

    ``boxes`` maps a stop key (``site-<id>`` for a site's own portions, ``home-<senior id>``)
    to its (hot, cold) boxes as the kitchen packs them: the one box model.
    """

    site_portions: dict[int, int]
    home_bookings: list[tuple[int, int, int]]
    """(booking id, site id, senior id) of each home delivery."""
    boxes: dict[str, tuple[int, int]]
    earliest_departure: dict[str, int] = field(default_factory=dict)
    """Stop key -> seconds since the kitchen's midnight before which its food cannot leave
    (cooked after the freeze, then its texture steps and packing)."""


async def load_inputs(
    session: AsyncSession,
    *,
    settings: Settings,
    service_date: date,
    slot: Slot,
    demand: FrozenDemand,
    excluded_vans: Sequence[str] = (),
) -> DeliveryInputs:
    """The router's input for the frozen demand: sites, homes, the fleet and the kitchen."""
    portions = demand.site_portions
    site_rows = await session.execute(
        select(Site, SiteSlot.serve_start)
        .join(SiteSlot, SiteSlot.site_id == Site.id)
        .where(SiteSlot.slot == slot)
    )
    sites = {
        site.id: adapter.SiteDemand(
            site_id=site.id,
            name=site.name,
            location=Coordinates(site.latitude, site.longitude),
            serve_start=_seconds_of(settings, service_date, serve_start, site.timezone),
            portions=portions.get(site.id, 0),
            boxes=demand.boxes.get(adapter.site_key(site.id), (0, 0))[0],
            cold_boxes=demand.boxes.get(adapter.site_key(site.id), (0, 0))[1],
            earliest_departure=demand.earliest_departure.get(adapter.site_key(site.id), 0),
            last_mile_radius_m=site.last_mile_radius_m
            if site.kind is SiteKind.MEAL_POINT
            else None,
        )
        for site, serve_start in site_rows
    }
    located_homes = {
        senior_id: (latitude, longitude)
        for senior_id, latitude, longitude in await session.execute(
            select(Senior.id, Senior.latitude, Senior.longitude).where(
                Senior.id.in_({senior for _, _, senior in demand.home_bookings})
            )
        )
    }
    bookings: dict[int, list[int]] = {}
    homes: dict[int, tuple[int, Coordinates | None]] = {}
    for booking_id, site_id, senior_id in sorted(demand.home_bookings, key=lambda b: (b[2], b[0])):
        bookings.setdefault(senior_id, []).append(booking_id)
        latitude, longitude = located_homes.get(senior_id, (None, None))
        located = latitude is not None and longitude is not None
        homes[senior_id] = (site_id, Coordinates(latitude, longitude) if located else None)
    vans = [
        adapter.VanInfo(
            van_id=van.id,
            code=van.code,
            capacity_boxes=van.capacity_boxes,
            cold_capacity_boxes=van.cold_capacity_boxes,
            driver_account_id=van.driver_account_id,
        )
        for van in await session.scalars(select(Van).where(Van.active).order_by(Van.code))
        if van.code not in excluded_vans
    ]
    depot = await session.scalar(
        select(Site).where(Site.kind == SiteKind.KITCHEN).order_by(Site.id).limit(1)
    )
    if depot is None:
        raise Conflict("There is no central kitchen to plan routes from.", code="no_kitchen")
    latest = await latest_plan(session, service_date, slot)
    return DeliveryInputs(
        source=PlanSource.PRODUCTION_RUN,
        production_run_id=None,
        kitchen=Coordinates(depot.latitude, depot.longitude),
        sites=sites,
        homes=[
            adapter.HomeDemand(
                senior_id=senior_id,
                booking_ids=tuple(bookings[senior_id]),
                home_site_id=site_id,
                location=location,
                serve_start=sites[site_id].serve_start,
                boxes=demand.boxes.get(adapter.home_key(senior_id), (0, 0))[0],
                cold_boxes=demand.boxes.get(adapter.home_key(senior_id), (0, 0))[1],
                earliest_departure=demand.earliest_departure.get(adapter.home_key(senior_id), 0),
            )
            for senior_id, (site_id, location) in homes.items()
            if site_id in sites
        ],
        vans=vans,
        previous_vans=await previous_vans(session, latest) if latest else {},
    )


async def previous_vans(session: AsyncSession, plan: RoutePlanRecord) -> dict[str, str]:
    """Stop key -> van code of every stop a van carries in ``plan`` (walked homes ride in
    their drop and are not listed)."""
    return dict(
        (
            await session.execute(
                select(RouteStop.stop_key, RouteRun.van_code)
                .join(RouteRun, RouteRun.id == RouteStop.run_id)
                .where(RouteStop.plan_id == plan.id)
            )
        ).all()
    )


def _provider(settings: Settings) -> tuple[TravelTimeProvider | None, str]:
    if settings.delivery_osrm_url:
        return OsrmProvider(OsrmParams(base_url=settings.delivery_osrm_url)), OSRM
    return None, STRAIGHT_LINE


def _solve(inputs: DeliveryInputs, rules: adapter.DeliveryRules, settings: Settings):
    """Solve with the configured travel times; an unreachable OSRM falls back to straight line."""
    provider, name = _provider(settings)
    try:
        plan = adapter.solve_deliveries(
            inputs.kitchen,
            inputs.sites,
            inputs.homes,
            inputs.vans,
            rules,
            provider,
            previous_vans=inputs.previous_vans,
        )
    except OsrmError:
        plan = adapter.solve_deliveries(
            inputs.kitchen,
            inputs.sites,
            inputs.homes,
            inputs.vans,
            rules,
            None,
            previous_vans=inputs.previous_vans,
        )
        name = STRAIGHT_LINE
    return plan, name


async def latest_plan(
    session: AsyncSession, service_date: date, slot: Slot
) -> RoutePlanRecord | None:
    """The plan drivers follow: the last one made for the date and slot."""
    return (
        await session.scalars(
            select(RoutePlanRecord)
            .where(RoutePlanRecord.service_date == service_date, RoutePlanRecord.slot == slot)
            .order_by(RoutePlanRecord.id.desc())
            .limit(1)
        )
    ).first()


async def get_plan(session: AsyncSession, plan_id: int) -> RoutePlanRecord:
    plan = await session.get(RoutePlanRecord, plan_id)
    if plan is None:
        raise NotFound("Route plan {plan_id} does not exist.", plan_id=plan_id)
    return plan


async def deliveries_started(session: AsyncSession, plan: RoutePlanRecord) -> bool:
    acted = await session.scalar(
        select(func.count())
        .select_from(RouteStop)
        .where(RouteStop.plan_id == plan.id, RouteStop.status != StopStatus.PLANNED)
    )
    return bool(acted)


async def refuse_if_started(session: AsyncSession, service_date: date, slot: Slot) -> None:
    """Refuse a re-plan once a driver has acted on the plan being followed."""
    latest = await latest_plan(session, service_date, slot)
    if latest is not None and await deliveries_started(session, latest):
        raise Conflict(
            "Deliveries have started on the current plan; it can no longer be re-planned.",
            code="deliveries_started",
        )


async def solve_routes(
    inputs: DeliveryInputs,
    rules: adapter.DeliveryRules,
    settings: Settings,
    slot: Slot,
    executor: Executor | None = None,
) -> tuple[adapter.DeliveryPlan, str]:
    """Solve in ``executor`` (the background planner's worker process), or in a thread."""
    with PLAN_SOLVE_SECONDS.labels(slot.value).time():
        if executor is None:
            return await asyncio.to_thread(_solve, inputs, rules, settings)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, _solve, inputs, rules, settings)


async def store_routes(
    session: AsyncSession,
    *,
    settings: Settings,
    service_date: date,
    slot: Slot,
    actor: Actor | None,
    now: datetime,
    inputs: DeliveryInputs,
    rules: adapter.DeliveryRules,
    result: adapter.DeliveryPlan,
    provider_name: str,
    excluded_vans: Sequence[str] = (),
) -> RoutePlanRecord:
    """Add the solved plan as the one to follow (flushed, not committed: the kitchen's
    packing for it is stored in the same transaction)."""
    latest = await latest_plan(session, service_date, slot)
    record = RoutePlanRecord(
        service_date=service_date,
        slot=slot,
        created_at=now,
        created_by_account_id=actor.account_id if actor else None,
        source=inputs.source,
        production_run_id=inputs.production_run_id,
        previous_plan_id=latest.id if latest else None,
        excluded_vans=sorted(excluded_vans),
        travel_provider=provider_name,
        vans_used=result.vans_used,
        distance_m=result.distance_m,
        longest_in_van_s=result.longest_since_departure + int(rules.packing_lead.total_seconds()),
        food_safety_limit_s=int(rules.food_safety_limit.total_seconds()),
        stops_served=sum(1 for s in result.stops if s.unserved_reason is None),
        stops_unserved=sum(1 for s in result.stops if s.unserved_reason is not None),
    )
    session.add(record)
    await session.flush()
    vans = {van.code: van for van in inputs.vans}
    runs: dict[tuple[str, int], RouteRun] = {}
    for planned in result.runs:
        van = vans[planned.van_code]
        run = RouteRun(
            plan_id=record.id,
            van_id=van.van_id,
            van_code=van.code,
            driver_account_id=van.driver_account_id,
            trip_number=planned.trip_number,
            departs_at=seconds_to_moment(settings, service_date, planned.departs),
            returns_at=seconds_to_moment(settings, service_date, planned.returns),
            distance_m=planned.distance_m,
            load_boxes=planned.load_boxes,
            capacity_boxes=van.capacity_boxes,
            load_cold_boxes=planned.load_cold_boxes,
            cold_capacity_boxes=van.cold_capacity_boxes,
        )
        session.add(run)
        runs[(planned.van_code, planned.trip_number)] = run
    await session.flush()
    for stop in result.stops:
        session.add(
            RouteStop(
                plan_id=record.id,
                run_id=runs[stop.run_key].id if stop.run_key else None,
                stop_key=stop.stop_key,
                kind=StopKind(stop.kind),
                sequence=stop.sequence,
                site_id=stop.site_id,
                senior_id=stop.senior_id,
                carried_by_site_id=stop.carried_by_site_id,
                booking_ids=list(stop.booking_ids),
                portions=stop.portions,
                boxes=stop.boxes,
                cold_boxes=stop.cold_boxes,
                last_mile_boxes=stop.last_mile_boxes,
                eta=seconds_to_moment(settings, service_date, stop.eta)
                if stop.eta is not None
                else None,
                since_departure_s=stop.since_departure,
                load_before_boxes=stop.load_before,
                latitude=stop.location.lat if stop.location else None,
                longitude=stop.location.lon if stop.location else None,
                unserved_reason=stop.unserved_reason,
                unserved_detail=stop.unserved_detail,
                unserved_remedy=stop.unserved_remedy,
                unserved_remedy_at=seconds_to_moment(
                    settings, service_date, stop.unserved_remedy_at
                )
                if stop.unserved_remedy_at is not None
                else None,
                status=StopStatus.PLANNED,
            )
        )
    await session.flush()
    return record


async def plan_runs(session: AsyncSession, plan: RoutePlanRecord) -> list[RouteRun]:
    return list(
        await session.scalars(
            select(RouteRun)
            .where(RouteRun.plan_id == plan.id)
            .order_by(RouteRun.van_code, RouteRun.trip_number)
        )
    )


async def plan_stops(session: AsyncSession, plan: RoutePlanRecord) -> list[RouteStop]:
    return list(
        await session.scalars(
            select(RouteStop)
            .where(RouteStop.plan_id == plan.id)
            .order_by(RouteStop.run_id, RouteStop.sequence, RouteStop.stop_key)
        )
    )


async def stop_names(session: AsyncSession, stops: Sequence[RouteStop]) -> dict[int, str]:
    """A readable name per stop: the site's name, or the senior's name and address."""
    site_ids = {s.site_id for s in stops if s.kind is StopKind.SITE_DROP and s.site_id}
    senior_ids = {s.senior_id for s in stops if s.senior_id}
    sites = (
        dict((await session.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids)))).all())
        if site_ids
        else {}
    )
    seniors = (
        {
            senior_id: f"{name} · {address}"
            for senior_id, name, address in await session.execute(
                select(Senior.id, Senior.name, Senior.address).where(Senior.id.in_(senior_ids))
            )
        }
        if senior_ids
        else {}
    )
    return {
        stop.id: sites.get(stop.site_id or 0, "")
        if stop.kind is StopKind.SITE_DROP
        else seniors.get(stop.senior_id or 0, "")
        for stop in stops
    }


def _eta_shifted(before: RouteStop | None, after: RouteStop | None, settings: Settings) -> bool:
    if before is None or after is None or before.eta is None or after.eta is None:
        return False
    return abs(after.eta - before.eta) >= settings.delivery_eta_shift_reported


def _placement(stop: RouteStop, runs: dict[int, RouteRun], zone: ZoneInfo) -> str:
    if stop.unserved_reason:
        return f"unserved: {stop.unserved_reason}"
    eta = stop.eta.astimezone(zone).strftime("%H:%M") if stop.eta else ""
    if stop.run_id is None:
        return f"walk #{stop.sequence} {eta}"
    run = runs[stop.run_id]
    return f"{run.van_code} trip {run.trip_number} #{stop.sequence} {eta}"


async def plan_diff(
    session: AsyncSession, plan: RoutePlanRecord, settings: Settings
) -> list[StopChange]:
    """Stops whose van, trip, position or served state differ from the previous plan, or
    whose arrival moved by `delivery_eta_shift_reported` or more (a senior waits on it)."""
    if plan.previous_plan_id is None:
        return []
    previous = await session.get(RoutePlanRecord, plan.previous_plan_id)
    if previous is None:
        return []
    zone = settings.district_zone
    before_stops = await plan_stops(session, previous)
    after_stops = await plan_stops(session, plan)
    both = [*await plan_runs(session, previous), *await plan_runs(session, plan)]
    runs = {run.id: run for run in both}
    names = await stop_names(session, [*before_stops, *after_stops])
    before = {s.stop_key: s for s in before_stops}
    after = {s.stop_key: s for s in after_stops}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old = _placement(before[key], runs, zone) if key in before else "—"
        new = _placement(after[key], runs, zone) if key in after else "—"
        old_place = old.rsplit(" ", 1)[0] if key in before else old
        new_place = new.rsplit(" ", 1)[0] if key in after else new
        if old_place != new_place or _eta_shifted(before.get(key), after.get(key), settings):
            stop = after.get(key) or before[key]
            changes.append(StopChange(stop_key=key, name=names[stop.id], before=old, after=new))
    return changes
