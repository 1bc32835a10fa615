"""The search: PyVRP's iterated local search on the day's problem.

PyVRP (MIT, compiled, state of the art on VRPTW) does the searching; this module only
translates. How the day maps onto PyVRP's model:

- locations: 0 is the kitchen, ``i`` is ``stops[i - 1]`` (as in the travel matrix);
- depot 0 is the kitchen where every van starts and ends its day; on a day of several
  departure waves, depot 1 is the same kitchen as a reload stop, whose service time is
  the reload duration, and a van may come back to it ``waves - 1`` times;
- one client per stop and *departure wave* the stop can be served on (a "copy"), with
  the wave as its release time (a trip leaves the kitchen no earlier than the latest
  wave of the food it carries) and its window closing at the food-safety limit counted
  from that wave. The copies of one stop form a mutually exclusive group, so a stop is
  served at most once, with the food of one wave. A copy is only made when its wave
  lets the stop be served later than every earlier wave does (otherwise the earlier
  wave's copy is at least as good);
- every client is optional with a prize above anything serving it can cost, so the
  search serves every stop it can fit and never fails on a day the fleet cannot cover;
- vans with the same capacity, shift and costs form one vehicle type.

Where vans have a fixed cost, the second half of the time takes vans away one at a time
while every stop still fits (:func:`_fewer_vans`), then improves the last plan found.

A trip therefore leaves at the latest wave of what it carries, or when its van is back
and reloaded, whichever is later, and every box is handed over within the food-safety
limit of its own wave (not only of the trip's departure).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours
from pyvrp.stop import FirstFeasible, MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from routing.model import Depot, Objective, Problem, Stop

KITCHEN_DEPOT = 0
RELOAD_DEPOT = 1
PRIZE_FACTOR = 10
MAIN_SEARCH_SHARE = 0.5
"""Where vans have a fixed cost, the share of the search's time before it tries to take
vans away (:func:`search`)."""
FEWER_VANS_ATTEMPT_SHARE = 0.5
"""The most of what is left one attempt at one van fewer may take (:func:`_fewer_vans`):
the last, failing attempt leaves the rest to improving the plan it could not shorten."""
TIGHT_FLEET_SLACK = 5.0
"""Below this :func:`fleet_slack` the search starts with spare vans (:func:`search`).

The bound behind the slack is loose where windows and the food-safety limit, not boxes,
decide (district days need 2.5-3 times it), so only a fleet five times the bound is
surely ample. Homberger's wide-window fleets (8-14 times) lose vans in two phases
(RC2_4_1 at 3,000 steps, same seed: 12 against 11 in one). Below five are every
district day (2.1-4), the demo day (2.0) and Homberger R1/C1/RC1 (2.8), which keep the
two phases they were measured with; on district days the step-limited evidence is mixed
(2,000 steps, same seed: one phase 35, 44 and 15 vans, two phases 36, 43 and 15 on
500 stops with three waves, 500 with one, 200 with three)."""


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """A stop served on a trip with the food of one departure wave."""

    stop_index: int
    wave: int


@dataclass(frozen=True, slots=True)
class PlannedTrip:
    """One trip of one van, in the van's order of trips."""

    vehicle_index: int
    visits: tuple[PlannedVisit, ...]


def latest_start(stop: Stop, wave: int, depot: Depot | None = None) -> int:
    """Latest service start at ``stop`` with food that left on ``wave``."""
    limit = stop.max_time_since_departure if depot is None else depot.food_budget(stop, wave)
    return stop.window.end if limit is None else min(stop.window.end, wave + limit)


def wave_copies(problem: Problem, allowed_waves: dict[int, tuple[int, ...]]) -> list[PlannedVisit]:
    """The (stop, wave) pairs worth offering to the search, stop by stop, waves ascending."""
    copies: list[PlannedVisit] = []
    for stop_index in sorted(allowed_waves):
        stop = problem.stops[stop_index]
        best_latest = -1
        for wave in allowed_waves[stop_index]:
            latest = latest_start(stop, wave, problem.depot)
            if latest > best_latest:
                copies.append(PlannedVisit(stop_index, wave))
                best_latest = latest
    return copies


