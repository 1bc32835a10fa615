"""The router on generated district days: every stop served, single and multi-trip, checked
by the benchmark's independent checker; never an empty plan; unserved stops say what would
serve them. Step limits (``solution_limit``), not wall-clock quality."""

from __future__ import annotations

import copy

import pytest

from bench import district_days
from bench.route_with import solve_warmmeal
from routing import Remedy, TimeWindow, UnservedReason, solve
from routing.model import StopKind
from routing.params import SolveParams
from tests.routing.routing_testkit import plane_problem, stop, van

STEPS = 1_000
GENEROUS_SECONDS = 120.0


def _plan(day: dict, seconds: float = GENEROUS_SECONDS, steps: int | None = STEPS):
    answer = solve_warmmeal(day, seconds, steps)
    return answer, district_days.check(day, answer)


@pytest.mark.parametrize("waves", [1, 3])
def test_a_district_day_is_served_whole_and_the_independent_checker_agrees(waves: int) -> None:
    day = district_days.district_day(400, waves, seed=5)

    answer, checked = _plan(day)

    assert checked.problems == []
    assert checked.unserved == 0
    assert checked.served == len(day["stops"])
    capacity = day["vehicles"][0]["capacity"]
    boxes = {s["id"]: s["demand"] for s in day["stops"]}
    for van_answer in answer["vans"]:
        for trip in van_answer["trips"]:
            assert sum(boxes[stop_id] for stop_id in trip["stops"]) <= capacity


def test_three_waves_need_no_more_vans_than_one_wave_of_the_same_day() -> None:
    three = district_days.district_day(300, 3, seed=9)
    one = copy.deepcopy(three)
    one["waves"] = three["waves"][:1]
    one["vehicles"] = [{**three["vehicles"][0], "id": f"van-{n}"} for n in range(1, 61)]

    _, with_three = _plan(three)
    _, with_one = _plan(one)

    assert with_three.problems == [] and with_one.problems == []
    assert with_three.unserved == with_one.unserved == 0
    assert with_three.vans <= with_one.vans
    assert with_three.trips >= with_three.vans


@pytest.mark.parametrize("waves", [1, 3])
def test_a_limit_too_short_to_search_still_gives_a_plan_not_an_empty_one(waves: int) -> None:
    day = district_days.district_day(600, waves, seed=2)

    answer, checked = _plan(day, seconds=0.01, steps=None)

    assert checked.problems == []
    assert checked.served > len(day["stops"]) // 2
    assert answer["vans"], "a plan that serves nobody is the worst answer"


def test_stops_the_fleet_cannot_fit_say_one_more_van_would_serve_them() -> None:
    sites = {f"s{n}": (100 * n, 0) for n in range(1, 5)}
    problem = plane_problem(sites, [stop(name, boxes=3) for name in sites], [van(boxes=5)])

    plan = solve(problem, time_limit=GENEROUS_SECONDS, params=SolveParams(solution_limit=200))

    assert len(plan.served_stop_ids) == 1
    assert {u.reason for u in plan.unserved} == {UnservedReason.FLEET_TOO_SMALL}
    assert {u.remedy for u in plan.unserved} == {Remedy.ONE_MORE_VAN}


def test_each_rule_that_rules_a_stop_out_names_what_would_serve_it() -> None:
    sites = {"late": (100, 0), "early": (100, 0), "far": (5_000, 0), "site": (5_000, 0)}
    stops = [
        # Opens 1,100 s after the only wave, with a 1,000 s food-safety limit: a later wave.
        stop("late", window=TimeWindow(2_100, 3_000), limit=1_000),
        # Closes 50 s after the wave but the drive takes 100 s: an earlier wave.
        stop("early", window=TimeWindow(0, 1_050)),
        # Too far for the limit on a direct drive: a home goes to its meal point ...
        stop("far", limit=1_000),
        # ... and a site drop needs a van that keeps food hot.
        stop("site", limit=1_000, kind=StopKind.SITE_DROP),
    ]
    problem = plane_problem(sites, stops, [van()], waves=(1_000,))

    plan = solve(problem, time_limit=GENEROUS_SECONDS, params=SolveParams(solution_limit=50))

    remedies = {u.stop_id: (u.remedy, u.remedy_time) for u in plan.unserved}
    assert remedies == {
        "late": (Remedy.LATER_WAVE, 1_100),
        "early": (Remedy.EARLIER_WAVE, 950),
        "far": (Remedy.MEAL_POINT_DROP, None),
        "site": (Remedy.HOT_HOLDING_VAN, None),
    }
    assert plan.routes == ()
