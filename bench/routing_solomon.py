"""Solomon VRPTW benchmark of the delivery router (DIMACS distances, vehicles free).

Runs ``warmmeal-route solve-solomon`` on each instance (a separate process, its own
full time limit), checks every answer here, independently of the solver (each
customer exactly once, capacity, time windows, return to the depot by its due
date, distance recomputed), and prints a table with the gap to the distance-only
best-known solutions (``bks_distance_only.csv``, ``dimacs`` rows).

    .venv/bin/python bench/routing_solomon.py                 # all 56, 10 s each, 2 at a time
    .venv/bin/python bench/routing_solomon.py R101 C204 --seconds 5 --jobs 1
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "bench" / "vrp" / "solomon"
BKS_FILE = "bks_distance_only.csv"
DIMACS = "dimacs"
SCALE = 10
DEFAULT_SECONDS = 10.0
DEFAULT_JOBS = 2
TIMEOUT_GRACE_SECONDS = 60
ROW_FIELDS = 7


@dataclass(frozen=True)
class Customer:
    x: int
    y: int
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class Outcome:
    instance: str
    vehicles: int
    distance: float
    problems: tuple[str, ...]
    wall_seconds: float


def read_instance(path: Path) -> tuple[int, dict[int, Customer]]:
    """Capacity and customers (0 = depot), parsed here on purpose, not by the solver."""
    lines = [line.split() for line in path.read_text().splitlines()]
    capacity = next(int(lines[i + 1][1]) for i, f in enumerate(lines) if f[:1] == ["NUMBER"])
    customers = {
        int(f[0]): Customer(*(int(v) for v in f[1:]))
        for f in lines
        if len(f) == ROW_FIELDS and all(v.lstrip("-").isdigit() for v in f)
    }
    return capacity, customers


def arc(a: Customer, b: Customer) -> int:
    """DIMACS arc length times SCALE: floor(10 * euclid), exact in integers."""
    return math.isqrt(SCALE * SCALE * ((a.x - b.x) ** 2 + (a.y - b.y) ** 2))


def check(path: Path, answer: dict) -> tuple[float, tuple[str, ...]]:
    """Recomputed distance and the list of violated rules (empty when feasible)."""
    capacity, customers = read_instance(path)
    depot = customers[0]
    problems: list[str] = []
    seen = [c for route in answer["routes"] for c in route]
    expected = set(customers) - {0}
    if sorted(seen) != sorted(expected):
        missing = sorted(expected - set(seen))
        repeated = sorted({c for c in seen if seen.count(c) > 1})
        problems.append(f"customers missing {missing[:5]} repeated {repeated[:5]}")
    total = 0
    for number, route in enumerate(answer["routes"], start=1):
        if not route:
            continue
        if sum(customers[c].demand for c in route if c in customers) > capacity:
            problems.append(f"route {number} over capacity")
        clock, here = depot.ready * SCALE, depot
        for c in route:
            if c not in customers or c == 0:
                problems.append(f"route {number}: unknown customer {c}")
                break
            there = customers[c]
            clock = max(clock + arc(here, there), there.ready * SCALE)
            if clock > there.due * SCALE:
                problems.append(f"route {number}: customer {c} served late")
            total += arc(here, there)
            clock += there.service * SCALE
            here = there
        total += arc(here, depot)
        if clock + arc(here, depot) > depot.due * SCALE:
            problems.append(f"route {number}: back at the depot too late")
    distance = total / SCALE
    if abs(distance - answer["distance"]) > 1 / SCALE:
        problems.append(f"reported distance {answer['distance']} != recomputed {distance}")
    return distance, tuple(problems)


def route_command() -> list[str]:
    script = shutil.which("warmmeal-route", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "routing.cli"]


def run_one(path: Path, seconds: float, seed: int) -> Outcome:
    started = time.monotonic()
    command = [*route_command(), "solve-solomon", str(path), "--seconds", str(seconds)]
    completed = subprocess.run(
        [*command, "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=seconds + TIMEOUT_GRACE_SECONDS,
        check=False,
    )
    wall = time.monotonic() - started
    if completed.returncode != 0:
        return Outcome(path.stem, 0, math.nan, (f"solver failed: {completed.stderr[-300:]}",), wall)
    answer = json.loads(completed.stdout)
    distance, problems = check(path, answer)
    return Outcome(answer["instance"], len(answer["routes"]), distance, problems, wall)


def format_load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def load_bks(directory: Path) -> dict[str, tuple[int, float]]:
    with (directory / BKS_FILE).open() as handle:
        return {
            row["instance"]: (int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(handle)
            if row["convention"].startswith(DIMACS)
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="*", help="names like R101 (default: all)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)

    bks = load_bks(args.dir)
    names = args.instances or sorted(bks)
    paths = [args.dir / f"{name}.txt" for name in names]
    load_before = os.getloadavg()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda p: run_one(p, args.seconds, args.seed), paths))
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()

    header = ("instance", "veh", "distance", "bks veh", "bks dist", "gap %", "wall s", "check")
    rows = []
    gaps = []
    for outcome in outcomes:
        bks_vehicles, bks_distance = bks[outcome.instance]
        gap = 100 * (outcome.distance - bks_distance) / bks_distance
        feasible = not outcome.problems
        if feasible:
            gaps.append(gap)
        rows.append(
            (
                outcome.instance,
                str(outcome.vehicles),
                f"{outcome.distance:.1f}",
                str(bks_vehicles),
                f"{bks_distance:.1f}",
                f"{gap:.2f}",
                f"{outcome.wall_seconds:.1f}",
                "ok" if feasible else "; ".join(outcome.problems),
            )
        )
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        print("  ".join(f"{h:>9}" for h in header))
        for row in rows:
            print("  ".join(f"{cell:>9}" for cell in row))
    mean_gap = sum(gaps) / len(gaps) if gaps else math.nan
    print()
    print(f"mean gap over feasible: {mean_gap:.2f} %")
    print(f"feasible: {len(gaps)}/{len(outcomes)}")
    print(
        f"time limit {args.seconds:g} s per instance, {args.jobs} at a time, wall {elapsed:.0f} s"
    )
    print(
        f"load average (1, 5, 15 min) on {os.cpu_count()} cores: "
        f"before {format_load(load_before)}, after {format_load(load_after)}"
    )
    return 0 if len(gaps) == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
