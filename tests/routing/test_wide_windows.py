"""On wide time windows the router needs no more vans than PyVRP itself.

The router's search is PyVRP; what it adds (the model of the day, penalty settings, a
first phase with spare vans) must not cost vans. It did on Gehring & Homberger's
wide-window classes: RC2_2_1 at 500 steps took 7 vans where plain PyVRP with the same
steps and seed takes 6 (a penalty cap 100 times PyVRP's, and two phases on a fleet
with room to spare). Step limits, not wall clock, so it holds on a loaded machine.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import pyvrp
from pyvrp.stop import MaxIterations

from routing import engine
from routing.model import Problem
from routing.solomon import read_solomon, to_problem

HOMBERGER_200 = (
    Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "vrp" / "homberger"
)
FIXED_COST = 100_000_000
"""Vehicles first, then distance (the benchmark's hierarchical objective)."""
STEPS = 500
SEED = 1
GENEROUS_SECONDS = 600.0


def _vans_first(name: str) -> Problem:
    path = HOMBERGER_200 / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} is not here")
    problem = to_problem(read_solomon(path))
    vehicles = tuple(dataclasses.replace(v, fixed_cost=FIXED_COST) for v in problem.vehicles)
    return dataclasses.replace(problem, vehicles=vehicles)


def _plain_pyvrp_vans(problem: Problem) -> int:
    """PyVRP as the benchmark's peer runs it: every client optional at ten vans' prize."""
    (wave,) = problem.depot.departure_waves
    distances, durations = engine.matrices(problem)
    van = problem.vehicles[0]
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(0, 0) for _ in range(len(problem.stops) + 1)],
        clients=[
            pyvrp.Client(
                number + 1,
                delivery=[stop.demand.boxes],
                service_duration=stop.service_duration,
                tw_early=stop.window.start,
                tw_late=stop.window.end,
                required=False,
                prize=10 * FIXED_COST,
            )
            for number, stop in enumerate(problem.stops)
        ],
        depots=[pyvrp.Depot(0)],
        vehicle_types=[
            pyvrp.VehicleType(
                len(problem.vehicles),
                capacity=[van.capacity.boxes],
                fixed_cost=FIXED_COST,
                tw_early=wave,
                start_late=wave,
                tw_late=van.shift_end,
            )
        ],
        distance_matrices=[distances],
        duration_matrices=[durations],
    )
    best = pyvrp.solve(data, MaxIterations(STEPS), seed=SEED, display=False).best
    assert best.is_feasible() and best.num_clients() == len(problem.stops)
    return best.num_routes()


def test_on_wide_windows_the_router_needs_no_more_vans_than_plain_pyvrp() -> None:
    problem = _vans_first("RC2_2_1")
    allowed = {index: problem.depot.departure_waves for index in range(len(problem.stops))}

    trips = engine.search(
        problem, allowed, time_limit=GENEROUS_SECONDS, seed=SEED, iterations=STEPS
    )

    assert sum(len(trip.visits) for trip in trips) == len(problem.stops)
    assert len({trip.vehicle_index for trip in trips}) <= _plain_pyvrp_vans(problem)


def test_the_penalty_cap_follows_the_van_cost_and_the_window_width() -> None:
    """A van buys one median window width of time warp, never less than PyVRP's cap."""
    wide = _vans_first("RC2_2_1")
    copies = engine.wave_copies(wide, {i: wide.depot.departure_waves for i in range(200)})
    data, _ = engine.build_data(wide, copies, engine.matrices(wide))
    default = pyvrp.PenaltyParams().max_penalty
    assert engine.solver_params(data).penalty.max_penalty == default

    tight = _vans_first("R1_2_1")
    copies = engine.wave_copies(tight, {i: tight.depot.departure_waves for i in range(200)})
    data, _ = engine.build_data(tight, copies, engine.matrices(tight))
    assert engine.solver_params(data).penalty.max_penalty == FIXED_COST / 100


def test_spare_vans_only_where_the_fleet_is_tight() -> None:
    """Homberger's fleets are many times what a day needs; the demo-like district days
    with few vans are not."""
    problem = _vans_first("RC2_2_1")
    copies = engine.wave_copies(problem, {i: problem.depot.departure_waves for i in range(200)})
    assert engine.fleet_slack(problem, copies, engine.matrices(problem)[1]) > 10

    few = dataclasses.replace(problem, vehicles=problem.vehicles[:5])
    assert engine.fleet_slack(few, copies, engine.matrices(few)[1]) < engine.TIGHT_FLEET_SLACK
