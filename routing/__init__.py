"""WarmMeal delivery router: plain data in, a route plan out (OR-Tools inside).

Pure: no database, no web server, never imports ``meals``. The only I/O is in the
travel-time providers (an OSRM server) and in the Solomon file reader / CLI, both
kept apart from :func:`solve`.

Units: integer seconds since local midnight of the delivery day, integer metres,
integer boxes.

How the delivery-day code calls it::

    from routing import (Coordinates, Depot, Load, Problem, Stop, StopKind, TimeWindow,
                         Vehicle, solve, travel_matrix)

    kitchen = Coordinates(31.2304, 121.4737)
    depot = Depot(departure_waves=(10 * 3600 + 15 * 60, 11 * 3600), reload_duration=900,
                  location=kitchen)
    vans = (Vehicle("van-1", Load(boxes=40), earliest_start=9 * 3600,
                    shift_end=14 * 3600, fixed_cost=1_000_000),)
    stops = (
        Stop("site-7", StopKind.SITE_DROP, Load(boxes=12),
             TimeWindow(10 * 3600 + 45 * 60, 11 * 3600 + 15 * 60),
             service_duration=600, max_time_since_departure=100 * 60,
             location=Coordinates(31.24, 121.48)),
        Stop("home-42", StopKind.HOME_DELIVERY, Load(boxes=1),
             TimeWindow(11 * 3600, 12 * 3600 + 30 * 60), service_duration=180,
             max_time_since_departure=100 * 60, location=Coordinates(31.22, 121.46)),
    )
    matrix = travel_matrix(kitchen, [s.location for s in stops], provider)  # or straight line
    plan = solve(Problem(depot, vans, stops, matrix), time_limit=5.0, seed=0)

    for route in plan.routes:             # one VehicleRoute per van used
        for trip in route.trips:          # departure wave, return_time, load, distance
            for visit in trip.visits:     # stop_id, arrival, service_start (ETA), departure,
                ...                       # time_since_departure, load_before
    for unserved in plan.unserved:        # stop_id, reason (UnservedReason), detail
        ...

Model (``routing.model``, frozen dataclasses):
    ``Depot(departure_waves, reload_duration=0, name, location)``;
    ``Vehicle(id, capacity: Load, earliest_start, shift_end, fixed_cost=0, cost_per_metre=1)``
    -- a van leaves only at departure waves within its shift, may make several trips
    (reloading takes ``reload_duration``), and its fixed cost counts once;
    ``Stop(id, kind, demand: Load, window, service_duration=0,
    max_time_since_departure=None, location=None, earliest_departure=0)`` -- ``window``
    bounds the start of service, ``max_time_since_departure`` is the food-safety limit
    minus kitchen time, ``earliest_departure`` the earliest its food can leave the kitchen;
    ``Load(boxes, cold_boxes)``; ``TimeWindow(start, end)``;
    ``TravelMatrix(durations, distances)`` with location 0 = kitchen, ``i`` = ``stops[i-1]``;
    ``Problem(depot, vehicles, stops, travel, objective=Objective.DISTANCE)``.

Solve (``routing.solver``):
    ``solve(problem, *, time_limit: float, seed: int = 0, params: SolveParams | None = None)
    -> RoutePlan``. All hard rules (capacity per dimension, windows, food-safety limit,
    reload between trips, shift end) hold in every returned plan. It never raises on a
    hard instance: stops it cannot serve are in ``plan.unserved`` with an
    ``UnservedReason`` (OVER_CAPACITY, BEYOND_FOOD_SAFETY_LIMIT, WINDOW_UNREACHABLE,
    AFTER_SHIFT_END, FLEET_TOO_SMALL). Objective: fixed costs of vans used, then
    distance (or driving time with ``Objective.DURATION``). Search: OR-Tools first
    solution and guided local search, then (when every van makes one trip) a
    ruin-and-recreate loop (``routing.ruin_recreate``, SISR with simulated annealing)
    whose best plan OR-Tools checks against the full model and polishes;
    ``SolveParams.ruin_recreate=None`` leaves the whole time to OR-Tools.

Plan (``routing.plan``): ``RoutePlan(routes, unserved, cost)`` with ``vehicles_used``,
``distance``; ``VehicleRoute(vehicle_id, trips)``;
``Trip(departure, return_time, visits, load, distance)``;
``Visit(stop_id, arrival, service_start, departure, time_since_departure, load_before,
distance_from_previous)``.

Re-plans (``routing.keep``): ``keep_vehicles(problem, plan, previous) -> RoutePlan`` renames
routes among interchangeable vans (same capacity, shift and costs) so that as many stops as
possible stay on the van ``previous`` (stop id -> van id) gave them; nothing else changes.

Travel times (``routing.travel``): ``TravelTimeProvider`` protocol with
``matrix(points) -> TravelMatrix``; ``StraightLineProvider(StraightLineParams(
detour_factor, speed_metres_per_second))`` and ``OsrmProvider(OsrmParams(base_url, ...))``
raising ``OsrmUnavailableError`` / ``OsrmNoRouteError``; ``travel_matrix(depot, stops,
provider=None)``. OSRM road data: "© OpenStreetMap contributors" (ODbL).

Benchmarks: ``routing.solomon`` (reader, DIMACS convention) and the
``warmmeal-route solve-solomon`` command; see ``docs/routing-benchmark.md``.
"""

from routing.keep import keep_vehicles
from routing.model import (
    Coordinates,
    Depot,
    Load,
    Objective,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
)
from routing.params import FirstSolution, Metaheuristic, SolveParams
from routing.plan import (
    Remedy,
    RoutePlan,
    Trip,
    UnservedReason,
    UnservedStop,
    VehicleRoute,
    Visit,
)
from routing.solver import SolverConfigurationError, solve
from routing.travel import (
    OsrmError,
    OsrmNoRouteError,
    OsrmParams,
    OsrmProvider,
    OsrmUnavailableError,
    StraightLineParams,
    StraightLineProvider,
    TravelTimeProvider,
    travel_matrix,
)

__all__ = [
    "Coordinates",
    "Depot",
    "FirstSolution",
    "Load",
    "Metaheuristic",
    "Objective",
    "OsrmError",
    "OsrmNoRouteError",
    "OsrmParams",
    "OsrmProvider",
    "OsrmUnavailableError",
    "Problem",
    "Remedy",
    "RoutePlan",
    "SolveParams",
    "SolverConfigurationError",
    "Stop",
    "StopKind",
    "StraightLineParams",
    "StraightLineProvider",
    "TimeWindow",
    "TravelMatrix",
    "TravelTimeProvider",
    "Trip",
    "UnservedReason",
    "UnservedStop",
    "Vehicle",
    "VehicleRoute",
    "Visit",
    "keep_vehicles",
    "solve",
    "travel_matrix",
]
