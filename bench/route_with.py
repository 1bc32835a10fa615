"""Solve one JSON instance (``bench/district_days.py`` format) with one solver; print JSON.

    python bench/route_with.py warmmeal INSTANCE.json SECONDS [--iterations N]
    /tmp/peers/bin/python bench/route_with.py pyvrp INSTANCE.json SECONDS
    /tmp/peers/bin/python bench/route_with.py vroom INSTANCE.json SECONDS

``warmmeal`` needs the project's environment; ``pyvrp`` and ``vroom`` only need
``pip install pyvrp pyvroom numpy`` (a scratch environment): this file imports nothing
of the project for them. The peers are given a one-wave day as a plain VRPTW: every
van leaves at the wave, a stop's window closes at the food-safety limit after it.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path


def _latest(instance: dict, stop: dict, wave: int) -> int:
    limit = instance["food_limit"]
    return stop["window"][1] if limit is None else min(stop["window"][1], wave + limit)


def solve_warmmeal(instance: dict, seconds: float, iterations: int | None) -> dict:
    from routing import (
        Depot,
        Load,
        Problem,
        Stop,
        StopKind,
        TimeWindow,
        TravelMatrix,
        Vehicle,
        solve,
    )
    from routing.params import SolveParams

    problem = Problem(
        depot=Depot(tuple(instance["waves"]), reload_duration=instance["reload"]),
        vehicles=tuple(
            Vehicle(v["id"], Load(v["capacity"]), v["start"], v["end"], v["fixed_cost"])
            for v in instance["vehicles"]
        ),
        stops=tuple(
            Stop(
                s["id"],
                StopKind.SITE_DROP if s["kind"] == "site" else StopKind.HOME_DELIVERY,
                Load(s["demand"]),
                TimeWindow(*s["window"]),
                s["service"],
                instance["food_limit"],
            )
            for s in instance["stops"]
        ),
        travel=TravelMatrix(
            tuple(map(tuple, instance["durations"])), tuple(map(tuple, instance["distances"]))
        ),
    )
    plan = solve(problem, time_limit=seconds, params=SolveParams(solution_limit=iterations))
    return {
        "vans": [
            {
                "id": route.vehicle_id,
                "trips": [
                    {"departure": trip.departure, "stops": [v.stop_id for v in trip.visits]}
                    for trip in route.trips
                ],
            }
            for route in plan.routes
        ]
    }


def solve_pyvrp(instance: dict, seconds: float, iterations: int | None = None) -> dict:
    import numpy as np
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    (wave,) = instance["waves"]
    vehicles = instance["vehicles"]
    model_van = vehicles[0]
    clients = [
        pyvrp.Client(
            number + 1,
            delivery=[s["demand"]],
            service_duration=s["service"],
            tw_early=s["window"][0],
            tw_late=_latest(instance, s, wave),
            required=False,
            prize=10 * model_van["fixed_cost"],
        )
        for number, s in enumerate(instance["stops"])
    ]
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(0, 0) for _ in range(len(clients) + 1)],
        clients=clients,
        depots=[pyvrp.Depot(0)],
        vehicle_types=[
            pyvrp.VehicleType(
                len(vehicles),
                capacity=[model_van["capacity"]],
                fixed_cost=model_van["fixed_cost"],
                tw_early=wave,
                start_late=wave,
                tw_late=model_van["end"],
            )
        ],
        distance_matrices=[np.asarray(instance["distances"], dtype=np.int64)],
        duration_matrices=[np.asarray(instance["durations"], dtype=np.int64)],
    )
    stop = MaxRuntime(seconds)
    if iterations is not None:
        stop = MultipleCriteria([stop, MaxIterations(iterations)])
    best = pyvrp.solve(data, stop, display=False).best
    stops = instance["stops"]
    client = pyvrp.ActivityType.CLIENT
    return {
        "vans": [
            {
                "id": vehicles[number]["id"],
                "trips": [
                    {
                        "departure": wave,
                        "stops": [stops[a.idx]["id"] for a in route.schedule() if a.type == client],
                    }
                ],
            }
            for number, route in enumerate(best.routes())
        ]
    }


def solve_vroom(instance: dict, seconds: float) -> dict:
    import numpy as np
    import vroom

    (wave,) = instance["waves"]
    problem = vroom.Input()
    problem.set_durations_matrix("car", np.asarray(instance["durations"], dtype=np.uint32))
    problem.set_distances_matrix("car", np.asarray(instance["distances"], dtype=np.uint32))
    problem.set_costs_matrix("car", np.asarray(instance["distances"], dtype=np.uint32))
    for number, v in enumerate(instance["vehicles"]):
        problem.add_vehicle(
            vroom.Vehicle(
                number,
                start=0,
                end=0,
                capacity=[v["capacity"]],
                time_window=vroom.TimeWindow(wave, v["end"]),
                costs=vroom.VehicleCosts(fixed=v["fixed_cost"]),
            )
        )
    for number, s in enumerate(instance["stops"]):
        problem.add_job(
            vroom.Job(
                number + 1,
                location=number + 1,
                delivery=[s["demand"]],
                default_service=s["service"],
                time_windows=[vroom.TimeWindow(s["window"][0], _latest(instance, s, wave))],
            )
        )
    solution = problem.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=seconds))
    routes = solution.routes
    vans = []
    for vehicle_id, steps in routes.groupby("vehicle_id"):
        jobs = steps[steps["type"] == "job"].sort_values("arrival")
        start = steps[steps["type"] == "start"]["arrival"].iloc[0]
        vans.append(
            {
                "id": instance["vehicles"][int(vehicle_id)]["id"],
                "trips": [
                    {
                        "departure": int(start),
                        "stops": [instance["stops"][int(j) - 1]["id"] for j in jobs["id"]],
                    }
                ],
            }
        )
    return {"vans": vans}


def main() -> None:
    warnings.simplefilter("ignore")
    solver, path, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    iterations = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--iterations" else None
    instance = json.loads(path.read_text())
    started = time.monotonic()
    if solver == "warmmeal":
        answer = solve_warmmeal(instance, seconds, iterations)
    elif solver == "pyvrp":
        answer = solve_pyvrp(instance, seconds, iterations)
    elif solver == "vroom":
        answer = solve_vroom(instance, seconds)
    else:
        raise SystemExit(f"unknown solver {solver!r}: warmmeal, pyvrp or vroom")
    answer["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