def matrices(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    durations = np.asarray(problem.travel.durations, dtype=np.int64)
    distances = np.asarray(problem.travel.distances, dtype=np.int64)
    return distances, durations


def _prize(problem: Problem, distances: np.ndarray, durations: np.ndarray) -> int:
    """Far more than serving any one stop can cost (a van of its own and the longest round
    trip): a stop left out is worse than any number of vans and kilometres, so the search
    serves every stop it can fit, then saves vans, then distance."""
    longest = int(max(distances.max(), durations.max()))
    unit = max([1, *(vehicle.cost_per_metre for vehicle in problem.vehicles)])
    fixed = max([0, *(vehicle.fixed_cost for vehicle in problem.vehicles)])
    return PRIZE_FACTOR * (1 + fixed + 2 * longest * unit)


def _vehicle_key(problem: Problem, index: int) -> tuple[object, ...]:
    vehicle = problem.vehicles[index]
    return (
        vehicle.capacity,
        vehicle.earliest_start,
        vehicle.shift_end,
        vehicle.fixed_cost,
        vehicle.cost_per_metre,
    )


def build_data(
    problem: Problem,
    copies: list[PlannedVisit],
    matrices: tuple[np.ndarray, np.ndarray],
    spare_vans: int = 0,
) -> tuple[pyvrp.ProblemData, list[list[int | None]]]:
    """PyVRP's problem data, and the van indices behind each vehicle type (in order).

    ``spare_vans``: as many more vans of each type as that, beyond the fleet, for the
    search's first phase (see :func:`search`); their index is ``None``. ``matrices``:
    distances and durations as arrays (:func:`matrices`), made once for both phases.
    """
    distances, durations = matrices
    waves = problem.depot.departure_waves
    multi_trip = len(waves) > 1
    locations = [pyvrp.Location(0, 0, name="kitchen")] + [
        pyvrp.Location(0, 0, name=stop.id) for stop in problem.stops
    ]
    depots = [pyvrp.Depot(0, name="kitchen")]
    if multi_trip:
        depots.append(
            pyvrp.Depot(0, service_duration=problem.depot.reload_duration, name="kitchen reload")
        )
    prize = _prize(problem, distances, durations)
    group_of_stop: dict[int, list[int]] = {}
    for client_index, copy in enumerate(copies):
        group_of_stop.setdefault(copy.stop_index, []).append(client_index)
    grouped = {stop: members for stop, members in group_of_stop.items() if len(members) > 1}
    group_index = {stop: number for number, stop in enumerate(grouped)}
    clients = []
    for copy in copies:
        stop = problem.stops[copy.stop_index]
        clients.append(
            pyvrp.Client(
                copy.stop_index + 1,
                delivery=[stop.demand.boxes, stop.demand.cold_boxes],
                service_duration=stop.service_duration,
                tw_early=stop.window.start,
                tw_late=latest_start(stop, copy.wave, problem.depot),
                release_time=copy.wave,
                required=False,
                prize=prize,
                group=group_index.get(copy.stop_index),
                name=stop.id,
            )
        )
    groups = [pyvrp.ClientGroup(members, required=False) for members in grouped.values()]
    vans_by_type: dict[tuple[object, ...], list[int]] = {}
    for index in range(len(problem.vehicles)):
        vans_by_type.setdefault(_vehicle_key(problem, index), []).append(index)
    by_distance = problem.objective is Objective.DISTANCE
    vehicle_types = []
    van_lists: list[list[int | None]] = []
    for vans in vans_by_type.values():
        vehicle = problem.vehicles[vans[0]]
        van_lists.append([*vans, *([None] * spare_vans)])
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(vans) + spare_vans,
                capacity=[vehicle.capacity.boxes, vehicle.capacity.cold_boxes],
                start_depot=KITCHEN_DEPOT,
                end_depot=KITCHEN_DEPOT,
                fixed_cost=vehicle.fixed_cost,
                tw_early=vehicle.earliest_start,
                tw_late=vehicle.shift_end,
                unit_distance_cost=vehicle.cost_per_metre if by_distance else 0,
                unit_duration_cost=0 if by_distance else 1,
                reload_depots=[RELOAD_DEPOT] if multi_trip else [],
                max_reloads=len(waves) - 1,
                name=vehicle.id,
            )
        )
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[distances],
        duration_matrices=[durations],
        groups=groups,
    )
    return data, van_lists


