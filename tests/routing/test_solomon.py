"""Solomon reader, DIMACS convention and the ``warmmeal-route solve-solomon`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from routing.cli import main
from routing.solomon import (
    DIMACS_SCALE,
    SolomonCustomer,
    dimacs_arc,
    parse_solomon,
    solomon_params,
    to_problem,
)

SOLOMON_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "vrp" / "solomon"
C101_DIMACS_OPTIMUM = 827.3
TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  2          10

CUSTOMER
CUST NO.   XCOORD.   YCOORD.    DEMAND   READY TIME   DUE DATE   SERVICE TIME

    0          0       0           0       0         100           0
    1          3       4           6       0          50           2
    2          1       1           6      10          60           3
"""


def test_parse_reads_fleet_and_rows():
    instance = parse_solomon(TINY)

    assert (instance.name, instance.vehicle_count, instance.capacity) == ("TINY", 2, 10)
    assert instance.customers[1] == SolomonCustomer(1, 3, 4, 6, 0, 50, 2)
    assert len(instance.customers) == 3


def test_parse_rejects_other_text():
    with pytest.raises(ValueError, match="not a Solomon instance"):
        parse_solomon("HELLO\nworld\n")


def test_dimacs_arcs_truncate_exactly():
    origin = SolomonCustomer(0, 0, 0, 0, 0, 0, 0)

    assert dimacs_arc(origin, SolomonCustomer(1, 3, 4, 0, 0, 0, 0)) == 50
    assert dimacs_arc(origin, SolomonCustomer(2, 1, 1, 0, 0, 0, 0)) == 14


def test_to_problem_scales_times_and_needs_two_vehicles_for_capacity():
    problem = to_problem(parse_solomon(TINY))

    assert problem.stops[1].window.start == 10 * DIMACS_SCALE
    assert problem.stops[0].service_duration == 2 * DIMACS_SCALE
    assert problem.vehicles[0].shift_end == 100 * DIMACS_SCALE
    assert problem.travel.distances[0][1] == 50


def test_cli_prints_a_complete_feasible_answer_for_c101():
    path = SOLOMON_DIR / "C101.txt"
    if not path.is_file():
        pytest.skip(f"Solomon data not found: {path}")
    result = CliRunner().invoke(main, ["solve-solomon", str(path), "--seconds", "3"])

    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert set(answer) == {"instance", "vehicles", "distance", "routes"}
    assert answer["instance"] == "C101"
    assert sorted(c for route in answer["routes"] for c in route) == list(range(1, 101))
    assert answer["vehicles"] == len(answer["routes"])
    assert C101_DIMACS_OPTIMUM <= answer["distance"] <= 1.05 * C101_DIMACS_OPTIMUM


def test_benchmark_settings_do_not_depend_on_the_instance_name():
    """No tuning by benchmark name: R201 and C101 get the same search settings."""
    assert solomon_params(parse_solomon(TINY.replace("TINY", "R201"))) == solomon_params(
        parse_solomon(TINY.replace("TINY", "C101"))
    )
