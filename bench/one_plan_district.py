"""A generated district day through the one plan: the kitchen's boxes, the router, the
kitchen's cooking waves and packing for the routed trips, and the checks issue 14 asks for.

The day's places, windows and travel come from ``bench.district_days``; each site takes
portions of a set meal (a braise, a stir-fry, rice and a cold dish) and each home one set
meal, some of them low-salt, soft or puréed. Then, as ``meals.production.day`` does:

1. the kitchen counts each stop's hot and cold boxes (``kitchen.boxes_per_stop``) and how
   long its food takes to cook and texture (``kitchen.preparation_per_stop``);
2. the router plans the vans with those loads, each stop's food leaving no earlier than
   the freeze plus its cooking, texture steps and packing, within the food-safety limit
   counted from the end of cooking;
3. the kitchen plans cooking waves and packs per routed van, trip and stop.

``check`` then asserts what a kitchen worker and a driver would: every box on the van,
departure and stop position the route plan gives (labels against the route sheet), no
trip over its van's hot or cold boxes, every box eaten within the limit from the end of
cooking of its food, no stop unserved, no cooking before the freeze. Pure: ``kitchen``
and ``routing`` only.

    .venv/bin/python bench/one_plan_district.py --stops 1000 --waves 3 --seconds 60
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import district_days
from kitchen import (
    BoxKind,
    Departure,
    Destination,
    DestinationKind,
    DietVariant,
    Equipment,
    HomeRecipient,
    Ingredient,
    KitchenParams,
    OrderLine,
    ProcessingStep,
    ProductionPlan,
    Recipe,
    RecipeLine,
    StopTiming,
    VariantChange,
    boxes_per_stop,
    plan_production,
    preparation_per_stop,
)
from routing import (
    Depot,
    Load,
    Problem,
    RoutePlan,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    solve,
)
from routing.params import SolveParams

ZONE = ZoneInfo("Asia/Shanghai")
MIDNIGHT = datetime(2026, 12, 10, tzinfo=ZONE)
FREEZE = MIDNIGHT + timedelta(hours=7)
"""Frozen at 07:00: the generated days' first wave leaves at 09:40."""
LIMIT = timedelta(hours=2)
PACKING = timedelta(minutes=15)
VAN_HOT, VAN_COLD = 60, 15
PORTIONS_PER_SITE_BOX = 3
"""A generated site's "boxes" times this is its set meals (2-13 boxes: 6-39 meals)."""
SET_MEAL = ("braise", "stir_fry", "rice", "salad")
STOPS_PER_VAN = {1: 5.0, 3: 9.0}
"""The fleet: the generator sizes it for its own budgets (100-120 min from departure); with
the kitchen's (120 min from the end of cooking, less packing and puréeing: 90 min in the
van) a van serves fewer stops a wave."""


def _recipe(dish: str, name: str, minutes: int, kind: str, hot: bool = True) -> Recipe:
    ingredient = Ingredient(ingredient_id=dish, name=name, halal=True)
    textured = {
        DietVariant.SOFT: VariantChange(
            extra_steps=(ProcessingStep(name="soft", duration=timedelta(minutes=5)),)
        ),
        DietVariant.PUREE: VariantChange(
            extra_steps=(ProcessingStep(name="purée", duration=timedelta(minutes=15)),)
        ),
        DietVariant.LOW_SALT: VariantChange(),
    }
    return Recipe(
        dish_id=dish,
        dish_name=name,
        lines=(RecipeLine(ingredient=ingredient, quantity=Decimal("100")),),
        cook_time=timedelta(minutes=minutes),
        equipment_kind=kind,
        served_hot=hot,
        variants=textured,
    )


RECIPES = {
    "braise": _recipe("braise", "红烧肉", 60, "braising_pan"),
    "stir_fry": _recipe("stir_fry", "清炒油麦菜", 15, "wok"),
    "rice": _recipe("rice", "米饭", 40, "steamer"),
    "salad": _recipe("salad", "拌黄瓜", 10, "cold_prep", hot=False),
}


def kitchen_params(stops: int) -> KitchenParams:
    """A kitchen sized for the day (the demo's, scaled by its stops)."""
    scale = max(1, round(stops / 250))
    return KitchenParams(
        equipment={
            "braising_pan": Equipment(units=6 * scale, max_portions_per_batch=300),
            "wok": Equipment(units=8 * scale, max_portions_per_batch=60),
            "steamer": Equipment(units=3 * scale, max_portions_per_batch=300),
            "cold_prep": Equipment(units=2 * scale, max_portions_per_batch=200),
            "small_pot": Equipment(units=12 * scale, max_portions_per_batch=40),
        },
        safety_limit=LIMIT,
        packing_lead_time=PACKING,
        small_batch_equipment="small_pot",
    )


