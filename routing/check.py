"""Every plan the router returns is checked against an OR-Tools model of the day.

The model states the hard rules once, in OR-Tools' own terms, independently of the
search that found the plan: each trip is an OR-Tools vehicle; boxes and cold boxes
are capacity dimensions; a time dimension holds travel, service, windows, shift end
and each stop's food-safety limit counted from the wave of its food; a "release"
dimension with no transit and no slack carries the latest wave on board back to the
trip's start, which may not be earlier; consecutive trips of one van are chained
with the kitchen's reload time. ``ReadAssignmentFromRoutes`` then either accepts the
plan (every rule holds) or refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ortools.constraint_solver import pywrapcp

from routing.engine import PlannedTrip, PlannedVisit, latest_start
from routing.model import Problem
from routing.plan import RoutePlan

DEPOT_NODE = 0


def plan_breaks_rules(problem: Problem, trips: Sequence[PlannedTrip]) -> str | None:
    """``None`` when OR-Tools accepts ``trips``; otherwise what is wrong, in words."""
    seen: set[int] = set()
    for trip in trips:
        for visit in trip.visits:
            if visit.stop_index in seen:
                return f"stop {problem.stops[visit.stop_index].id} is served twice"
            seen.add(visit.stop_index)
            stop = problem.stops[visit.stop_index]
            if visit.wave < stop.earliest_departure:
                return f"stop {stop.id} leaves before its food is ready"
    if not trips:
        return None
    visits = [visit for trip in trips for visit in trip.visits]
    node_location = [0, *(visit.stop_index + 1 for visit in visits)]
    manager = pywrapcp.RoutingIndexManager(len(node_location), len(trips), DEPOT_NODE)
    routing = pywrapcp.RoutingModel(manager)
    stops = problem.stops
    durations = problem.travel.durations
    service = [0, *(stops[visit.stop_index].service_duration for visit in visits)]

    def travel_and_service(from_index: int, to_index: int) -> int:
        origin, target = manager.IndexToNode(from_index), manager.IndexToNode(to_index)
        return service[origin] + durations[node_location[origin]][node_location[target]]

    horizon = max(
        [vehicle.shift_end for vehicle in problem.vehicles] + [stop.window.end for stop in stops]
    )
    routing.AddDimension(
        routing.RegisterTransitCallback(travel_and_service), horizon, horizon, False, "time"
    )
    clock = routing.GetDimensionOrDie("time")
    routing.AddDimension(
        routing.RegisterUnaryTransitVector([0] * len(node_location)), 0, horizon, False, "release"
    )
    release = routing.GetDimensionOrDie("release")
    for field in ("boxes", "cold_boxes"):
        demand = [0, *(getattr(stops[visit.stop_index].demand, field) for visit in visits)]
        capacities = [
            getattr(problem.vehicles[trip.vehicle_index].capacity, field) for trip in trips
        ]
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demand), 0, capacities, True, field
        )
    for node, visit in enumerate(visits, start=1):
        index = manager.NodeToIndex(node)
        stop = stops[visit.stop_index]
        clock.CumulVar(index).SetRange(
            stop.window.start, latest_start(stop, visit.wave, problem.depot)
        )
        release.CumulVar(index).SetMin(visit.wave)
    solver = routing.solver()
    previous_trip_of_van: dict[int, int] = {}
    for number, trip in enumerate(trips):
        vehicle = problem.vehicles[trip.vehicle_index]
        start, end = routing.Start(number), routing.End(number)
        clock.CumulVar(start).SetRange(vehicle.earliest_start, vehicle.shift_end)
        clock.CumulVar(end).SetMax(vehicle.shift_end)
        solver.Add(clock.CumulVar(start) >= release.CumulVar(start))
        earlier = previous_trip_of_van.get(trip.vehicle_index)
        if earlier is not None:
            back = clock.CumulVar(routing.End(earlier))
            solver.Add(clock.CumulVar(start) >= back + problem.depot.reload_duration)
        previous_trip_of_van[trip.vehicle_index] = number
    routes = []
    node = 1
    for trip in trips:
        routes.append([manager.NodeToIndex(node + offset) for offset in range(len(trip.visits))])
        node += len(trip.visits)
    routing.CloseModel()
    if routing.ReadAssignmentFromRoutes(routes, True) is None:
        return "OR-Tools refuses the plan: a capacity, window, food-safety or shift rule breaks"
    return None


def route_plan_breaks_rules(problem: Problem, plan: RoutePlan) -> str | None:
    """:func:`plan_breaks_rules` on a finished plan (each visit with the wave of its food),
    so a plan changed after the search, e.g. its vans renamed, is checked the same way."""
    vehicles = {vehicle.id: number for number, vehicle in enumerate(problem.vehicles)}
    stops = {stop.id: number for number, stop in enumerate(problem.stops)}
    trips = [
        PlannedTrip(
            vehicles[route.vehicle_id],
            tuple(PlannedVisit(stops[visit.stop_id], visit.food_wave) for visit in trip.visits),
        )
        for route in plan.routes
        for trip in route.trips
    ]
    return plan_breaks_rules(problem, trips)
