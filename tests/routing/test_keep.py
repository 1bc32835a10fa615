"""A re-plan keeps each van's work where it can: with one van out, the routes the search
still drives alike stay on the vans that had them, not on the next van code."""

from __future__ import annotations

import dataclasses

from routing_testkit import plane_problem, stop, van

from routing import Problem, RoutePlan, SolveParams, VehicleRoute, keep_vehicles, solve
from routing.check import route_plan_breaks_rules

STEPS = SolveParams(solution_limit=300)
CLUSTERS = {
    f"{corner}-{n}": (x + 10 * n, y)
    for corner, (x, y) in {
        "n": (0, 2_000),
        "e": (2_000, 0),
        "s": (0, -2_000),
        "w": (-2_000, 0),
        "ne": (1_500, 1_500),
    }.items()
    for n in range(4)
}


def _problem(vans: int) -> Problem:
    """Five far-apart clusters of four one-box stops; four-box vans: one van a cluster."""
    stops = [stop(name, boxes=1) for name in CLUSTERS]
    fleet = [van(f"van-{n:02d}", boxes=4, fixed_cost=100_000) for n in range(1, vans + 1)]
    return plane_problem(CLUSTERS, stops, fleet)


def _assignment(plan: RoutePlan) -> dict[str, str]:
    return {
        visit.stop_id: route.vehicle_id
        for route in plan.routes
        for trip in route.trips
        for visit in trip.visits
    }


def _route_sets(plan: RoutePlan) -> dict[frozenset[str], str]:
    return {
        frozenset(v.stop_id for trip in route.trips for v in trip.visits): route.vehicle_id
        for route in plan.routes
    }


def test_a_shifted_plan_gets_its_vans_back() -> None:
    """The search's habit, made by hand: van-01 out, every route one van code further."""
    full = _problem(6)
    before = solve(full, time_limit=10, params=STEPS)
    assert before.unserved == () and before.vehicles_used == 5
    out = before.routes[0].vehicle_id
    smaller = dataclasses.replace(full, vehicles=tuple(v for v in full.vehicles if v.id != out))
    codes = [v.id for v in smaller.vehicles]
    shifted = RoutePlan(
        tuple(
            VehicleRoute(codes[number], route.trips)
            for number, route in enumerate(before.routes[1:])
        ),
        before.unserved,
        before.cost,
    )
    kept = keep_vehicles(smaller, shifted, _assignment(before))

    assert {route.vehicle_id for route in kept.routes} == {r.vehicle_id for r in before.routes[1:]}
    previous = _assignment(before)
    assert all(previous[stop_id] == van_id for stop_id, van_id in _assignment(kept).items())
    assert route_plan_breaks_rules(smaller, shifted) is None
    assert route_plan_breaks_rules(smaller, kept) is None
    assert (kept.cost, kept.unserved) == (shifted.cost, shifted.unserved)


def test_a_van_out_then_a_new_solve_keeps_the_routes_that_did_not_change() -> None:
    full = _problem(7)
    before = solve(full, time_limit=10, params=STEPS)
    out = before.routes[0].vehicle_id
    smaller = dataclasses.replace(full, vehicles=tuple(v for v in full.vehicles if v.id != out))
    after = solve(smaller, time_limit=10, params=STEPS)
    kept = keep_vehicles(smaller, after, _assignment(before))

    assert route_plan_breaks_rules(smaller, after) is None
    assert route_plan_breaks_rules(smaller, kept) is None
    old = _route_sets(before)
    same = [stops for stops in _route_sets(after) if stops in old and old[stops] != out]
    assert len(same) >= 3  # most clusters are driven alike
    new = _route_sets(kept)
    assert all(new[stops] == old[stops] for stops in same)
    previous = _assignment(before)
    stayed = sum(previous[s] == v for s, v in _assignment(kept).items() if previous[s] != out)
    moved_without = sum(
        previous[s] == v for s, v in _assignment(after).items() if previous[s] != out
    )
    assert stayed == sum(1 for s in previous if previous[s] != out) > moved_without


def test_only_interchangeable_vans_swap() -> None:
    """A larger van is not swapped with a small one, whatever the previous plan said."""
    stops = [stop(name, boxes=1) for name in CLUSTERS]
    fleet = [
        van("big", boxes=8, fixed_cost=100_000),
        van("small-1", boxes=4, fixed_cost=100_000),
        van("small-2", boxes=4, fixed_cost=100_000),
        van("small-3", boxes=4, fixed_cost=100_000),
        van("small-4", boxes=4, fixed_cost=100_000),
    ]
    problem = plane_problem(CLUSTERS, stops, fleet)
    plan = solve(problem, time_limit=10, params=STEPS)
    everything_on_big = {stop_id: "big" for stop_id in CLUSTERS}
    kept = keep_vehicles(problem, plan, everything_on_big)

    assert _route_sets(kept) == _route_sets(plan)
    assert route_plan_breaks_rules(problem, kept) is None
    assert keep_vehicles(problem, plan, {}) is plan