def _home_variant(number: int) -> DietVariant:
    if number % 11 == 0:
        return DietVariant.PUREE
    if number % 7 == 0:
        return DietVariant.SOFT
    if number % 4 == 0:
        return DietVariant.LOW_SALT
    return DietVariant.REGULAR


def order_lines(day: dict, destinations: dict[str, Destination]) -> list[OrderLine]:
    """Set meals for every stop of the generated day, addressed to ``destinations``."""
    lines = []
    for number, stop in enumerate(day["stops"]):
        destination = destinations.get(stop["id"])
        if destination is None:
            continue
        if stop["kind"] == "site":
            meals = stop["demand"] * PORTIONS_PER_SITE_BOX
            puree = 1 if meals >= 10 else 0
            for variant, portions in (
                (DietVariant.REGULAR, meals - puree),
                (DietVariant.PUREE, puree),
            ):
                if portions:
                    lines.append(_line(destination, variant, portions, None))
        else:
            recipient = HomeRecipient(delivery_id=stop["id"], name=stop["id"], address="")
            lines.append(_line(destination, _home_variant(number), 1, recipient))
    return lines


def _line(
    destination: Destination, variant: DietVariant, portions: int, recipient: HomeRecipient | None
) -> OrderLine:
    return OrderLine(
        menu_item_id="A",
        menu_item_name="套餐A",
        dish_ids=SET_MEAL,
        variant=variant,
        destination=destination,
        portions=portions,
        recipient=recipient,
    )


def _unrouted(day: dict) -> dict[str, Destination]:
    return {
        stop["id"]: Destination(
            kind=DestinationKind.SITE if stop["kind"] == "site" else DestinationKind.HOME,
            departure_id="",
            stop_id=stop["id"],
            stop_name="",
        )
        for stop in day["stops"]
    }


def _seconds(moment: datetime) -> int:
    return int((moment - MIDNIGHT).total_seconds())


def route_problem(day: dict) -> Problem:
    """The router's day with the kitchen's boxes, budgets and earliest departures."""
    lines = order_lines(day, _unrouted(day))
    params = kitchen_params(len(day["stops"]))
    boxes = boxes_per_stop(lines, RECIPES, params)
    preparation = preparation_per_stop(lines, RECIPES)
    slowest_texture = timedelta(minutes=15)
    in_van = int((LIMIT - PACKING - slowest_texture).total_seconds())
    stops = tuple(
        Stop(
            stop["id"],
            StopKind.SITE_DROP if stop["kind"] == "site" else StopKind.HOME_DELIVERY,
            Load(*boxes[stop["id"]]),
            TimeWindow(*stop["window"]),
            stop["service"],
            in_van,
            earliest_departure=_seconds(FREEZE + preparation[stop["id"]] + PACKING),
        )
        for stop in day["stops"]
    )
    model = day["vehicles"][0]
    vehicles = tuple(
        Vehicle(
            f"van-{n}", Load(VAN_HOT, VAN_COLD), model["start"], model["end"], model["fixed_cost"]
        )
        for n in range(1, math.ceil(len(day["stops"]) / STOPS_PER_VAN[len(day["waves"])]) + 1)
    )
    return Problem(
        Depot(tuple(day["waves"]), reload_duration=day["reload"]),
        vehicles,
        stops,
        TravelMatrix(
            tuple(tuple(row) for row in day["durations"]),
            tuple(tuple(row) for row in day["distances"]),
        ),
    )


@dataclass(frozen=True)
class RoutedStopRow:
    """One row of the route sheet: a stop of a trip with the kitchen's loads."""

    van: str
    departure: datetime
    position: int
    stop_id: str
    eta: datetime


def route_sheet(plan: RoutePlan) -> list[RoutedStopRow]:
    return [
        RoutedStopRow(
            van=route.vehicle_id,
            departure=MIDNIGHT + timedelta(seconds=trip.departure),
            position=position,
            stop_id=visit.stop_id,
            eta=MIDNIGHT + timedelta(seconds=visit.service_start),
        )
        for route in plan.routes
        for trip in route.trips
        for position, visit in enumerate(trip.visits, start=1)
    ]


def _departure_id(van: str, departs: datetime) -> str:
    return f"{van} {departs:%H:%M}"


def kitchen_plan(day: dict, sheet: list[RoutedStopRow]) -> ProductionPlan:
    """Cooking waves and packing for the routed trips (violations kept, for the check)."""
    destinations = {
        row.stop_id: Destination(
            kind=DestinationKind.SITE if row.stop_id.startswith("site") else DestinationKind.HOME,
            departure_id=_departure_id(row.van, row.departure),
            stop_id=row.stop_id,
            stop_name=row.stop_id,
            stop_sequence=row.position,
        )
        for row in sheet
    }
    trips: dict[str, list[RoutedStopRow]] = {}
    for row in sheet:
        trips.setdefault(_departure_id(row.van, row.departure), []).append(row)
    departures = [
        Departure(
            departure_id=departure_id,
            van_id=rows[0].van,
            departs_at=rows[0].departure,
            stops=tuple(StopTiming(stop_id=r.stop_id, eating_at=r.eta) for r in rows),
        )
        for departure_id, rows in trips.items()
    ]
    return plan_production(
        order_lines(day, destinations),
        RECIPES,
        departures,
        kitchen_params(len(day["stops"])),
        allow_violations=True,
    )


