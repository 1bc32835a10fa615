"""The solver on small hand-made instances whose best answer is known.

Each hard rule is shown binding: the same instance with the rule relaxed gets a
different (cheaper) answer, and the constrained answer respects the rule.
Distances are metres on a plane driven at 1 m/s, so seconds equal metres.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from routing_testkit import plane_problem, stop, van, visit_order

from routing import (
    Depot,
    Objective,
    Problem,
    Remedy,
    SolveParams,
    TimeWindow,
    TravelMatrix,
    UnservedReason,
    solve,
)
from routing.check import plan_breaks_rules
from routing.engine import PlannedTrip, PlannedVisit

SECONDS = 1.0
SQUARE = {"a": (0, 100), "b": (50, 100), "c": (100, 100), "d": (100, 0)}
DIAGONAL = round(math.hypot(100, 100))


def reasons(plan) -> dict[str, UnservedReason]:
    return {unserved.stop_id: unserved.reason for unserved in plan.unserved}


def test_known_optimum_tour_around_a_square():
    stops = [stop(name) for name in SQUARE]
    plan = solve(plane_problem(SQUARE, stops, [van(), van("van-2")]), time_limit=SECONDS)

    assert plan.distance == 400
    assert plan.vehicles_used == 1
    assert visit_order(plan) in (
        [["a", "b", "c", "d"]],
        [["d", "c", "b", "a"]],
    )
    assert plan.unserved == ()


def test_capacity_binds_and_is_respected():
    stops = [stop(name, boxes=1) for name in SQUARE]
    roomy = solve(
        plane_problem(SQUARE, stops, [van(boxes=4), van("van-2", boxes=4)]), time_limit=SECONDS
    )
    tight = solve(
        plane_problem(SQUARE, stops, [van(boxes=2), van("van-2", boxes=2)]), time_limit=SECONDS
    )

    assert (roomy.vehicles_used, roomy.distance) == (1, 400)
    assert tight.vehicles_used == 2
    assert tight.distance > roomy.distance
    assert all(trip.load.boxes <= 2 for route in tight.routes for trip in route.trips)
    assert tight.unserved == ()


def test_cold_box_capacity_is_a_second_dimension():
    sites = {"a": (100, 0), "b": (0, 100)}
    stops = [stop("a", cold_boxes=1), stop("b", cold_boxes=1)]
    vans_with = [van(cold_boxes=2, fixed_cost=1000), van("van-2", cold_boxes=2, fixed_cost=1000)]
    vans_without = [van(cold_boxes=1, fixed_cost=1000), van("van-2", cold_boxes=1, fixed_cost=1000)]

    assert solve(plane_problem(sites, stops, vans_with), time_limit=SECONDS).vehicles_used == 1
    split = solve(plane_problem(sites, stops, vans_without), time_limit=SECONDS)
    assert split.vehicles_used == 2
    assert all(trip.load.cold_boxes == 1 for route in split.routes for trip in route.trips)


def test_time_windows_bind_and_service_starts_inside_them():
    sites = {"east": (100, 0), "west": (-100, 0)}
    vans = [van(fixed_cost=10_000), van("van-2", fixed_cost=10_000)]
    loose = [stop("east"), stop("west")]
    tight = [stop("east", window=TimeWindow(100, 110)), stop("west", window=TimeWindow(100, 110))]

    one_van = solve(plane_problem(sites, loose, vans), time_limit=SECONDS)
    two_vans = solve(plane_problem(sites, tight, vans), time_limit=SECONDS)

    assert one_van.vehicles_used == 1
    assert two_vans.vehicles_used == 2
    for route in two_vans.routes:
        for visit in route.trips[0].visits:
            assert 100 <= visit.service_start <= 110
            assert visit.service_start == max(visit.arrival, 100)


def test_food_safety_limit_binds():
    sites = {"north": (0, 100), "east": (100, 0)}
    vans = [van(fixed_cost=10_000), van("van-2", fixed_cost=10_000)]
    no_limit = [stop("north"), stop("east")]
    limited = [stop("north", limit=150), stop("east", limit=150)]

    shared = solve(plane_problem(sites, no_limit, vans), time_limit=SECONDS)
    separate = solve(plane_problem(sites, limited, vans), time_limit=SECONDS)

    assert (shared.vehicles_used, shared.distance) == (1, 100 + DIAGONAL + 100)
    assert (separate.vehicles_used, separate.distance) == (2, 400)
    visits = [v for route in separate.routes for trip in route.trips for v in trip.visits]
    assert all(visit.time_since_departure <= 150 for visit in visits)


def test_food_safety_limit_with_one_van_leaves_a_stop_unserved_with_the_reason():
    sites = {"north": (0, 100), "east": (100, 0)}
    plan = solve(
        plane_problem(sites, [stop("north", limit=150), stop("east", limit=150)], [van()]),
        time_limit=SECONDS,
    )

    assert len(plan.served_stop_ids) == 1
    assert list(reasons(plan).values()) == [UnservedReason.FLEET_TOO_SMALL]


def test_waiting_for_a_late_window_counts_against_the_food_safety_limit():
    sites = {"home": (100, 0)}
    late = stop("home", window=TimeWindow(1000, 2000), limit=300)
    early_wave_only = solve(plane_problem(sites, [late], [van()]), time_limit=SECONDS)
    with_late_wave = solve(
        plane_problem(sites, [late], [van()], waves=(0, 800)), time_limit=SECONDS
    )

    assert reasons(early_wave_only) == {"home": UnservedReason.BEYOND_FOOD_SAFETY_LIMIT}
    (trip,) = with_late_wave.routes[0].trips
    assert trip.departure == 800
    assert trip.visits[0].service_start == 1000
    assert trip.visits[0].time_since_departure == 200


FOUR_POINTS = {"e": (100, 0), "n": (0, 100), "w": (-100, 0), "s": (0, -100)}
SHORTEST_PAIR_TRIP = 100 + DIAGONAL + 100


def four_point_problem(*, waves: tuple[int, ...], reload: int, vans=None) -> Problem:
    return plane_problem(
        FOUR_POINTS,
        [stop(name) for name in FOUR_POINTS],
        vans or [van(boxes=2)],
        waves=waves,
        reload=reload,
    )


def test_multi_trip_reload_at_the_kitchen_between_waves():
    second_wave = 400
    plan = solve(four_point_problem(waves=(0, second_wave), reload=50), time_limit=SECONDS)

    assert plan.unserved == ()
    (route,) = plan.routes
    first, second = route.trips
    assert first.departure == 0
    assert first.return_time + 50 <= second.departure
    for trip in route.trips:
        # A trip leaves once the food it carries is ready (its wave), never before.
        assert all(visit.food_wave <= trip.departure for visit in trip.visits)
        assert all(visit.food_wave in (0, second_wave) for visit in trip.visits)
    assert first.load.boxes == second.load.boxes == 2
    assert plan.distance == 2 * SHORTEST_PAIR_TRIP


def test_reload_time_binds_a_second_trip():
    """The second trip waits for the van to be back and reloaded, even past its wave."""
    plan = solve(four_point_problem(waves=(0, 400), reload=100), time_limit=SECONDS)

    first, second = plan.routes[0].trips
    assert SHORTEST_PAIR_TRIP + 100 > 400
    assert first.return_time + 100 <= second.departure
    assert second.departure >= max(visit.food_wave for visit in second.visits)
    assert len(plan.served_stop_ids) == 4
    assert plan.unserved == ()


def test_single_wave_means_single_trip():
    plan = solve(four_point_problem(waves=(0,), reload=0), time_limit=SECONDS)

    assert len(plan.served_stop_ids) == 2
    assert len(plan.unserved) == 2


def test_fixed_cost_is_paid_once_per_van_not_per_trip():
    vans = [van(boxes=2, fixed_cost=10_000), van("van-2", boxes=2, fixed_cost=10_000)]
    plan = solve(four_point_problem(waves=(0, 400), reload=0, vans=vans), time_limit=SECONDS)

    assert plan.vehicles_used == 1
    assert len(plan.routes[0].trips) == 2
    assert plan.cost == 10_000 + plan.distance


def test_shift_end_binds():
    sites = {"near": (100, 0), "far": (0, 300)}
    together = 100 + round(math.hypot(100, 300)) + 300
    stops = [stop("near"), stop("far")]

    def plan_with_shift(shift_end: int):
        return solve(plane_problem(sites, stops, [van(shift_end=shift_end)]), time_limit=SECONDS)

    assert plan_with_shift(800).unserved == ()
    assert plan_with_shift(800).routes[0].trips[0].return_time == together
    assert reasons(plan_with_shift(650)) in (
        {"near": UnservedReason.FLEET_TOO_SMALL},
        {"far": UnservedReason.FLEET_TOO_SMALL},
    )
    assert reasons(plan_with_shift(500)) == {"far": UnservedReason.AFTER_SHIFT_END}


def test_vans_leave_only_on_waves_inside_their_shift():
    sites = {"home": (100, 0)}
    plan = solve(
        plane_problem(sites, [stop("home")], [van(start=500)], waves=(0, 600)),
        time_limit=SECONDS,
    )

    assert plan.routes[0].trips[0].departure == 600


def test_unserved_reasons_for_stops_impossible_on_their_own():
    sites = {
        "heavy": (10, 0),
        "far": (0, 500),
        "closed": (100, 0),
        "fine": (0, 10),
    }
    stops = [
        stop("heavy", boxes=11),
        stop("far", limit=300),
        stop("closed", window=TimeWindow(0, 50)),
        stop("fine"),
    ]
    plan = solve(plane_problem(sites, stops, [van(boxes=10)]), time_limit=SECONDS)

    assert reasons(plan) == {
        "heavy": UnservedReason.OVER_CAPACITY,
        "far": UnservedReason.BEYOND_FOOD_SAFETY_LIMIT,
        "closed": UnservedReason.WINDOW_UNREACHABLE,
    }
    assert plan.served_stop_ids == ("fine",)
    assert all(unserved.detail for unserved in plan.unserved)


def test_hopeless_instance_returns_a_plan_not_an_exception():
    sites = {"a": (10, 0), "b": (0, 10)}
    no_vans = solve(plane_problem(sites, [stop("a"), stop("b")], []), time_limit=SECONDS)
    too_heavy = solve(
        plane_problem(sites, [stop("a", boxes=99), stop("b", boxes=99)], [van()]),
        time_limit=SECONDS,
    )

    assert no_vans.routes == () and len(no_vans.unserved) == 2
    assert set(reasons(too_heavy).values()) == {UnservedReason.OVER_CAPACITY}


def test_objective_distance_or_duration_picks_a_different_tour():
    fast_but_long = TravelMatrix(
        distances=((0, 10, 50), (50, 0, 10), (10, 50, 0)),
        durations=((0, 50, 10), (10, 0, 50), (50, 10, 0)),
    )
    stops = (stop("one"), stop("two"))

    def order(objective: Objective) -> list[list[str]]:
        problem = Problem(Depot((0,)), (van(),), stops, fast_but_long, objective=objective)
        return visit_order(solve(problem, time_limit=SECONDS))

    assert order(Objective.DISTANCE) == [["one", "two"]]
    assert order(Objective.DURATION) == [["two", "one"]]


def test_same_seed_and_solution_limit_give_the_same_plan():
    sites = {f"s{i}": ((i * 37) % 200 - 100, (i * 61) % 200 - 100) for i in range(25)}
    stops = [stop(name, boxes=1 + i % 3) for i, name in enumerate(sites)]
    problem = plane_problem(sites, stops, [van(f"v{i}", boxes=12) for i in range(5)])
    params = SolveParams(solution_limit=300)

    first = solve(problem, time_limit=30.0, seed=7, params=params)
    second = solve(problem, time_limit=30.0, seed=7, params=params)

    assert first == second
    assert first.unserved == ()


def test_plan_loads_and_distances_add_up():
    stops = [stop(name, boxes=i + 1, service=30) for i, name in enumerate(SQUARE)]
    plan = solve(plane_problem(SQUARE, stops, [van()]), time_limit=SECONDS)

    (trip,) = plan.routes[0].trips
    assert trip.load.boxes == 1 + 2 + 3 + 4
    assert trip.visits[0].load_before == trip.load
    assert sum(v.distance_from_previous for v in trip.visits) + 100 == trip.distance
    assert trip.return_time == trip.distance + 4 * 30


def test_invalid_problem_data_is_rejected():
    with pytest.raises(ValueError, match="travel matrix"):
        Problem(Depot((0,)), (van(),), (stop("a"),), TravelMatrix(((0,),), ((0,),)))
    with pytest.raises(ValueError, match="window"):
        TimeWindow(10, 5)
    with pytest.raises(ValueError, match="increasing"):
        Depot((600, 0))


def test_a_wave_whose_food_is_cooked_early_has_a_shorter_food_budget():
    """The kitchen finishes the first wave's food 300 s early: a stop 400 s out, with a
    600 s budget, can no longer ride that wave; the second wave is fine."""
    sites = {"far": (400, 0)}
    far = stop("far", limit=600, window=TimeWindow(0, 900))
    travel = plane_problem(sites, [far], [van()]).travel

    def solved(early_cooking: tuple[int, ...], waves: tuple[int, ...] = (0,)):
        depot = Depot(departure_waves=waves, early_cooking=early_cooking)
        return solve(Problem(depot, (van(),), (far,), travel), time_limit=SECONDS)

    assert visit_order(solved(())) == [["far"]]
    assert reasons(solved((300,))) == {"far": UnservedReason.BEYOND_FOOD_SAFETY_LIMIT}
    later = solved((300, 0), waves=(0, 100))
    assert [trip.departure for route in later.routes for trip in route.trips] == [100]
    with pytest.raises(ValueError, match="early_cooking"):
        Depot(departure_waves=(0, 1000), early_cooking=(300,))


def test_food_cooked_after_the_freeze_rides_the_first_wave_it_is_ready_for():
    """The braise for "slow" is packed at 500 (cooked after the freeze): it cannot leave on
    the wave at 0 with "quick", so it goes on the wave at 600; with no wave after 500 it is
    unserved, saying which departure would serve it, and the checker refuses a plan that
    sends it early."""
    sites = {"quick": (100, 0), "slow": (0, 100)}
    slow = dataclasses.replace(stop("slow"), earliest_departure=500)
    quick = stop("quick", window=TimeWindow(0, 300))
    problem = plane_problem(sites, [quick, slow], [van(), van("van-2")], waves=(0, 600))

    plan = solve(problem, time_limit=SECONDS)

    leaves = {
        visit.stop_id: trip.departure
        for route in plan.routes
        for trip in route.trips
        for visit in trip.visits
    }
    assert leaves["quick"] == 0 and leaves["slow"] >= 600
    too_late = solve(dataclasses.replace(problem, depot=Depot((0, 400))), time_limit=SECONDS)
    assert [(u.stop_id, u.remedy, u.remedy_time) for u in too_late.unserved] == [
        ("slow", Remedy.LATER_WAVE, 500)
    ]
    early = [PlannedTrip(0, (PlannedVisit(0, 0), PlannedVisit(1, 0)))]
    assert "before its food is ready" in (plan_breaks_rules(problem, early) or "")
