"""A generated district day through the one plan (``bench/one_plan_district.py``): the
kitchen's boxes, the router, and the kitchen's waves and packing for the routed trips.
Every box is on the van, departure and stop the route sheet gives, no trip over its van's
hot or cold boxes, every box eaten within the limit from the end of cooking, no stop
unserved, nothing cooked before the freeze. A step limit, not the clock, so it holds on a
loaded machine; the 1,000-stop run is in docs/routing-benchmark.md."""

from __future__ import annotations

from bench import one_plan_district

STEPS = 500
GENEROUS_SECONDS = 120.0


def test_a_generated_three_wave_day_is_cooked_packed_and_routed_as_one_plan() -> None:
    outcome = one_plan_district.one_plan(250, 3, seed=1, seconds=GENEROUS_SECONDS, steps=STEPS)

    assert outcome.problems == []
    assert outcome.unserved == 0 and outcome.served == outcome.stops == 250
    assert outcome.agreement == 1.0
    assert outcome.boxes > outcome.stops  # sites take several boxes, hot and cold apart
