"""Taking vans away while every stop still fits.

PyVRP's search rarely empties a route it has filled, so where vans cost the router ends
by asking for the same stops on one van fewer, again and again, while it can. Step
limits, not wall clock, so these hold on a loaded machine.
"""

from __future__ import annotations

import math
import time

import pyvrp

from bench import district_days
from bench.route_with import solve_pyvrp, solve_warmmeal
from routing import engine
from tests.routing.routing_testkit import plane_problem, stop, van

STEPS = 2_000
SEED = 1
GENEROUS_SECONDS = 600.0
VAN_COST = 1_000_000


SHIFT_FOR_TWO_STOPS = 3_000
"""Seconds: out to the ring (1 km at 1 m/s), two neighbours, back; three do not fit."""


def _ring_day(stop_count: int, vans: int):
    """Stops on a ring 1 km around the kitchen, one box each; a van serves two of them."""
    sites = {
        f"home-{n}": (
            round(1_000 * math.cos(2 * math.pi * n / stop_count)),
            round(1_000 * math.sin(2 * math.pi * n / stop_count)),
        )
        for n in range(stop_count)
    }
    stops = [stop(stop_id, service=60) for stop_id in sites]
    fleet = [
        van(f"van-{n}", boxes=10, shift_end=SHIFT_FOR_TWO_STOPS, fixed_cost=VAN_COST)
        for n in range(vans)
    ]
    return plane_problem(sites, stops, fleet)


def _served(solution: pyvrp.Solution) -> int:
    return sum(route.num_clients() for route in solution.routes())


def test_one_van_per_stop_comes_down_to_the_vans_the_day_needs() -> None:
    problem = _ring_day(stop_count=8, vans=8)
    copies = engine.wave_copies(problem, {n: (0,) for n in range(8)})
    data, _ = engine.build_data(problem, copies, engine.matrices(problem))
    one_each = pyvrp.Solution(data, [[client] for client in range(8)])
    assert one_each.is_feasible() and one_each.num_routes() == 8

    budget = engine._Budget(time.monotonic() + GENEROUS_SECONDS, STEPS)
    held, fewest = engine._fewer_vans(data, one_each, budget, SEED, share=0.5)

    assert fewest.is_feasible() and fewest.is_complete()
    assert _served(fewest) == 8
    assert fewest.num_routes() == 4, "eight stops, two a van"
    assert sum(vehicle_type.num_available for vehicle_type in held.vehicle_types()) == 4
    assert all(client.required for client in held.clients()), "every stop served stays served"


def test_vans_of_two_kinds_come_down_to_one_where_one_does() -> None:
    """PyVRP keeps at least one van of each kind available; the last one may still go."""
    sites = {f"home-{n}": (100 * n, 0) for n in range(4)}
    stops = [stop(stop_id, service=60) for stop_id in sites]
    fleet = [
        van("small-1", boxes=4, fixed_cost=VAN_COST),
        van("small-2", boxes=4, fixed_cost=VAN_COST),
        van("large-1", boxes=6, fixed_cost=VAN_COST),
    ]
    problem = plane_problem(sites, stops, fleet)
    copies = engine.wave_copies(problem, {n: (0,) for n in range(4)})
    data, _ = engine.build_data(problem, copies, engine.matrices(problem))
    assert data.num_vehicle_types == 2
    one_each = pyvrp.Solution(
        data,
        [
            pyvrp.Route(data, [pyvrp.Activity(pyvrp.ActivityType.CLIENT, 0)], 0),
            pyvrp.Route(data, [pyvrp.Activity(pyvrp.ActivityType.CLIENT, 1)], 0),
            pyvrp.Route(
                data,
                [pyvrp.Activity(pyvrp.ActivityType.CLIENT, n) for n in (2, 3)],
                1,
            ),
        ],
    )

    budget = engine._Budget(time.monotonic() + GENEROUS_SECONDS, STEPS)
    _, fewest = engine._fewer_vans(data, one_each, budget, SEED, share=0.5)

    assert fewest.is_feasible() and _served(fewest) == 4
    assert fewest.num_routes() == 1


def test_a_plan_on_one_van_is_left_as_it_is() -> None:
    problem = _ring_day(stop_count=1, vans=2)
    copies = engine.wave_copies(problem, {0: (0,)})
    data, _ = engine.build_data(problem, copies, engine.matrices(problem))
    one_van = pyvrp.Solution(data, [[0]])
    assert one_van.is_feasible()

    budget = engine._Budget(time.monotonic() + GENEROUS_SECONDS, STEPS)
    held, same = engine._fewer_vans(data, one_van, budget, SEED, share=0.5)

    assert held is data and same is one_van
    assert budget.iterations == STEPS, "no search spent on a plan that cannot lose a van"


def test_the_search_ends_on_the_vans_the_day_needs_when_its_main_part_overshoots() -> None:
    """Twelve stops, two a van: six vans, whatever the main search left."""
    problem = _ring_day(stop_count=12, vans=12)
    allowed = {n: (0,) for n in range(12)}

    trips = engine.search(
        problem, allowed, time_limit=GENEROUS_SECONDS, seed=SEED, iterations=STEPS
    )

    assert sorted(visit.stop_index for trip in trips for visit in trip.visits) == list(range(12))
    assert len({trip.vehicle_index for trip in trips}) == 6


def test_a_district_day_takes_fewer_vans_than_plain_pyvrp_at_the_same_steps() -> None:
    """The generated 200-stop district day (seed 1): plain PyVRP's 1,000 steps leave it on
    22 vans, and so did the router's before it took vans away; now on fewer."""
    day = district_days.district_day(200, 1, seed=1)

    router = district_days.check(day, solve_warmmeal(day, GENEROUS_SECONDS, 1_000))
    plain = district_days.check(day, solve_pyvrp(day, GENEROUS_SECONDS, 1_000))

    assert router.problems == [] and plain.problems == []
    assert router.served == plain.served == len(day["stops"])
    assert router.vans < plain.vans