def _trips_of(
    problem: Problem,
    solution: pyvrp.Solution,
    copies: list[PlannedVisit],
    vans: list[list[int | None]],
) -> tuple[PlannedTrip, ...]:
    """Read the solution's routes back as trips of the problem's vans.

    On a route PyVRP itself marks infeasible (its best solution may be one when the
    time runs out before it finds a feasible one that serves as many stops) only the
    stops that break a rule are left out (:func:`_feasible_part`), so they stay unserved
    and get a reason; the caller checks the result against the full model.
    """
    next_van = [0] * len(vans)
    served: set[int] = set()
    trips: list[PlannedTrip] = []
    for route in solution.routes():
        vehicle_type = route.vehicle_type()
        van = vans[vehicle_type][next_van[vehicle_type]]
        next_van[vehicle_type] += 1
        if van is None:
            continue
        route_trips: list[PlannedTrip] = []
        current: list[PlannedVisit] = []
        for activity in route.schedule():
            if activity.type == pyvrp.ActivityType.DEPOT:
                if current:
                    route_trips.append(PlannedTrip(van, tuple(current)))
                current = []
                continue
            copy = copies[activity.idx]
            if copy.stop_index not in served:
                served.add(copy.stop_index)
                current.append(copy)
        if current:
            route_trips.append(PlannedTrip(van, tuple(current)))
        if not route.is_feasible():
            route_trips = _feasible_part(problem, route_trips)
        trips += route_trips
    return tuple(trips)


def _trip_back(problem: Problem, ready: int, visits: list[PlannedVisit]) -> int | None:
    """When the van is back from ``visits`` leaving once ready, or ``None`` if a rule breaks."""
    stops, durations = problem.stops, problem.travel.durations
    clock = max(ready, *(visit.wave for visit in visits))
    here = 0
    for visit in visits:
        stop = stops[visit.stop_index]
        there = visit.stop_index + 1
        clock = max(clock + durations[here][there], stop.window.start)
        if clock > latest_start(stop, visit.wave, problem.depot):
            return None
        clock += stop.service_duration
        here = there
    return clock + durations[here][0]


def _feasible_part(problem: Problem, trips: list[PlannedTrip]) -> list[PlannedTrip]:
    """The visits of one van's trips that keep every rule, in their order, greedily."""
    if not trips:
        return []
    vehicle = problem.vehicles[trips[0].vehicle_index]
    ready = vehicle.earliest_start
    kept_trips: list[PlannedTrip] = []
    for trip in trips:
        kept: list[PlannedVisit] = []
        boxes = cold = 0
        for visit in trip.visits:
            demand = problem.stops[visit.stop_index].demand
            if (
                boxes + demand.boxes > vehicle.capacity.boxes
                or cold + demand.cold_boxes > vehicle.capacity.cold_boxes
            ):
                continue
            back = _trip_back(problem, ready, [*kept, visit])
            if back is None:
                continue
            kept.append(visit)
            boxes, cold = boxes + demand.boxes, cold + demand.cold_boxes
        while kept and (_trip_back(problem, ready, kept) or 0) > vehicle.shift_end:
            kept.pop()
        if kept:
            kept_trips.append(PlannedTrip(trip.vehicle_index, tuple(kept)))
            ready = (_trip_back(problem, ready, kept) or ready) + problem.depot.reload_duration
    return kept_trips


def _fleet_routes(
    solution: pyvrp.Solution, data: pyvrp.ProblemData, vans: list[list[int | None]]
) -> list[pyvrp.Route]:
    """The solution's routes that the real fleet can drive, as routes of ``data``.

    Where a type has more routes than vans, the routes serving the fewest stops go
    (their stops are then offered again to the second phase).
    """
    by_type: dict[int, list[pyvrp.Route]] = {}
    for route in solution.routes():
        if route.is_feasible():
            by_type.setdefault(route.vehicle_type(), []).append(route)
    kept = []
    for vehicle_type, routes in by_type.items():
        fleet = sum(1 for van in vans[vehicle_type] if van is not None)
        routes.sort(key=lambda route: route.num_clients(), reverse=True)
        kept += [_route_copy(route, data) for route in routes[:fleet]]
    return kept


