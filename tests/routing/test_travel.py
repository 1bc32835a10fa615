"""Straight-line provider (no server) and the plan built from its matrix."""

from __future__ import annotations

import pytest
from routing_testkit import stop, van

from routing import (
    Coordinates,
    Depot,
    Problem,
    StraightLineParams,
    StraightLineProvider,
    solve,
    travel_matrix,
)
from routing.travel import haversine_metres

ONE_DEGREE_OF_LATITUDE_METRES = 111_195


def test_haversine_one_degree_of_latitude():
    metres = haversine_metres(Coordinates(0.0, 0.0), Coordinates(1.0, 0.0))

    assert metres == pytest.approx(ONE_DEGREE_OF_LATITUDE_METRES, abs=1)


def test_straight_line_applies_detour_factor_and_speed():
    provider = StraightLineProvider(
        StraightLineParams(detour_factor=2.0, speed_metres_per_second=10)
    )
    a, b = Coordinates(31.2304, 121.4737), Coordinates(31.2404, 121.4737)

    matrix = provider.matrix([a, b])

    crow = haversine_metres(a, b)
    assert matrix.distances[0][1] == round(2 * crow)
    assert matrix.durations[0][1] == round(round(2 * crow) / 10)
    assert matrix.distances[0][0] == matrix.durations[1][1] == 0
    assert matrix.distances[0][1] == matrix.distances[1][0]


def test_straight_line_matrix_feeds_the_solver_in_kitchen_first_order():
    kitchen = Coordinates(31.2304, 121.4737)
    homes = [Coordinates(31.2354, 121.4737), Coordinates(31.2304, 121.4837)]
    matrix = travel_matrix(kitchen, homes)
    problem = Problem(
        Depot((36_000,)), (van(start=36_000, shift_end=50_000),), (stop("a"), stop("b")), matrix
    )

    plan = solve(problem, time_limit=1.0)

    assert matrix.size == 3
    assert plan.unserved == ()
    trip = plan.routes[0].trips[0]
    last_location = {"a": 1, "b": 2}[trip.visits[-1].stop_id]
    driven = sum(visit.distance_from_previous for visit in trip.visits)
    assert trip.distance == driven + matrix.distances[last_location][0]
