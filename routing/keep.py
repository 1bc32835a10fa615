"""A re-plan keeps each van's work where it can.

The search numbers its routes by the vans it was given, so taking one van out of the fleet
shifts nearly every route onto the next van code: every box label moves and every driver gets
someone else's run. Vans that are alike in everything the plan's feasibility and cost depend
on (capacity, shift, costs) are interchangeable: renaming routes among them changes nothing
but the names. :func:`keep_vehicles` picks, per class of interchangeable vans, the renaming
that leaves the most stops on the van that had them in the previous plan (an assignment
problem, solved exactly with OR-Tools' linear sum assignment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from ortools.graph.python import linear_sum_assignment

from routing.model import Load, Problem, Vehicle
from routing.plan import RoutePlan, VehicleRoute

VehicleClass: TypeAlias = tuple[Load, int, int, int, int]


def vehicle_class(vehicle: Vehicle) -> VehicleClass:
    """Everything of a van a plan's feasibility and cost depend on: all but its id."""
    return (
        vehicle.capacity,
        vehicle.earliest_start,
        vehicle.shift_end,
        vehicle.fixed_cost,
        vehicle.cost_per_metre,
    )


def _stops(route: VehicleRoute) -> list[str]:
    return [visit.stop_id for trip in route.trips for visit in trip.visits]


def _assign(
    routes: list[VehicleRoute], vans: list[str], previous: Mapping[str, str]
) -> dict[str, str]:
    """Route's van -> kept van, for one class: most stops kept, then the search's own van.

    The matrix is made square with empty routes (a class's unused vans are empty slots):
    OR-Tools' ``SimpleLinearSumAssignment`` wants a perfect matching.
    """
    size = len(vans)
    weight = size + 1  # one stop kept outweighs every tie-break together
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    for left in range(size):
        route = routes[left] if left < len(routes) else None
        kept: dict[str, int] = {}
        if route is not None:
            for stop_id in _stops(route):
                van = previous.get(stop_id)
                if van is not None:
                    kept[van] = kept.get(van, 0) + 1
        for right, van in enumerate(vans):
            cost = 0
            if route is not None:
                cost = -weight * kept.get(van, 0) + (van != route.vehicle_id)
            solver.add_arc_with_cost(left, right, cost)
    if solver.solve() != solver.OPTIMAL:  # pragma: no cover - a complete square always is
        return {route.vehicle_id: route.vehicle_id for route in routes}
    return {route.vehicle_id: vans[solver.right_mate(left)] for left, route in enumerate(routes)}


def keep_vehicles(problem: Problem, plan: RoutePlan, previous: Mapping[str, str]) -> RoutePlan:
    """``plan`` with its routes renamed among interchangeable vans of ``problem`` so that as
    many stops as possible stay on the van ``previous`` (stop id -> van id) gave them.

    Only names change: trips, times, loads and cost are the plan's own, so the result is
    exactly as feasible as ``plan``. A route whose van is not in ``problem`` keeps its name.
    """
    if not previous or not plan.routes:
        return plan
    index = {vehicle.id: number for number, vehicle in enumerate(problem.vehicles)}
    classes: dict[VehicleClass, list[str]] = {}
    for vehicle in problem.vehicles:
        classes.setdefault(vehicle_class(vehicle), []).append(vehicle.id)
    routes_of: dict[VehicleClass, list[VehicleRoute]] = {}
    for route in plan.routes:
        if route.vehicle_id in index:
            vehicle = problem.vehicles[index[route.vehicle_id]]
            routes_of.setdefault(vehicle_class(vehicle), []).append(route)
    renamed: dict[str, str] = {}
    for key, routes in routes_of.items():
        renamed |= _assign(routes, classes[key], previous)
    kept = (
        VehicleRoute(renamed.get(route.vehicle_id, route.vehicle_id), route.trips)
        for route in plan.routes
    )
    return RoutePlan(
        tuple(sorted(kept, key=lambda route: index.get(route.vehicle_id, len(index)))),
        plan.unserved,
        plan.cost,
    )