def solver_params(data: pyvrp.ProblemData) -> pyvrp.SolveParams:
    """PyVRP's defaults, with the penalty cap on the scale of a van and the windows.

    PyVRP caps the penalty of a unit of time warp or excess load at 100,000 by default
    (and starts halfway up). What a unit of time warp should be worth depends on what
    saving a van is worth and on how wide the windows are: here one van's fixed cost
    buys at most one median window width of time warp. On tight windows (Homberger
    R1_10_1: fixed cost 10^8, median width 100) that is 10^6 a unit, and the search
    returns to feasible plans, where with PyVRP's 10^5 it settles among infeasible
    plans that serve everyone on fewer vans (the same 992-stop plan after 0.6 s and
    60 s). On wide windows (R2, RC2, C2: widths of 1,200-1,600) it stays at PyVRP's
    default: a higher cap there (a hundredth of a stop's prize, 10^7, the previous
    rule) kept the search from emptying routes and cost 2-3 vans of 11-12 at 400
    customers (3,000 steps, same seed: RC2_4_1 14 vans against 11, R2_4_1 14 against
    12). District days (fixed cost 10^6, windows of 80 minutes) stay at the default.
    """
    defaults = pyvrp.PenaltyParams()
    fixed = max((vehicle_type.fixed_cost for vehicle_type in data.vehicle_types()), default=0)
    widths = [
        client.tw_late - client.tw_early
        for client in data.clients()
        if client.tw_late > client.tw_early
    ]
    if not fixed or not widths:
        return pyvrp.SolveParams()
    cap = max(defaults.max_penalty, fixed / float(np.median(widths)))
    return pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=cap))


def fleet_slack(problem: Problem, copies: list[PlannedVisit], durations: np.ndarray) -> float:
    """How many times the fleet covers a lower bound on the vans the day needs.

    The bound is the larger of two: boxes over a van's capacity, and the stops' work
    (service plus the shortest drive into each stop) over the longest a van can be out
    (from the first wave to the latest a stop can be left, and back, or its shift end).
    """
    stop_indices = sorted({copy.stop_index for copy in copies})
    stops = [problem.stops[index] for index in stop_indices]
    vehicles = problem.vehicles
    if not stops or not vehicles:
        return float("inf")
    boxes = sum(stop.demand.boxes for stop in stops)
    cold = sum(stop.demand.cold_boxes for stop in stops)
    by_load = max(
        math.ceil(boxes / max(1, max(vehicle.capacity.boxes for vehicle in vehicles))),
        math.ceil(cold / max(1, max(vehicle.capacity.cold_boxes for vehicle in vehicles))),
    )
    locations = np.asarray([index + 1 for index in stop_indices])
    incoming = durations[:, locations].astype(float)
    incoming[locations, np.arange(len(locations))] = np.inf
    nearest = incoming.min(axis=0)
    work = float(sum(stop.service_duration for stop in stops) + nearest.sum())
    first_wave = problem.depot.departure_waves[0]
    latest_back = max(
        latest_start(problem.stops[copy.stop_index], copy.wave)
        + problem.stops[copy.stop_index].service_duration
        + int(durations[copy.stop_index + 1, 0])
        for copy in copies
    )
    shift_end = max(vehicle.shift_end for vehicle in vehicles)
    span = max(
        1, min(shift_end, latest_back) - max(first_wave, min(v.earliest_start for v in vehicles))
    )
    by_time = math.ceil(work / span)
    return len(vehicles) / max(1, by_load, by_time)


@dataclass(slots=True)
class _Budget:
    """What is left of the search's time limit and of its steps (``None``: no cap)."""

    deadline: float
    iterations: int | None

    def seconds(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def stopping(self, share: float = 1.0, first_feasible: bool = False) -> StoppingCriterion:
        """Stop after ``share`` of what is left (and, if asked, at the first feasible plan)."""
        criteria: list[StoppingCriterion] = [MaxRuntime(self.seconds() * share)]
        if self.iterations is not None:
            criteria.append(MaxIterations(max(1, math.ceil(self.iterations * share))))
        if first_feasible:
            criteria.append(FirstFeasible())
        return MultipleCriteria(criteria)

    def spend(self, result: pyvrp.Result) -> None:
        if self.iterations is not None:
            self.iterations = max(0, self.iterations - result.num_iterations)

    def spent(self) -> bool:
        return self.seconds() <= 0 or self.iterations == 0


def _run(
    data: pyvrp.ProblemData,
    budget: _Budget,
    seed: int,
    start: pyvrp.Solution | None = None,
    share: float = 1.0,
    first_feasible: bool = False,
) -> pyvrp.Solution:
    """PyVRP's search on ``data`` for ``share`` of what is left of the budget, which it spends."""
    with warnings.catch_warnings():
        # PyVRP warns when its penalties peak on a day the fleet cannot cover: expected
        # here (those stops are reported unserved), not a fault.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(
            data,
            budget.stopping(share, first_feasible),
            seed=seed,
            collect_stats=False,
            display=False,
            params=solver_params(data),
            initial_solution=start,
        )
    budget.spend(result)
    return result.best


