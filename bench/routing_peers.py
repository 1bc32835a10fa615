"""Router beside PyVRP and VROOM on district days and Gehring & Homberger instances.

Each solver runs in its own process with the same time limit, one after the other on
the same machine in the same run; every answer is checked by ``district_days.check``
(shared with no solver). PyVRP and VROOM come from a scratch environment:

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install pyvrp pyvroom numpy pandas
    .venv/bin/python bench/routing_peers.py districts --peer-python /tmp/peers/bin/python
    .venv/bin/python bench/routing_peers.py homberger --sizes 400 1000 --seconds 60 \\
        --peer-python /tmp/peers/bin/python

District days: 200, 500, 1,000 stops at 30 s and 2,000 at 120 s, one wave and three
waves (peers get the one-wave days only: they have no departure waves). Homberger:
vehicles first (a fixed cost above any distance), then distance, DIMACS convention.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import district_days

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "bench" / "vrp"
DIMACS_SCALE = 10
HOMBERGER_FIXED_COST = 100_000_000


def homberger_instance(path: Path) -> dict:
    """A Solomon-format file as a one-wave JSON instance (distances x10, floored)."""
    lines = [line.split() for line in path.read_text().splitlines()]
    numbers = [row for row in lines if row and all(part.lstrip("-").isdigit() for part in row)]
    fleet, capacity = map(int, numbers[0])
    rows = [list(map(int, row)) for row in numbers[1:]]
    points = [(row[1], row[2]) for row in rows]
    matrix = [
        [math.isqrt(DIMACS_SCALE**2 * ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)) for b in points]
        for a in points
    ]
    depot = rows[0]
    return {
        "name": path.stem,
        "distance_divisor": DIMACS_SCALE,
        "waves": [depot[4] * DIMACS_SCALE],
        "reload": 0,
        "food_limit": None,
        "vehicles": [
            {
                "id": str(n),
                "capacity": capacity,
                "start": depot[4] * DIMACS_SCALE,
                "end": depot[5] * DIMACS_SCALE,
                "fixed_cost": HOMBERGER_FIXED_COST,
            }
            for n in range(1, fleet + 1)
        ],
        "stops": [
            {
                "id": str(row[0]),
                "kind": "home",
                "demand": row[3],
                "window": [row[4] * DIMACS_SCALE, row[5] * DIMACS_SCALE],
                "service": row[6] * DIMACS_SCALE,
            }
            for row in rows[1:]
        ],
        "durations": matrix,
        "distances": matrix,
    }


def run(python: str, solver: str, path: Path, seconds: float) -> dict | None:
    """One solver's answer, or ``None`` when it failed or overran its limit by far."""
    command = [python, str(HERE / "route_with.py"), solver, str(path), str(seconds)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 3 + 120)
    except subprocess.TimeoutExpired:
        print(f"  {solver} still running after {seconds * 3 + 120:.0f} s: stopped", file=sys.stderr)
        return None
    if done.returncode != 0:
        print(f"  {solver} failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout)


def compare(
    instances: list[tuple[dict, float, bool]],
    peer_python: str | None,
    chosen: list[str] | None = None,
) -> None:
    print(
        "| instance | stops | fleet | solver | served | vans | trips "
        "| distance (km; Homberger: units) | cost vs PyVRP | check | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for instance, seconds, with_peers in instances:
            path = Path(folder) / f"{instance['name']}.json"
            path.write_text(json.dumps(instance))
            solvers = [(sys.executable, "warmmeal")]
            if with_peers and peer_python:
                solvers = [(peer_python, "pyvrp"), *solvers, (peer_python, "vroom")]
            solvers = [pair for pair in solvers if chosen is None or pair[1] in chosen]
            reference = None
            for python, solver in solvers:
                answer = run(python, solver, path, seconds)
                if answer is None:
                    print(
                        f"| {instance['name']} | {len(instance['stops'])} | "
                        f"{len(instance['vehicles'])} | {solver} | no answer in "
                        f"{seconds * 3 + 120:.0f} s | | | | | | |",
                        flush=True,
                    )
                    continue
                checked, wall = district_days.check(instance, answer), answer["seconds"]
                divisor = instance.get("distance_divisor", 1000)
                if solver == "pyvrp":
                    reference = checked
                ratio = (
                    f"{checked.cost / reference.cost:.4f}"
                    if reference is not None and reference.unserved == checked.unserved
                    else "—"
                )
                verdict = "ok" if not checked.problems else f"{len(checked.problems)} broken"
                print(
                    f"| {instance['name']} | {len(instance['stops'])} | "
                    f"{len(instance['vehicles'])} | {solver} | {checked.served} | {checked.vans} | "
                    f"{checked.trips} | {checked.distance / divisor:.1f} | {ratio} | {verdict} | "
                    f"{wall} |",
                    flush=True,
                )
                for problem in checked.problems[:3]:
                    print(f"  {solver}: {problem}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=["districts", "homberger"])
    parser.add_argument("--peer-python", help="python of a scratch venv with pyvrp and pyvroom")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--waves", type=int, nargs="*", default=[1, 3], help="district days only")
    parser.add_argument("--homes-per-site", type=int, default=district_days.HOMES_PER_SITE)
    parser.add_argument("--spread", type=float, default=1.0, help="district radius factor")
    parser.add_argument("--stops-per-van", type=float, default=7.0, help="one-wave fleet")
    parser.add_argument("--stops-per-van-multi-trip", type=float, default=12.0)
    parser.add_argument("--instances", nargs="*", help="Homberger: only these (e.g. RC2_4_1)")
    parser.add_argument(
        "--solvers", nargs="*", default=["pyvrp", "warmmeal", "vroom"], help="which to run"
    )
    options = parser.parse_args()
    if options.suite == "districts":
        sizes = options.sizes or [200, 500, 1000, 2000]
        instances = []
        for size in sizes:
            seconds = options.seconds or (120.0 if size >= 2000 else 30.0)
            for waves in options.waves:
                shape = district_days.Shape(
                    options.homes_per_site,
                    options.spread,
                    options.stops_per_van,
                    options.stops_per_van_multi_trip,
                )
                day = district_days.district_day(size, waves, options.seed, shape)
                instances.append((day, seconds, waves == 1))
    else:
        sizes = options.sizes or [400, 1000]
        folders = {400: "homberger_400", 1000: "homberger_1000", 200: "homberger"}
        instances = [
            (homberger_instance(path), options.seconds or 60.0, True)
            for size in sizes
            for path in sorted((SHARED / folders[size]).glob("*.txt"))
            if not options.instances or path.stem in options.instances
        ]
    compare(instances, options.peer_python, options.solvers)


if __name__ == "__main__":
    main()
