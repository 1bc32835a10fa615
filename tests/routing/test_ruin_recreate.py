"""The ruin-and-recreate loop (``routing.ruin_recreate``) on small plane instances.

Known optima come from brute force over every order and split; the hard rules are
checked here independently of the search code.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from routing_testkit import plane_problem, stop, van

from routing import SolveParams, TimeWindow, solve
from routing.ruin_recreate import RuinRecreate, RuinRecreateParams, SearchProblem, TripSpec

FAR_FUTURE = 10**6
PENALTY = 10**9


def search_problem(
    points: list[tuple[int, int]],
    *,
    trips: int,
    capacity: tuple[int, int] = (100, 0),
    demand: list[tuple[int, int]] | None = None,
    windows: list[tuple[int, int]] | None = None,
    service: int = 0,
    waves: list[int] | None = None,
    food_limit: int | None = None,
    allowed: list[frozenset[int] | None] | None = None,
    shift_end: int = FAR_FUTURE,
) -> SearchProblem:
    """Node 0 at the origin, then ``points``; durations equal distances."""
    nodes = [(0, 0), *points]
    matrix = [[round(math.dist(a, b)) for b in nodes] for a in nodes]
    windows = [(0, FAR_FUTURE), *(windows or [(0, FAR_FUTURE)] * len(points))]
    waves = waves or [0] * trips
    latest = [
        [
            min(end, FAR_FUTURE if food_limit is None or v == 0 else wave + food_limit)
            for v, (_start, end) in enumerate(windows)
        ]
        for wave in waves
    ]
    return SearchProblem(
        cost=matrix,
        duration=matrix,
        service=[0] + [service] * len(points),
        ready=[start for start, _end in windows],
        latest=latest,
        demand=[(0, 0), *(demand or [(1, 0)] * len(points))],
        allowed=[None, *(allowed or [None] * len(points))],
        trips=[TripSpec(wave, shift_end, capacity, 1, 0) for wave in waves],
        unserved_penalty=PENALTY,
    )


def route_cost(p: SearchProblem, route: list[int]) -> int:
    path = [0, *route, 0]
    return sum(p.cost[a][b] for a, b in itertools.pairwise(path)) if route else 0


def violations(p: SearchProblem, routes: list[list[int]]) -> list[str]:
    """Every hard rule of a single-trip plan, checked from scratch."""
    found = []
    seen = [v for route in routes for v in route]
    if len(seen) != len(set(seen)):
        found.append("a stop is served twice")
    for k, route in enumerate(routes):
        trip = p.trips[k]
        for dimension in (0, 1):
            if sum(p.demand[v][dimension] for v in route) > trip.capacity[dimension]:
                found.append(f"trip {k} over capacity")
        clock, here = trip.wave, 0
        for v in route:
            clock = max(clock + p.duration[here][v], p.ready[v])
            if clock > p.latest[k][v]:
                found.append(f"stop {v} late on trip {k}")
            if p.allowed[v] is not None and k not in p.allowed[v]:
                found.append(f"stop {v} on a trip it may not use")
            clock += p.service[v]
            here = v
        if route and clock + p.duration[here][0] > trip.shift_end:
            found.append(f"trip {k} back after its shift end")
    return found


def brute_force_optimum(p: SearchProblem) -> int:
    """Cheapest feasible plan over every order and every split into the trips."""
    stops = range(1, p.node_count)
    trips = len(p.trips)
    best = math.inf
    splits = [
        cuts
        for used in range(1, trips + 1)
        for cuts in itertools.combinations(range(1, len(stops)), used - 1)
    ]
    for order in itertools.permutations(stops):
        for cuts in splits:
            bounds = [0, *cuts, len(order)]
            routes = [list(order[a:b]) for a, b in itertools.pairwise(bounds)]
            routes += [[] for _ in range(trips - len(routes))]
            if not violations(p, routes):
                best = min(best, sum(route_cost(p, route) for route in routes))
    return int(best)


def run(p: SearchProblem, start: list[list[int]], iterations: int, seed: int = 0, **settings):
    search = RuinRecreate(p, RuinRecreateParams(iterations=iterations, **settings), seed)
    search.load(start)
    return search, search.run(deadline=float("inf"))


def test_finds_the_brute_force_optimum_with_windows_and_capacity():
    points = [(10, 40), (20, 45), (30, 38), (-35, -10), (-40, -25), (-20, -30)]
    p = search_problem(
        points,
        trips=3,
        capacity=(3, 0),
        windows=[(0, 60), (0, 200), (0, 80), (90, 200), (0, 200), (0, 60)],
    )
    optimum = brute_force_optimum(p)

    search, best = run(p, [[], [], []], iterations=300)

    assert violations(p, best) == []
    assert sorted(v for route in best for v in route) == [1, 2, 3, 4, 5, 6]
    assert sum(route_cost(p, route) for route in best) == optimum
    assert search.iterations_run == 300


def test_every_plan_respects_the_hard_rules_of_each_trip():
    rng = random.Random(3)
    count = 40
    points = [(rng.randint(-100, 100), rng.randint(-100, 100)) for _ in range(count)]
    windows = []
    for _ in range(count):
        start = rng.randint(0, 300)
        windows.append((start, start + rng.randint(60, 200)))
    p = search_problem(
        points,
        trips=8,
        capacity=(12, 3),
        demand=[(rng.randint(1, 4), rng.randint(0, 1)) for _ in range(count)],
        windows=windows,
        service=5,
        waves=[0, 0, 0, 0, 60, 60, 60, 60],
        food_limit=260,
        allowed=[frozenset({4, 5, 6, 7}) if v % 7 == 0 else None for v in range(count)],
        shift_end=700,
    )
    start: list[list[int]] = [[] for _ in p.trips]
    search = RuinRecreate(p, RuinRecreateParams(iterations=400), 1)
    search.load(start)
    served_before = p.node_count - 1 - len(search.absent)

    best = search.run(deadline=float("inf"))

    assert violations(p, best) == []
    assert sum(len(route) for route in best) >= served_before
    assert search.total == sum(route_cost(p, r) for r in search.snapshot()) + PENALTY * len(
        search.absent
    )


def test_a_rejected_step_restores_the_plan_and_its_caches():
    rng = random.Random(5)
    points = [(rng.randint(-50, 50), rng.randint(-50, 50)) for _ in range(20)]
    windows = [(0, 80 + 10 * i) for i in range(20)]
    p = search_problem(points, trips=6, capacity=(5, 0), windows=windows)
    search, _ = run(p, [[] for _ in p.trips], iterations=50, seed=2)
    rejected = 0
    for _ in range(200):
        before = (search.snapshot(), search.total, set(search.absent))
        if not search.step(temperature=0.0):
            rejected += 1
            assert (search.snapshot(), search.total, set(search.absent)) == before
        fresh = RuinRecreate(p, RuinRecreateParams(), 0)
        fresh.load(search.snapshot())
        assert fresh.total == search.total
        for mine, theirs in zip(search.routes, fresh.routes, strict=True):
            assert (
                mine.departure,
                mine.latest_arrival,
                mine.load,
                mine.cost,
                mine.before,
                mine.after,
                mine.arc,
            ) == (
                theirs.departure,
                theirs.latest_arrival,
                theirs.load,
                theirs.cost,
                theirs.before,
                theirs.after,
                theirs.arc,
            )
        assert all(
            search.route_of[v] == k and search.routes[k].nodes[search.position_of[v]] == v
            for k, route in enumerate(search.routes)
            for v in route.nodes
        )
    assert rejected > 0


def test_same_seed_and_iteration_count_give_the_same_routes():
    rng = random.Random(11)
    points = [(rng.randint(-80, 80), rng.randint(-80, 80)) for _ in range(30)]
    p = search_problem(points, trips=6, capacity=(7, 0))
    start = [list(range(1 + 5 * k, 6 + 5 * k)) for k in range(6)]

    assert run(p, start, iterations=300, seed=4)[1] == run(p, start, iterations=300, seed=4)[1]


def test_a_stop_that_fits_nowhere_stays_absent_and_costs_its_penalty():
    p = search_problem([(10, 0), (0, 10), (-10, 0)], trips=1, capacity=(2, 0))

    search, best = run(p, [[1, 2]], iterations=100)

    assert sum(len(route) for route in best) == 2
    assert len(search.absent) == 1
    assert search.total == route_cost(p, best[0]) + PENALTY


def test_solve_keeps_the_or_tools_plan_when_the_loop_returns_a_broken_one(monkeypatch):
    sites = {f"s{i}": ((i * 37) % 200 - 100, (i * 61) % 200 - 100) for i in range(12)}
    stops = [stop(name, window=TimeWindow(0, 400)) for name in sites]
    problem = plane_problem(sites, stops, [van(f"v{i}", boxes=4) for i in range(4)])

    def everything_on_one_trip(self, deadline):
        return [list(range(1, 13)), [], [], []]

    monkeypatch.setattr(RuinRecreate, "run", everything_on_one_trip)
    plan = solve(problem, time_limit=1.0, params=SolveParams(solution_limit=50))

    assert plan.unserved == ()
    assert all(trip.load.boxes <= 4 for route in plan.routes for trip in route.trips)
    assert all(
        visit.service_start <= 400
        for route in plan.routes
        for trip in route.trips
        for visit in trip.visits
    )


@pytest.mark.parametrize("ruin_recreate", [None, RuinRecreateParams(iterations=200)])
def test_solve_with_and_without_the_loop_serves_everyone_within_the_rules(ruin_recreate):
    rng = random.Random(8)
    sites = {f"s{i}": (rng.randint(-300, 300), rng.randint(-300, 300)) for i in range(30)}
    stops = [
        stop(name, boxes=1 + i % 3, window=TimeWindow(0, 1500)) for i, name in enumerate(sites)
    ]
    problem = plane_problem(sites, stops, [van(f"v{i}", boxes=15) for i in range(6)])

    plan = solve(
        problem,
        time_limit=2.0,
        seed=1,
        params=SolveParams(solution_limit=200, ruin_recreate=ruin_recreate),
    )

    assert plan.unserved == ()
    assert all(trip.load.boxes <= 15 for route in plan.routes for trip in route.trips)
    assert all(
        visit.service_start <= 1500
        for route in plan.routes
        for trip in route.trips
        for visit in trip.visits
    )
