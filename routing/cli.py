"""``warmmeal-route``: command-line entry points of the router (benchmarks for now)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from routing.solomon import DIMACS_SCALE, read_solomon, solomon_params, to_problem
from routing.solver import solve


@click.group()
def main() -> None:
    """WarmMeal delivery router."""


@main.command("solve-solomon")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seconds", type=float, required=True, help="Time limit for the search.")
@click.option("--seed", type=int, default=0, show_default=True)
def solve_solomon(path: Path, seconds: float, seed: int) -> None:
    """Solve a Solomon VRPTW file (DIMACS distances) and print the result as JSON."""
    instance = read_solomon(path)
    problem = to_problem(instance)
    plan = solve(problem, time_limit=seconds, seed=seed, params=solomon_params(instance))
    routes = [
        [int(visit.stop_id) for visit in trip.visits]
        for route in plan.routes
        for trip in route.trips
    ]
    result = {
        "instance": instance.name,
        "vehicles": len(routes),
        "distance": round(plan.distance / DIMACS_SCALE, 1),
        "routes": routes,
    }
    if plan.unserved:
        result["unserved"] = [int(unserved.stop_id) for unserved in plan.unserved]
    click.echo(json.dumps(result))
