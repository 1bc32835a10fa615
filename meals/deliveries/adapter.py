"""The one place where delivery demand becomes a ``routing`` problem and its answer comes back.

Pure: the service loads rows into the plain types below, this module builds the router's
input, splits off the last mile and turns the router's plan into stops to store. Times are
seconds since midnight in the kitchen's time zone, as ``routing`` counts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from routing import (
    Coordinates,
    Depot,
    Load,
    Problem,
    RoutePlan,
    SolveParams,
    Stop,
    StopKind,
    StraightLineParams,
    StraightLineProvider,
    TimeWindow,
    TravelTimeProvider,
    Vehicle,
    keep_vehicles,
    solve,
    travel_matrix,
)

EARTH_RADIUS_M = 6_371_000
NO_LOCATION = "no_location"
DROP_UNSERVED = "drop_unserved"
SECONDS_PER_DAY = 24 * 3600
DETAIL_MAX = 255
"""Stored length of an unserved stop's explanation."""
WALKING_LIST_SEARCH = SolveParams(solution_limit=200)
"""A walking list is a handful of homes: a few hundred search steps settle its order
(milliseconds), where the time limit alone would spend it whole on every list."""


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRules:
    """Every number the route plan depends on, taken from settings by the service."""

    departure_waves: tuple[int, ...]
    shift: tuple[int, int]
    van_fixed_cost: int
    food_safety_limit: timedelta
    packing_lead: timedelta
    site_earliest_before_serving: timedelta
    site_latest_before_serving: timedelta
    home_earliest_before_serving: timedelta
    home_latest_after_serving: timedelta
    site_service: timedelta
    home_service: timedelta
    reload: timedelta
    last_mile_enabled: bool
    last_mile_travel: StraightLineParams
    last_mile_handover: timedelta
    solver_seconds: float
    last_mile_solver_seconds: float
    solver_seed: int
    last_mile_walk_share: float
    solver_steps: int | None = None
    """At most this many search steps for the van runs (``None``: the time limit alone)."""
    early_cooking: tuple[int, ...] = ()
    """Per departure wave (or empty): seconds earlier than its packing lead the kitchen must
    finish that wave's cooking (shared equipment); that wave's food budget is that much
    shorter, so the router's deadline and the kitchen's rule stay one number."""

    @property
    def in_van_limit(self) -> int:
        """Seconds a meal may spend from departure to handover: the limit less packing
        (and less any texture step after cooking), never below zero."""
        return max(0, _seconds(self.food_safety_limit - self.packing_lead))

    def early_cooking_at(self, wave: int) -> int:
        """Seconds the food of the departure wave at ``wave`` was cooked early, if any."""
        if not self.early_cooking or wave not in self.departure_waves:
            return 0
        return self.early_cooking[self.departure_waves.index(wave)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteDemand:
    """A canteen or meal point: its non-delivery portions and whether it takes a last mile."""

    site_id: int
    name: str
    location: Coordinates
    serve_start: int
    portions: int
    last_mile_radius_m: int | None
    boxes: int = 0
    """Hot boxes of the site's own portions, as the kitchen packs them."""
    cold_boxes: int = 0
    earliest_departure: int = 0
    """Before this its food is not cooked and packed (the kitchen cooks after the freeze)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeDemand:
    senior_id: int
    booking_ids: tuple[int, ...]
    home_site_id: int
    location: Coordinates | None
    serve_start: int
    boxes: int = 0
    """Hot boxes of this home's meals, as the kitchen packs them."""
    cold_boxes: int = 0
    earliest_departure: int = 0

    @property
    def portions(self) -> int:
        return len(self.booking_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class VanInfo:
    van_id: int
    code: str
    capacity_boxes: int
    cold_capacity_boxes: int
    driver_account_id: int | None


@dataclass(slots=True, kw_only=True)
class PlannedStop:
    """A stop as it will be stored; ``run_key`` is (van code, trip number) when on a run."""

    stop_key: str
    kind: str
    site_id: int | None = None
    senior_id: int | None = None
    carried_by_site_id: int | None = None
    booking_ids: tuple[int, ...] = ()
    portions: int = 0
    boxes: int = 0
    cold_boxes: int = 0
    last_mile_boxes: int = 0
    location: Coordinates | None = None
    run_key: tuple[str, int] | None = None
    sequence: int | None = None
    eta: int | None = None
    since_departure: int | None = None
    load_before: int | None = None
    unserved_reason: str | None = None
    unserved_detail: str | None = None
    unserved_remedy: str | None = None
    unserved_remedy_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedRun:
    van_code: str
    trip_number: int
    departs: int
    returns: int
    distance_m: int
    load_boxes: int
    load_cold_boxes: int = 0


@dataclass(slots=True, kw_only=True)
class DeliveryPlan:
    runs: list[PlannedRun] = field(default_factory=list)
    stops: list[PlannedStop] = field(default_factory=list)
    distance_m: int = 0
    vans_used: int = 0

    @property
    def longest_since_departure(self) -> int:
        return max((s.since_departure or 0 for s in self.stops), default=0)


def site_key(site_id: int) -> str:
    return f"site-{site_id}"


def home_key(senior_id: int) -> str:
    return f"home-{senior_id}"


def metres_between(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance (haversine): enough to decide who is within walking radius."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def split_last_mile(
    homes: Sequence[HomeDemand], sites: Mapping[int, SiteDemand], enabled: bool
) -> tuple[list[HomeDemand], dict[int, list[HomeDemand]]]:
    """Homes for the vans, and homes each meal point walks to (nearest point within radius)."""
    if not enabled:
        return list(homes), {}
    points = [s for s in sites.values() if s.last_mile_radius_m]
    by_van: list[HomeDemand] = []
    walked: dict[int, list[HomeDemand]] = {}
    for home in homes:
        if home.location is None:
            by_van.append(home)
            continue
        near = [
            (metres_between(home.location, point.location), point.site_id)
            for point in points
            if metres_between(home.location, point.location) <= (point.last_mile_radius_m or 0)
        ]
        if near:
            walked.setdefault(min(near)[1], []).append(home)
        else:
            by_van.append(home)
    return by_van, walked


def build_problem(
    kitchen: Coordinates,
    sites: Mapping[int, SiteDemand],
    van_homes: Sequence[HomeDemand],
    walked: Mapping[int, Sequence[HomeDemand]],
    vans: Sequence[VanInfo],
    rules: DeliveryRules,
    provider: TravelTimeProvider | None,
    walk_seconds: Mapping[int, int] | None = None,
) -> tuple[Problem | None, list[PlannedStop]]:
    """The router's problem and every stop to store (homes without a location are unserved).

    A drop carries its site's boxes plus the labelled boxes of its walked homes; loads are
    the kitchen's hot and cold boxes (``SiteDemand.boxes`` / ``HomeDemand.boxes``).
    ``walk_seconds`` (site id -> length of its walking list) is kept out of the drop's
    food-safety limit, so the walk after the drop still hands every box over in time.
    """
    walk_seconds = walk_seconds or {}
    stops: list[PlannedStop] = []
    routed: list[Stop] = []
    for site in sorted(sites.values(), key=lambda s: s.site_id):
        homes = walked.get(site.site_id, ())
        if site.portions == 0 and not homes:
            continue
        last_mile_portions = sum(h.portions for h in homes)
        boxes = site.boxes + sum(h.boxes for h in homes)
        cold_boxes = site.cold_boxes + sum(h.cold_boxes for h in homes)
        planned = PlannedStop(
            stop_key=site_key(site.site_id),
            kind="site_drop",
            site_id=site.site_id,
            portions=site.portions + last_mile_portions,
            boxes=boxes,
            cold_boxes=cold_boxes,
            last_mile_boxes=sum(h.boxes + h.cold_boxes for h in homes),
            location=site.location,
        )
        stops.append(planned)
        routed.append(
            Stop(
                planned.stop_key,
                StopKind.SITE_DROP,
                Load(boxes=boxes, cold_boxes=cold_boxes),
                TimeWindow(
                    max(0, site.serve_start - _seconds(rules.site_earliest_before_serving)),
                    site.serve_start - _seconds(rules.site_latest_before_serving),
                ),
                service_duration=_seconds(rules.site_service),
                max_time_since_departure=max(
                    0,
                    rules.in_van_limit
                    - (
                        _seconds(rules.site_service) + walk_seconds[site.site_id]
                        if site.site_id in walk_seconds
                        else 0
                    ),
                ),
                location=site.location,
                earliest_departure=max(
                    [site.earliest_departure, *(h.earliest_departure for h in homes)]
                ),
            )
        )
        for home in homes:
            stops.append(
                PlannedStop(
                    stop_key=home_key(home.senior_id),
                    kind="last_mile_home",
                    site_id=home.home_site_id,
                    senior_id=home.senior_id,
                    carried_by_site_id=site.site_id,
                    booking_ids=home.booking_ids,
                    portions=home.portions,
                    boxes=home.boxes,
                    cold_boxes=home.cold_boxes,
                    location=home.location,
                )
            )
    for home in van_homes:
        planned = PlannedStop(
            stop_key=home_key(home.senior_id),
            kind="home",
            site_id=home.home_site_id,
            senior_id=home.senior_id,
            booking_ids=home.booking_ids,
            portions=home.portions,
            boxes=home.boxes,
            cold_boxes=home.cold_boxes,
            location=home.location,
        )
        stops.append(planned)
        if home.location is None:
            planned.unserved_reason = NO_LOCATION
            planned.unserved_detail = "the senior's home has no coordinates"
            continue
        routed.append(
            Stop(
                planned.stop_key,
                StopKind.HOME_DELIVERY,
                Load(boxes=planned.boxes, cold_boxes=planned.cold_boxes),
                TimeWindow(
                    max(0, home.serve_start - _seconds(rules.home_earliest_before_serving)),
                    min(
                        SECONDS_PER_DAY - 1,
                        home.serve_start + _seconds(rules.home_latest_after_serving),
                    ),
                ),
                service_duration=_seconds(rules.home_service),
                max_time_since_departure=rules.in_van_limit,
                location=home.location,
                earliest_departure=home.earliest_departure,
            )
        )
    if not routed:
        return None, stops
    depot = Depot(
        departure_waves=rules.departure_waves,
        reload_duration=_seconds(rules.reload),
        name="kitchen",
        location=kitchen,
        early_cooking=rules.early_cooking,
    )
    vehicles = tuple(
        Vehicle(
            van.code,
            Load(boxes=van.capacity_boxes, cold_boxes=van.cold_capacity_boxes),
            earliest_start=rules.shift[0],
            shift_end=rules.shift[1],
            fixed_cost=rules.van_fixed_cost,
        )
        for van in vans
    )
    matrix = travel_matrix(kitchen, [s.location for s in routed], provider)
    return Problem(depot, vehicles, tuple(routed), matrix), stops


def apply_route_plan(plan: RoutePlan, stops: Sequence[PlannedStop]) -> DeliveryPlan:
    """Runs in van order, stops in visit order with ETA, time in van and load on arrival."""
    by_key = {s.stop_key: s for s in stops}
    result = DeliveryPlan(stops=list(stops), vans_used=plan.vehicles_used, distance_m=plan.distance)
    for route in sorted(plan.routes, key=lambda r: r.vehicle_id):
        for number, trip in enumerate(route.trips, start=1):
            result.runs.append(
                PlannedRun(
                    van_code=route.vehicle_id,
                    trip_number=number,
                    departs=trip.departure,
                    returns=trip.return_time,
                    distance_m=trip.distance,
                    load_boxes=trip.load.boxes,
                    load_cold_boxes=trip.load.cold_boxes,
                )
            )
            for sequence, visit in enumerate(trip.visits, start=1):
                stop = by_key[visit.stop_id]
                stop.run_key = (route.vehicle_id, number)
                stop.sequence = sequence
                stop.eta = visit.service_start
                stop.since_departure = visit.time_since_departure
                stop.load_before = visit.load_before.boxes
    for unserved in plan.unserved:
        stop = by_key[unserved.stop_id]
        stop.unserved_reason = unserved.reason.value
        stop.unserved_detail = unserved.detail[:DETAIL_MAX]
        stop.unserved_remedy = unserved.remedy.value if unserved.remedy else None
        stop.unserved_remedy_at = unserved.remedy_time
    return result


def _walking_problem(
    location: Coordinates, homes: list[PlannedStop], rules: DeliveryRules, start: int, budget: int
) -> Problem:
    """A meal point's walk: one walker from the drop at ``start``, ``budget`` s to hand over."""
    routed = [
        Stop(
            home.stop_key,
            StopKind.HOME_DELIVERY,
            Load(boxes=home.boxes + home.cold_boxes),
            TimeWindow(start, min(SECONDS_PER_DAY - 1, start + budget)),
            service_duration=_seconds(rules.last_mile_handover),
            max_time_since_departure=budget,
            location=home.location,
        )
        for home in homes
    ]
    walker = Vehicle(
        "walker",
        Load(boxes=sum(h.boxes + h.cold_boxes for h in homes)),
        earliest_start=start,
        shift_end=SECONDS_PER_DAY - 1,
    )
    return Problem(
        Depot(departure_waves=(start,), location=location),
        (walker,),
        tuple(routed),
        travel_matrix(
            location, [s.location for s in routed], StraightLineProvider(rules.last_mile_travel)
        ),
    )


def fit_walks(
    walked: Mapping[int, Sequence[HomeDemand]],
    sites: Mapping[int, SiteDemand],
    rules: DeliveryRules,
    drives: Mapping[int, int],
) -> tuple[dict[int, list[HomeDemand]], dict[int, int], list[HomeDemand]]:
    """Keep on each walking list the homes a walk can reach in its share of the limit.

    A walk may take ``rules.last_mile_walk_share`` of the time the limit leaves once the
    van could have driven straight to the meal point (``drives``: site id -> seconds) and
    handed over; homes further along the shortest walk go by van instead. Returns the
    walked homes kept per site, each walk's length in seconds, and the homes moved to vans.
    """
    kept: dict[int, list[HomeDemand]] = {}
    lengths: dict[int, int] = {}
    moved: list[HomeDemand] = []
    for site_id, homes in walked.items():
        left = rules.in_van_limit - _seconds(rules.site_service) - drives[site_id]
        share = rules.last_mile_walk_share * max(0, left)
        by_key = {home_key(home.senior_id): home for home in homes}
        problem = _walking_problem(
            sites[site_id].location,
            [_walked_stop(home) for home in homes],
            rules,
            0,
            SECONDS_PER_DAY - 1,
        )
        plan = solve(
            problem,
            time_limit=rules.last_mile_solver_seconds,
            seed=rules.solver_seed,
            params=WALKING_LIST_SEARCH,
        )
        visits = [v for route in plan.routes for trip in route.trips for v in trip.visits]
        reached = [visit for visit in visits if visit.departure <= share]
        kept[site_id] = [by_key[visit.stop_id] for visit in reached]
        lengths[site_id] = max((visit.departure for visit in reached), default=0)
        keep = {visit.stop_id for visit in reached}
        moved += [home for key, home in by_key.items() if key not in keep]
    return {site: homes for site, homes in kept.items() if homes}, lengths, moved


def order_last_mile(drop: PlannedStop, homes: list[PlannedStop], rules: DeliveryRules) -> None:
    """Order a meal point's walking list with ``routing``, inside what is left of the limit.

    The walk starts when the drop has been handed over; a home is unserved when the drop is,
    or when walking there would break the food-safety limit.
    """
    if drop.eta is None or drop.since_departure is None or drop.location is None:
        for home in homes:
            home.unserved_reason = DROP_UNSERVED
            home.unserved_detail = "the meal point's drop is not on any run"
        return
    start = drop.eta + _seconds(rules.site_service)
    spent = drop.since_departure + _seconds(rules.site_service)
    wave = drop.eta - drop.since_departure
    budget = max(0, rules.in_van_limit - rules.early_cooking_at(wave) - spent)
    problem = _walking_problem(drop.location, homes, rules, start, budget)
    plan = solve(
        problem,
        time_limit=rules.last_mile_solver_seconds,
        seed=rules.solver_seed,
        params=WALKING_LIST_SEARCH,
    )
    by_key = {h.stop_key: h for h in homes}
    for route in plan.routes:
        sequence = 0
        for trip in route.trips:
            for visit in trip.visits:
                sequence += 1
                home = by_key[visit.stop_id]
                home.sequence = sequence
                home.eta = visit.service_start
                home.since_departure = spent + visit.time_since_departure
    for unserved in plan.unserved:
        home = by_key[unserved.stop_id]
        home.unserved_reason = unserved.reason.value
        home.unserved_detail = unserved.detail[:DETAIL_MAX]
        home.unserved_remedy = unserved.remedy.value if unserved.remedy else None
        home.unserved_remedy_at = unserved.remedy_time


def _walked_stop(home: HomeDemand) -> PlannedStop:
    return PlannedStop(
        stop_key=home_key(home.senior_id),
        kind="last_mile_home",
        boxes=home.boxes,
        cold_boxes=home.cold_boxes,
        location=home.location,
    )


def solve_deliveries(
    kitchen: Coordinates,
    sites: Mapping[int, SiteDemand],
    homes: Sequence[HomeDemand],
    vans: Sequence[VanInfo],
    rules: DeliveryRules,
    provider: TravelTimeProvider | None = None,
    previous_vans: Mapping[str, str] | None = None,
) -> DeliveryPlan:
    """The whole delivery day for one slot: van runs, then each meal point's walking list.

    ``previous_vans`` (stop key -> van code of the plan being replaced) keeps each van's work
    on it where the new runs allow: the search numbers its runs by the vans it is given, so
    without it one van out moves nearly every run, label and driver to the next van code.
    Walking lists follow their drop and are numbered by the meal point, not by van.
    """
    van_homes, walked = split_last_mile(homes, sites, rules.last_mile_enabled)
    drives = travel_matrix(
        kitchen, [sites[site_id].location for site_id in walked], provider
    ).durations[0][1:]
    walked, walks, by_van = fit_walks(walked, sites, rules, dict(zip(walked, drives, strict=True)))
    van_homes = [*van_homes, *by_van]
    problem, stops = build_problem(
        kitchen, sites, van_homes, walked, vans, rules, provider, walk_seconds=walks
    )
    if problem is None:
        result = DeliveryPlan(stops=stops)
    elif not vans:
        result = DeliveryPlan(stops=stops)
        for stop in stops:
            if stop.kind != "last_mile_home" and stop.unserved_reason is None:
                stop.unserved_reason = "fleet_too_small"
                stop.unserved_detail = "no van is available"
    else:
        steps = SolveParams(solution_limit=rules.solver_steps) if rules.solver_steps else None
        plan = solve(problem, time_limit=rules.solver_seconds, seed=rules.solver_seed, params=steps)
        plan = keep_vehicles(problem, plan, previous_vans or {})
        result = apply_route_plan(plan, stops)
    by_key = {s.stop_key: s for s in result.stops}
    for site_id, site_homes in walked.items():
        drop = by_key[site_key(site_id)]
        order_last_mile(
            drop,
            [by_key[home_key(h.senior_id)] for h in site_homes],
            rules,
        )
    return result
