"""The router: :func:`solve` plans the day's trips.

Order of work: screen each stop on its own (``routing.screening``: what no trip can
serve is reported with its reason and what would serve it); search with PyVRP
(``routing.engine``); check the plan against the OR-Tools model of the day
(``routing.check``); time it. Should OR-Tools ever refuse the search's plan, the
router falls back to OR-Tools' own search on the model below, with the time left,
so every returned plan keeps every rule.

The fallback model: each (van, departure wave) pair is one OR-Tools vehicle ("trip
slot") whose start time is fixed to the wave. A van with several trips pays its fixed
cost once: a zero-distance "van used" node at the kitchen carries the cost and must be
visited on one of its trips as soon as any of them is used. Consecutive trips of one
van are chained with the kitchen's reload time. Every real stop is optional behind a
penalty larger than any plan's cost.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from routing.check import plan_breaks_rules
from routing.engine import PlannedTrip, search
from routing.model import Load, Objective, Problem
from routing.params import FirstSolution, SolveParams
from routing.plan import RoutePlan, Trip, UnservedStop, VehicleRoute, Visit
from routing.screening import Screening, TripSlot, dropped_stop, screen_stops, trip_slots

TIME_DIMENSION = "time"
BOX_DIMENSION = "boxes"
COLD_BOX_DIMENSION = "cold_boxes"
DEPOT_LOCATION = 0
MILLISECONDS_PER_SECOND = 1000
UNPERFORMED = -1
"""OR-Tools vehicle value of a node that is not visited."""


class SolverConfigurationError(ValueError):
    """OR-Tools rejected the search parameters (a programming error, not a hard instance)."""


@dataclass(frozen=True, slots=True)
class _Layout:
    """How the model's nodes map back to the problem.

    Node 0 is the kitchen, then one node per servable stop, then one "van used"
    node per van that has more than one trip slot.
    """

    slots: tuple[TripSlot, ...]
    stop_of_node: tuple[int | None, ...]
    """Node -> stop index (None for the kitchen and the "van used" nodes)."""
    van_of_activation_node: dict[int, int]

    @property
    def node_count(self) -> int:
        return len(self.stop_of_node)

    def location(self, node: int) -> int:
        stop = self.stop_of_node[node]
        return DEPOT_LOCATION if stop is None else stop + 1


def solve(
    problem: Problem,
    *,
    time_limit: float,
    seed: int = 0,
    params: SolveParams | None = None,
) -> RoutePlan:
    """Plan the day's trips. Always returns a plan; never raises on a hard instance.

    ``time_limit`` is in seconds and covers the whole work. Set
    ``params.solution_limit`` for a result independent of machine speed (it caps the
    search's steps; the time limit still applies).
    """
    params = params or SolveParams()
    started = time.monotonic()
    deadline = started + time_limit
    slots = trip_slots(problem)
    screening = screen_stops(problem, slots)
    if not screening.allowed_slots:
        return plan_from_trips(problem, (), screening.unserved)
    allowed_waves = {
        stop: tuple(sorted({slots[slot].wave for slot in slot_indices}))
        for stop, slot_indices in screening.allowed_slots.items()
    }
    reserve = time_limit * params.check_share
    trips = search(
        problem,
        allowed_waves,
        time_limit=_seconds_left(deadline) - reserve,
        seed=seed,
        iterations=params.solution_limit,
    )
    if plan_breaks_rules(problem, trips) is None:
        return plan_from_trips(problem, trips, screening.unserved)
    layout = _layout(problem, slots, screening)
    start_routes = _best_first_solution(problem, layout, screening, params, seed, deadline)
    routes = _improve(problem, layout, screening, params, seed, deadline, start_routes)
    return _plan(problem, layout, routes, screening.unserved)


def _layout(problem: Problem, slots: tuple[TripSlot, ...], screening: Screening) -> _Layout:
    stop_nodes = sorted(screening.allowed_slots)
    slot_count_per_van = [0] * len(problem.vehicles)
    for slot in slots:
        slot_count_per_van[slot.vehicle_index] += 1
    multi_trip_vans = [van for van, count in enumerate(slot_count_per_van) if count > 1]
    first_activation = 1 + len(stop_nodes)
    return _Layout(
        slots=slots,
        stop_of_node=(None, *stop_nodes, *([None] * len(multi_trip_vans))),
        van_of_activation_node={
            first_activation + offset: van for offset, van in enumerate(multi_trip_vans)
        },
    )


class _Model:
    """One OR-Tools routing model built from the problem (built afresh per search)."""

    def __init__(
        self, problem: Problem, layout: _Layout, screening: Screening, params: SolveParams
    ) -> None:
        self.problem = problem
        self.layout = layout
        self.manager = pywrapcp.RoutingIndexManager(
            layout.node_count, len(layout.slots), DEPOT_LOCATION
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self._add_costs()
        self._add_capacities()
        self._add_time()
        self._add_stop_rules(screening, params)
        self._add_van_rules()

    def _fixed_cost(self, node: int) -> int:
        van = self.layout.van_of_activation_node.get(node)
        return 0 if van is None else self.problem.vehicles[van].fixed_cost

    def _arc_matrix(self, cost_per_unit: int, base: Sequence[Sequence[int]]) -> list[list[int]]:
        locations = [self.layout.location(node) for node in range(self.layout.node_count)]
        return [
            [
                cost_per_unit * base[from_location][locations[to_node]] + self._fixed_cost(to_node)
                for to_node in range(self.layout.node_count)
            ]
            for from_location in locations
        ]

    def _add_costs(self) -> None:
        travel = self.problem.travel
        callbacks: dict[int, int] = {}
        for slot_index, slot in enumerate(self.layout.slots):
            vehicle = self.problem.vehicles[slot.vehicle_index]
            unit = vehicle.cost_per_metre if self.problem.objective is Objective.DISTANCE else 1
            if unit not in callbacks:
                base = (
                    travel.distances
                    if self.problem.objective is Objective.DISTANCE
                    else travel.durations
                )
                callbacks[unit] = self.routing.RegisterTransitMatrix(self._arc_matrix(unit, base))
            self.routing.SetArcCostEvaluatorOfVehicle(callbacks[unit], slot_index)
            if slot.vehicle_index not in self.layout.van_of_activation_node.values():
                self.routing.SetFixedCostOfVehicle(vehicle.fixed_cost, slot_index)

    def _demand_vector(self, pick: str) -> list[int]:
        return [
            0 if stop is None else getattr(self.problem.stops[stop].demand, pick)
            for stop in self.layout.stop_of_node
        ]

    def _add_capacities(self) -> None:
        for dimension, field in ((BOX_DIMENSION, "boxes"), (COLD_BOX_DIMENSION, "cold_boxes")):
            demands = self._demand_vector(field)
            if not any(demands):
                continue
            capacities = [
                getattr(self.problem.vehicles[slot.vehicle_index].capacity, field)
                for slot in self.layout.slots
            ]
            callback = self.routing.RegisterUnaryTransitVector(demands)
            self.routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, dimension)

    def _add_time(self) -> None:
        problem, layout = self.problem, self.layout
        locations = [layout.location(node) for node in range(layout.node_count)]
        service = [
            0 if stop is None else problem.stops[stop].service_duration
            for stop in layout.stop_of_node
        ]
        transit = [
            [
                service[from_node] + problem.travel.durations[locations[from_node]][to_location]
                for to_location in locations
            ]
            for from_node in range(layout.node_count)
        ]
        self.horizon = max(
            [vehicle.shift_end for vehicle in problem.vehicles]
            + [stop.window.end for stop in problem.stops]
        )
        callback = self.routing.RegisterTransitMatrix(transit)
        self.routing.AddDimension(callback, self.horizon, self.horizon, False, TIME_DIMENSION)
        self.time = self.routing.GetDimensionOrDie(TIME_DIMENSION)
        for slot_index, slot in enumerate(layout.slots):
            self.time.CumulVar(self.routing.Start(slot_index)).SetRange(slot.wave, slot.wave)
            shift_end = problem.vehicles[slot.vehicle_index].shift_end
            self.time.CumulVar(self.routing.End(slot_index)).SetMax(shift_end)

    def _add_stop_rules(self, screening: Screening, params: SolveParams) -> None:
        penalty = params.unserved_penalty or self._penalty_above_any_plan()
        solver = self.routing.solver()
        for node, stop_index in enumerate(self.layout.stop_of_node):
            if stop_index is None:
                continue
            stop = self.problem.stops[stop_index]
            index = self.manager.NodeToIndex(node)
            if not params.require_all_stops:
                self.routing.AddDisjunction([index], penalty)
            self.time.CumulVar(index).SetRange(stop.window.start, stop.window.end)
            allowed = list(screening.allowed_slots[stop_index])
            if len(allowed) < len(self.layout.slots):
                self.routing.VehicleVar(index).SetValues([UNPERFORMED, *allowed])
            if stop.max_time_since_departure is None:
                continue
            depot = self.problem.depot
            latest_by_slot = [
                min(stop.window.end, slot.wave + (depot.food_budget(stop, slot.wave) or 0))
                for slot in self.layout.slots
            ]
            if all(latest >= stop.window.end for latest in latest_by_slot):
                continue
            slot_or_unperformed = (self.routing.VehicleVar(index) + 1).Var()
            latest = solver.Element([self.horizon, *latest_by_slot], slot_or_unperformed)
            solver.Add(self.time.CumulVar(index) <= latest)

    def _penalty_above_any_plan(self) -> int:
        return _penalty_above_any_plan(self.problem, self.layout)

    def _add_van_rules(self) -> None:
        solver = self.routing.solver()
        reload = self.problem.depot.reload_duration
        for node, van in self.layout.van_of_activation_node.items():
            index = self.manager.NodeToIndex(node)
            van_slots = [i for i, slot in enumerate(self.layout.slots) if slot.vehicle_index == van]
            self.routing.AddDisjunction([index], 0)
            self.routing.VehicleVar(index).SetValues([UNPERFORMED, *van_slots])
            active = [self.routing.ActiveVehicleVar(slot) for slot in van_slots]
            for is_active in active:
                solver.Add(self.routing.ActiveVar(index) >= is_active)
            for position, earlier in enumerate(van_slots):
                for later in van_slots[position + 1 :]:
                    both_active = active[position] + self.routing.ActiveVehicleVar(later)
                    back = self.time.CumulVar(self.routing.End(earlier))
                    next_wave = self.layout.slots[later].wave
                    solver.Add(back + reload <= next_wave + self.horizon * (2 - both_active))

    def search_parameters(
        self, params: SolveParams, first_solution: FirstSolution, seconds: float
    ) -> object:
        search = pywrapcp.DefaultRoutingSearchParameters()
        search.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy, first_solution.value
        )
        search.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic.value
        )
        search.guided_local_search_lambda_coefficient = params.guided_local_search_lambda
        search.ls_operator_neighbors_ratio = params.neighbors_ratio
        search.ls_operator_min_neighbors = params.min_neighbors
        for name in params.enabled_operators:
            setattr(search.local_search_operators, name, optional_boolean_pb2.BOOL_TRUE)
        for name in params.disabled_operators:
            setattr(search.local_search_operators, name, optional_boolean_pb2.BOOL_FALSE)
        for name, value in params.extra:
            setattr(search, name, value)
        if params.solution_limit is not None:
            search.solution_limit = params.solution_limit
        search.time_limit.FromMilliseconds(max(1, int(seconds * MILLISECONDS_PER_SECOND)))
        search.log_search = params.log_search
        return search

    def run(
        self,
        search: object,
        seed: int,
        start_routes: list[list[int]] | None,
        *,
        keep_start_only: bool = False,
    ) -> list[list[int]] | None:
        """Search from ``start_routes`` when given (or build a first solution).

        With ``keep_start_only``, a start the model rejects gives ``None`` instead of a
        search from scratch. A start the model accepts is returned when the search
        finds nothing better in time.
        """
        self.routing.solver().ReSeed(seed)
        if start_routes is None:
            solution = self.routing.SolveWithParameters(search)
        else:
            self.routing.CloseModelWithParameters(search)
            start = self.routing.ReadAssignmentFromRoutes(self._to_indices(start_routes), True)
            if start is None and keep_start_only:
                return None
            solution = (
                self.routing.SolveWithParameters(search)
                if start is None
                else self.routing.SolveFromAssignmentWithParameters(start, search)
            )
            if solution is None and start is not None:
                solution = start
        if self.routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_INVALID:
            raise SolverConfigurationError("OR-Tools rejected the routing search parameters")
        if solution is None:
            return None
        return self._node_routes(solution)

    def _to_indices(self, routes: list[list[int]]) -> list[list[int]]:
        return [[self.manager.NodeToIndex(node) for node in route] for route in routes]

    def _node_routes(self, solution: object) -> list[list[int]]:
        routes = []
        for slot_index in range(len(self.layout.slots)):
            index = solution.Value(self.routing.NextVar(self.routing.Start(slot_index)))
            route = []
            while not self.routing.IsEnd(index):
                route.append(self.manager.IndexToNode(index))
                index = solution.Value(self.routing.NextVar(index))
            routes.append(route)
        return routes


def _penalty_above_any_plan(problem: Problem, layout: _Layout) -> int:
    arc_cost_bound = max(
        max(row) * max(1, *(vehicle.cost_per_metre for vehicle in problem.vehicles))
        for row in (problem.travel.distances + problem.travel.durations)
    )
    arcs_bound = layout.node_count + 2 * len(layout.slots)
    fixed = sum(vehicle.fixed_cost for vehicle in problem.vehicles)
    return 1 + fixed + arcs_bound * arc_cost_bound


def _seconds_left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _best_first_solution(
    problem: Problem,
    layout: _Layout,
    screening: Screening,
    params: SolveParams,
    seed: int,
    deadline: float,
) -> list[list[int]] | None:
    """Build a start plan with each strategy; keep the one serving most, then cheapest."""
    if len(params.first_solutions) < 2:
        return None
    best: tuple[tuple[int, int], list[list[int]]] | None = None
    for strategy in params.first_solutions:
        model = _Model(problem, layout, screening, params)
        search = model.search_parameters(params, strategy, _seconds_left(deadline))
        search.solution_limit = 1
        routes = model.run(search, seed, None)
        if routes is None:
            continue
        plan = _plan(problem, layout, routes, ())
        key = (len(plan.unserved), plan.cost)
        if best is None or key < best[0]:
            best = (key, routes)
    return None if best is None else best[1]


def _improve(
    problem: Problem,
    layout: _Layout,
    screening: Screening,
    params: SolveParams,
    seed: int,
    deadline: float,
    start_routes: list[list[int]] | None,
) -> list[list[int]]:
    first = params.first_solutions[0] if params.first_solutions else FirstSolution.ALL_UNPERFORMED
    model = _Model(problem, layout, screening, params)
    routes = model.run(
        model.search_parameters(params, first, _seconds_left(deadline)), seed, start_routes
    )
    if routes is not None:
        return routes
    params = replace(params, require_all_stops=False)
    fallback = _Model(problem, layout, screening, params)
    search = fallback.search_parameters(
        params, FirstSolution.ALL_UNPERFORMED, _seconds_left(deadline)
    )
    return fallback.run(search, seed, None) or [[] for _ in layout.slots]


def plan_from_trips(
    problem: Problem, trips: Sequence[PlannedTrip], screened_out: Sequence[UnservedStop]
) -> RoutePlan:
    """Time the search's trips (earliest departures and service starts) into a plan.

    A trip leaves at the latest wave of the food it carries, not before its van's
    shift starts nor before the van is back from its previous trip and reloaded.
    """
    trips_by_van: dict[int, list[Trip]] = {}
    travel_cost = 0
    served: set[int] = set()
    for planned in trips:
        stop_indices = [visit.stop_index for visit in planned.visits]
        vehicle = problem.vehicles[planned.vehicle_index]
        earlier = trips_by_van.get(planned.vehicle_index)
        ready = (
            vehicle.earliest_start
            if not earlier
            else earlier[-1].return_time + problem.depot.reload_duration
        )
        departure = max(ready, *(visit.wave for visit in planned.visits))
        waves = [visit.wave for visit in planned.visits]
        trip = _timed_trip(problem, departure, stop_indices, waves)
        trips_by_van.setdefault(planned.vehicle_index, []).append(trip)
        served.update(stop_indices)
        travel_cost += _travel_cost(problem, planned.vehicle_index, stop_indices)
    return _assemble(problem, trips_by_van, travel_cost, served, screened_out)


def _plan(
    problem: Problem,
    layout: _Layout,
    node_routes: list[list[int]],
    screened_out: Sequence[UnservedStop],
) -> RoutePlan:
    """Turn node sequences into a timed plan (earliest feasible service starts)."""
    trips_by_van: dict[int, list[Trip]] = {}
    travel_cost = 0
    served: set[int] = set()
    for slot, nodes in zip(layout.slots, node_routes, strict=True):
        stops = [layout.stop_of_node[node] for node in nodes]
        stop_indices = [stop for stop in stops if stop is not None]
        if not stop_indices:
            continue
        trip = _timed_trip(problem, slot.wave, stop_indices)
        trips_by_van.setdefault(slot.vehicle_index, []).append(trip)
        served.update(stop_indices)
        travel_cost += _travel_cost(problem, slot.vehicle_index, stop_indices)
    return _assemble(problem, trips_by_van, travel_cost, served, screened_out)


def _assemble(
    problem: Problem,
    trips_by_van: dict[int, list[Trip]],
    travel_cost: int,
    served: set[int],
    screened_out: Sequence[UnservedStop],
) -> RoutePlan:
    routes = tuple(
        VehicleRoute(
            problem.vehicles[van].id, tuple(sorted(trips, key=lambda trip: trip.departure))
        )
        for van, trips in sorted(trips_by_van.items())
    )
    fixed = sum(problem.vehicles[van].fixed_cost for van in trips_by_van)
    screened_ids = {unserved.stop_id for unserved in screened_out}
    dropped = tuple(
        dropped_stop(problem, index)
        for index, stop in enumerate(problem.stops)
        if index not in served and stop.id not in screened_ids
    )
    return RoutePlan(routes, (*screened_out, *dropped), fixed + travel_cost)


def _travel_cost(problem: Problem, van: int, stop_indices: list[int]) -> int:
    locations = [DEPOT_LOCATION, *(stop + 1 for stop in stop_indices), DEPOT_LOCATION]
    if problem.objective is Objective.DISTANCE:
        unit, matrix = problem.vehicles[van].cost_per_metre, problem.travel.distances
    else:
        unit, matrix = 1, problem.travel.durations
    return unit * sum(matrix[a][b] for a, b in itertools.pairwise(locations))


def _timed_trip(
    problem: Problem, departure: int, stop_indices: list[int], waves: list[int] | None = None
) -> Trip:
    """Earliest times along a trip; ``waves``: the wave whose food each stop gets
    (``None``: all of it left with the trip)."""
    travel = problem.travel
    waves = waves or [departure] * len(stop_indices)
    on_board = Load()
    for stop_index in stop_indices:
        on_board = on_board + problem.stops[stop_index].demand
    loaded = on_board
    clock, here, distance = departure, DEPOT_LOCATION, 0
    visits = []
    for stop_index, wave in zip(stop_indices, waves, strict=True):
        stop = problem.stops[stop_index]
        there = stop_index + 1
        arrival = clock + travel.durations[here][there]
        service_start = max(arrival, stop.window.start)
        clock = service_start + stop.service_duration
        visits.append(
            Visit(
                stop_id=stop.id,
                arrival=arrival,
                service_start=service_start,
                departure=clock,
                time_since_departure=service_start - departure,
                food_wave=wave,
                load_before=on_board,
                distance_from_previous=travel.distances[here][there],
            )
        )
        distance += travel.distances[here][there]
        on_board = on_board - stop.demand
        here = there
    distance += travel.distances[here][DEPOT_LOCATION]
    return Trip(
        departure=departure,
        return_time=clock + travel.durations[here][DEPOT_LOCATION],
        visits=tuple(visits),
        load=loaded,
        distance=distance,
    )