def _served_clients(solution: pyvrp.Solution) -> set[int]:
    return {
        activity.idx
        for route in solution.routes()
        for activity in route.schedule()
        if activity.type == pyvrp.ActivityType.CLIENT
    }


def _route_copy(route: pyvrp.Route, data: pyvrp.ProblemData) -> pyvrp.Route:
    """The same route as a route of ``data`` (the same clients, another fleet)."""
    activities = [pyvrp.Activity(activity.type, activity.idx) for activity in route.schedule()]
    return pyvrp.Route(data, activities[1:-1], route.vehicle_type())


def _one_van_fewer(
    data: pyvrp.ProblemData, best: pyvrp.Solution
) -> tuple[pyvrp.ProblemData, pyvrp.Solution] | None:
    """The day held to one van fewer than ``best`` drives, every stop it serves required,
    and ``best`` without its smallest route (whose stops are then missing).

    ``None`` when ``best`` drives one van or none.
    """
    routes = list(best.routes())
    if len(routes) < 2:
        return None
    dropped = min(routes, key=lambda route: (route.num_clients(), route.duration()))
    used = [0] * data.num_vehicle_types
    for route in routes:
        used[route.vehicle_type()] += 1
    used[dropped.vehicle_type()] -= 1
    served = _served_clients(best)
    clients = list(data.clients())
    required_groups = {clients[index].group for index in served} - {None}
    fewer = data.replace(
        clients=[
            _required(client) if index in served and client.group is None else client
            for index, client in enumerate(clients)
        ],
        groups=[
            pyvrp.ClientGroup(group.clients, required=number in required_groups)
            for number, group in enumerate(data.groups())
        ],
        vehicle_types=[
            # PyVRP keeps at least one van of a type; _fewer_vans counts the routes
            vehicle_type.replace(num_available=max(1, used[number]))
            for number, vehicle_type in enumerate(data.vehicle_types())
        ],
    )
    rest = pyvrp.Solution(
        fewer, [_route_copy(route, fewer) for route in routes if route is not dropped]
    )
    return fewer, rest


def _placed(data: pyvrp.ProblemData, solution: pyvrp.Solution, seed: int) -> pyvrp.Solution:
    """``solution`` with its missing required stops placed, as PyVRP builds its own start.

    PyVRP's search only revisits the stops it has just perturbed, so a start missing
    required stops would stay without them: one exhaustive pass of its local search
    (the operators and neighbourhoods :func:`pyvrp.solve` uses, the highest penalties)
    places every one, breaking rules if it must; the search then repairs those.
    """
    params = solver_params(data)
    local_search = LocalSearch(
        data,
        pyvrp.RandomNumberGenerator(seed=seed),
        compute_neighbours(data, params.neighbourhood),
        PerturbationManager(params.perturbation),
    )
    for operator in params.operators:
        if operator.supports(data):
            local_search.add_operator(operator(data))
    penalties = pyvrp.PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    return local_search(solution, penalties.max_cost_evaluator(), exhaustive=True)


def _required(client: pyvrp.Client) -> pyvrp.Client:
    return pyvrp.Client(
        client.location,
        delivery=client.delivery,
        pickup=client.pickup,
        service_duration=client.service_duration,
        tw_early=client.tw_early,
        tw_late=client.tw_late,
        release_time=client.release_time,
        prize=client.prize,
        required=True,
        group=client.group,
        name=client.name,
    )