@dataclass
class Outcome:
    stops: int
    served: int
    unserved: int
    vans: int
    trips: int
    boxes: int
    agreement: float
    problems: list[str] = field(default_factory=list)
    route_seconds: float = 0.0
    kitchen_seconds: float = 0.0


def check(day: dict, plan: RoutePlan, production: ProductionPlan) -> Outcome:
    """Every property issue 14 names, measured; ``problems`` lists each one that breaks."""
    sheet = route_sheet(plan)
    problems: list[str] = []
    on_sheet = {row.stop_id: (row.van, row.departure, row.position) for row in sheet}
    packed: dict[int, tuple[str, datetime, int, str]] = {}
    loads: dict[tuple[str, datetime], list[int]] = {}
    for van in production.packing:
        for stop in van.stops:
            for box in stop.boxes:
                packed[box.box_number] = (
                    van.van_id,
                    van.departs_at,
                    stop.stop_sequence or 0,
                    stop.stop_id,
                )
                load = loads.setdefault((van.van_id, van.departs_at), [0, 0])
                load[0 if box.kind is BoxKind.HOT else 1] += 1
    agreeing = sum(
        1
        for van, departs, position, stop_id in packed.values()
        if on_sheet.get(stop_id) == (van, departs, position)
    )
    agreement = agreeing / len(packed) if packed else 0.0
    if agreeing != len(packed):
        problems.append(f"{len(packed) - agreeing} boxes not where the route sheet has them")
    if set(on_sheet) - {stop_id for *_, stop_id in packed.values()}:
        problems.append("a routed stop has no box packed for it")
    for (van, departs), (hot, cold) in loads.items():
        if hot > VAN_HOT or cold > VAN_COLD:
            problems.append(f"{van} {departs:%H:%M} carries {hot} hot / {cold} cold boxes")
    cooked: dict[tuple[str, str, DietVariant], datetime] = {}
    for batch in production.batches:
        if batch.cook_start < FREEZE:
            problems.append(f"batch {batch.batch_id} starts cooking before the freeze")
        for allocation in batch.allocations:
            key = (allocation.departure_id, batch.dish_id, allocation.variant)
            cooked[key] = min(cooked.get(key, batch.cook_end), batch.cook_end)
    eta = {row.stop_id: row.eta for row in sheet}
    for van in production.packing:
        for stop in van.stops:
            for box in stop.boxes:
                ends = [cooked[(van.departure_id, item.dish_id, box.variant)] for item in box.items]
                if eta[stop.stop_id] - min(ends) > LIMIT:
                    problems.append(f"box {box.box_number} eaten past the limit at {stop.stop_id}")
    if production.violations:
        problems.append(f"{len(production.violations)} batches break the food-safety limit")
    if plan.unserved:
        problems.append(f"{len(plan.unserved)} stops unserved")
    return Outcome(
        stops=len(day["stops"]),
        served=len(on_sheet),
        unserved=len(plan.unserved),
        vans=plan.vehicles_used,
        trips=sum(len(route.trips) for route in plan.routes),
        boxes=len(packed),
        agreement=agreement,
        problems=problems,
    )


def one_plan(stops: int, waves: int, seed: int, *, seconds: float, steps: int | None) -> Outcome:
    """Generate, route, cook and pack a district day, and check it."""
    day = district_days.district_day(stops, waves, seed)
    started = time.monotonic()
    problem = route_problem(day)
    plan = solve(problem, time_limit=seconds, params=SolveParams(solution_limit=steps))
    routed = time.monotonic()
    production = kitchen_plan(day, route_sheet(plan))
    outcome = check(day, plan, production)
    outcome.route_seconds = routed - started
    outcome.kitchen_seconds = time.monotonic() - routed
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, nargs="+", default=[1000])
    parser.add_argument("--waves", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    print(
        "| stops | waves | served | unserved | vans | trips | boxes | labels = route sheet "
        "| route s | kitchen s | problems |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for stops in args.stops:
        for waves in args.waves:
            o = one_plan(stops, waves, args.seed, seconds=args.seconds, steps=args.steps)
            print(
                f"| {o.stops} | {waves} | {o.served} | {o.unserved} | {o.vans} | {o.trips} | "
                f"{o.boxes} | {o.agreement:.1%} | {o.route_seconds:.1f} | "
                f"{o.kitchen_seconds:.1f} | {'; '.join(o.problems[:3]) or 'none'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
