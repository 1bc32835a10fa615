"""OsrmProvider against a real osrm-routed over the Monaco extract.

Map data © OpenStreetMap contributors (ODbL). Points are in Monaco.
"""

from __future__ import annotations

import socket

import pytest
from routing_testkit import stop, van

from routing import (
    Coordinates,
    Depot,
    OsrmNoRouteError,
    OsrmParams,
    OsrmProvider,
    OsrmUnavailableError,
    Problem,
    solve,
)
from routing.travel import haversine_metres

pytestmark = pytest.mark.osrm

CASINO = Coordinates(43.7394, 7.4274)
PORT_HERCULE = Coordinates(43.7347, 7.4222)
FONTVIEILLE = Coordinates(43.7280, 7.4150)
LARVOTTO = Coordinates(43.7450, 7.4350)
MONACO_VILLE = Coordinates(43.7310, 7.4200)
MONACO = [CASINO, PORT_HERCULE, FONTVIEILLE, LARVOTTO, MONACO_VILLE]
A8_MOTORWAY = Coordinates(43.745532, 7.380012)
"""A point OSRM snaps onto the A8 motorway above Monaco."""


def test_table_gives_road_durations_and_distances(osrm_server):
    with OsrmProvider(OsrmParams(osrm_server.base_url)) as provider:
        matrix = provider.matrix(MONACO)

    assert matrix.size == len(MONACO)
    for i, a in enumerate(MONACO):
        assert matrix.durations[i][i] == 0
        for j, b in enumerate(MONACO):
            if i != j:
                assert matrix.durations[i][j] > 0
                assert matrix.distances[i][j] >= haversine_metres(a, b) * 0.95


def test_chunked_requests_give_the_same_matrix(osrm_server):
    with OsrmProvider(OsrmParams(osrm_server.base_url)) as whole:
        expected = whole.matrix(MONACO)
        whole_requests = whole.requests_made
    with OsrmProvider(OsrmParams(osrm_server.base_url, max_locations=2)) as chunked:
        got = chunked.matrix(MONACO)

    assert got == expected
    assert chunked.requests_made > whole_requests


def test_cache_answers_repeated_points_without_asking_again(osrm_server):
    with OsrmProvider(OsrmParams(osrm_server.base_url)) as provider:
        first = provider.matrix(MONACO)
        asked = provider.requests_made
        subset = provider.matrix([LARVOTTO, CASINO, LARVOTTO])

    assert provider.requests_made == asked
    assert subset.durations[0][1] == first.durations[3][0]
    assert subset.durations[0][2] == 0


def test_server_down_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    params = OsrmParams(f"http://127.0.0.1:{closed_port}", retries=1, retry_backoff_seconds=0.01)

    with OsrmProvider(params) as provider, pytest.raises(OsrmUnavailableError, match="2 attempts"):
        provider.matrix([CASINO, PORT_HERCULE])


def test_null_cell_is_a_clear_error(osrm_server):
    # Real server, real null: with motorways excluded, OSRM still snaps this point onto
    # the A8 but cannot route to or from it, and answers null cells in /table.
    params = OsrmParams(osrm_server.base_url, exclude="motorway")

    with OsrmProvider(params) as provider, pytest.raises(OsrmNoRouteError, match="no route"):
        provider.matrix([CASINO, A8_MOTORWAY])


def test_same_points_route_fine_without_the_exclusion(osrm_server):
    with OsrmProvider(OsrmParams(osrm_server.base_url)) as provider:
        matrix = provider.matrix([CASINO, A8_MOTORWAY])

    assert matrix.durations[0][1] > 0


def test_plan_on_road_times(osrm_server):
    with OsrmProvider(OsrmParams(osrm_server.base_url)) as provider:
        matrix = provider.matrix(MONACO)
    stops = tuple(stop(f"home-{i}", service=120, limit=1800) for i in range(1, len(MONACO)))
    wave = 11 * 3600
    problem = Problem(Depot((wave,)), (van(start=wave, shift_end=wave + 7200),), stops, matrix)

    plan = solve(problem, time_limit=1.0)

    assert plan.unserved == ()
    (trip,) = plan.routes[0].trips
    assert all(visit.time_since_departure <= 1800 for visit in trip.visits)
    assert trip.distance == plan.distance > 0