def _fewer_vans(
    data: pyvrp.ProblemData, best: pyvrp.Solution, budget: _Budget, seed: int, share: float
) -> tuple[pyvrp.ProblemData, pyvrp.Solution]:
    """Take vans away one at a time while the search still places every stop without them.

    PyVRP's search weighs a van's fixed cost against kilometres move by move, and rarely
    empties a route it has filled. Here the smallest route's stops must find room on the
    other vans: each attempt is held to one van fewer, with every stop ``best`` serves
    required, for at most ``share`` of what is left, and ends at its first plan keeping
    every rule. Returns the last day that worked (``data`` itself when no attempt did)
    and its plan; the day has the same clients and vehicle types as ``data``.
    """
    current = data
    while not budget.spent():
        attempt = _one_van_fewer(current, best)
        if attempt is None:
            break
        fewer, rest = attempt
        found = _run(fewer, budget, seed, _placed(fewer, rest, seed), share, first_feasible=True)
        if not (found.is_feasible() and found.is_complete()):
            break
        if found.num_routes() >= best.num_routes():  # a van of another type stood in
            break
        current, best = fewer, found
    return current, best


def _serves_every_stop(solution: pyvrp.Solution, copies: list[PlannedVisit]) -> bool:
    served = {copies[client].stop_index for client in _served_clients(solution)}
    return len(served) == len({copy.stop_index for copy in copies})


def search(
    problem: Problem,
    allowed_waves: dict[int, tuple[int, ...]],
    *,
    time_limit: float,
    seed: int,
    iterations: int | None = None,
    first_phase_share: float = 0.5,
) -> tuple[PlannedTrip, ...]:
    """Search for the cheapest plan serving the most stops within ``time_limit`` seconds.

    ``allowed_waves`` maps each stop that can be served at all to the waves that can
    serve it on their own (from screening). ``iterations`` caps PyVRP's steps, for a
    result independent of the machine's speed.

    The main search has ``MAIN_SEARCH_SHARE`` of the time where vans have a fixed cost, all of
    it where only distance counts:

    - on a day the fleet covers with room to spare (:func:`fleet_slack` at least
      ``TIGHT_FLEET_SLACK``), one search held to the fleet: PyVRP as it is;
    - otherwise two phases. First, for ``first_phase_share`` of it, the search may use
      twice the fleet: on a day the fleet only just covers, it finds full plans that way
      which it misses when held to the fleet from the start (measured on the demo day:
      with 12 vans 1 to 30 stops unserved after 10 s; with spare vans every stop served
      on 12). Then the routes the fleet can drive (the fullest, where there are too
      many) start the second phase, held to the real fleet. Where the fleet is ample the
      restart only costs: 3,000 steps on Homberger RC2_4_1 (fleet 100, at least 8 vans)
      gave 12 vans in two phases and 11 in one, R2_4_1 13 against 12.

    Then, where vans cost and the plan serves every stop, :func:`_fewer_vans` takes vans
    away while every stop still fits; what is left of the time improves the last plan
    found, held to its vans (or, where stops are still unserved, goes on searching).
    """
    budget = _Budget(time.monotonic() + time_limit, iterations)
    copies = wave_copies(problem, allowed_waves)
    if not copies:
        return ()
    arrays = matrices(problem)
    data, vans = build_data(problem, copies, arrays)
    vans_cost = any(vehicle.fixed_cost > 0 for vehicle in problem.vehicles)
    share = MAIN_SEARCH_SHARE if vans_cost else 1.0
    if fleet_slack(problem, copies, arrays[1]) >= TIGHT_FLEET_SLACK:
        best = _run(data, budget, seed, share=share)
    else:
        spare = max(len(problem.vehicles), 1)
        wide, _ = build_data(problem, copies, arrays, spare_vans=spare)
        first = _run(wide, budget, seed, share=share * first_phase_share)
        start = pyvrp.Solution(data, _fleet_routes(first, data, vans))
        # the second phase's part of the main search, as a share of what is now left
        second_share = share * (1 - first_phase_share) / (1 - share * first_phase_share)
        second = _run(data, budget, seed, start, share=second_share)
        best = second if second.is_feasible() or not start.is_feasible() else start
    if budget.spent():
        return _trips_of(problem, best, copies, vans)
    held = data
    if vans_cost and best.is_feasible() and _serves_every_stop(best, copies):
        held, best = _fewer_vans(data, best, budget, seed, FEWER_VANS_ATTEMPT_SHARE)
    if not budget.spent():
        best = _run(held, budget, seed, best)
    return _trips_of(problem, best, copies, vans)
