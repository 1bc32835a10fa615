"""Realistic district delivery days, a plain-JSON instance format, and an independent checker.

A district day: one central kitchen, community canteens and meal points (sites) that
take 2-13 boxes before they serve lunch, and homes around them that take one box
each. Sites and homes sit in communities spread over the district; homes cluster
around their site. Travel is the straight line times a detour factor at town speed.

- a site serves lunch at 11:00, 11:15 or 11:30; its drop window runs from 90 to
  10 minutes before that, service 10 minutes;
- a home's window runs from 30 minutes before its site serves to 60 minutes after,
  service 4 minutes;
- the food-safety budget (100-120 minutes, drawn per day) counts from departure;
- vans hold 40 boxes; one wave leaves at 09:40, three waves at 09:40, 10:25, 11:10.

The instance format is plain JSON (so the peers' scratch environment needs nothing
of the project): ``waves``, ``reload``, ``food_limit`` (seconds or null),
``vehicles`` (``id``, ``capacity``, ``start``, ``end``, ``fixed_cost``), ``stops``
(``id``, ``kind``, ``demand``, ``window`` [a, b], ``service``), ``durations`` and
``distances`` (location 0 is the kitchen, ``i`` is ``stops[i - 1]``).

A solution is ``{"vans": [{"id", "trips": [{"departure", "stops": [ids]}]}]}``. The
checker here shares no code with the router: it recomputes every time and load.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

HOUR = 3600
MINUTE = 60
VAN_BOXES = 40
VAN_FIXED_COST = 1_000_000
SHIFT = (9 * HOUR, 14 * HOUR + 30 * MINUTE)
ONE_WAVE = (9 * HOUR + 40 * MINUTE,)
THREE_WAVES = (9 * HOUR + 40 * MINUTE, 10 * HOUR + 25 * MINUTE, 11 * HOUR + 10 * MINUTE)
RELOAD = 10 * MINUTE
SERVING_TIMES = (11 * HOUR, 11 * HOUR + 15 * MINUTE, 11 * HOUR + 30 * MINUTE)
SITE_SERVICE = 10 * MINUTE
HOME_SERVICE = 4 * MINUTE
SPEED_M_PER_S = 30_000 / HOUR
DETOUR = 1.3
HOMES_PER_SITE = 14


@dataclass(frozen=True)
class Shape:
    """What a district looks like; the defaults are the demo's shape (seed 1 in the doc).

    ``homes_per_site``: homes around each site; ``spread``: the district's radius as a
    multiple of the default; ``stops_per_van``: the fleet is the stops over this (one
    wave) or over ``stops_per_van_multi_trip`` (three waves).
    """

    homes_per_site: int = HOMES_PER_SITE
    spread: float = 1.0
    stops_per_van: float = 7.0
    stops_per_van_multi_trip: float = 12.0

    def label(self) -> str:
        if self == Shape():
            return ""
        return (
            f"-h{self.homes_per_site}-x{self.spread:g}"
            f"-v{self.stops_per_van:g}-{self.stops_per_van_multi_trip:g}"
        )


def district_day(stops: int, waves: int, seed: int, shape: Shape | None = None) -> dict:
    """A generated day of about ``stops`` stops, one or three waves.

    Any ``seed`` (and ``shape``) gives a day that is in no repository: the router is
    measured on such unseen days too (``bench/routing_peers.py districts --seed N``).
    """
    shape = shape or Shape()
    # The same draw whatever the waves: a three-wave day is the one-wave day with more
    # departures (and its own fleet), so the two can be compared.
    rng = random.Random(seed * 7919 + stops * 31 + 1)
    site_count = max(2, round(stops / (shape.homes_per_site + 1)))
    radius = (2_500 + 350 * math.sqrt(stops)) * shape.spread
    kitchen = (rng.uniform(-0.2, 0.2) * radius, rng.uniform(-0.2, 0.2) * radius)
    points = [kitchen]
    raw_stops = []
    sites = []
    for number in range(site_count):
        angle, distance = rng.uniform(0, 2 * math.pi), radius * math.sqrt(rng.random())
        where = (distance * math.cos(angle), distance * math.sin(angle))
        serving = rng.choice(SERVING_TIMES)
        sites.append((where, serving))
        points.append(where)
        raw_stops.append(
            {
                "id": f"site-{number}",
                "kind": "site",
                "demand": rng.randint(2, 13),
                "window": [serving - 90 * MINUTE, serving - 10 * MINUTE],
                "service": SITE_SERVICE,
            }
        )
    for number in range(stops - site_count):
        (x, y), serving = rng.choice(sites)
        spread = rng.uniform(100, 1_500)
        angle = rng.uniform(0, 2 * math.pi)
        points.append((x + spread * math.cos(angle), y + spread * math.sin(angle)))
        raw_stops.append(
            {
                "id": f"home-{number}",
                "kind": "home",
                "demand": 1,
                "window": [serving - 30 * MINUTE, serving + 60 * MINUTE],
                "service": HOME_SERVICE,
            }
        )
    distances = [[round(DETOUR * math.dist(a, b)) for b in points] for a in points]
    durations = [[round(d / SPEED_M_PER_S) for d in row] for row in distances]
    fleet = math.ceil(
        stops / (shape.stops_per_van if waves == 1 else shape.stops_per_van_multi_trip)
    )
    return {
        "name": f"district-{stops}-{waves}w-s{seed}{shape.label()}",
        "waves": list(ONE_WAVE if waves == 1 else THREE_WAVES),
        "reload": RELOAD,
        "food_limit": rng.randint(100, 120) * MINUTE,
        "vehicles": [
            {
                "id": f"van-{n}",
                "capacity": VAN_BOXES,
                "start": SHIFT[0],
                "end": SHIFT[1],
                "fixed_cost": VAN_FIXED_COST,
            }
            for n in range(1, fleet + 1)
        ],
        "stops": raw_stops,
        "durations": durations,
        "distances": distances,
    }


@dataclass
class Checked:
    served: int
    unserved: int
    vans: int
    trips: int
    distance: int
    cost: int
    problems: list[str]


def check(instance: dict, solution: dict) -> Checked:
    """Every rule recomputed from the instance alone; ``problems`` lists what breaks."""
    stops = {stop["id"]: (number + 1, stop) for number, stop in enumerate(instance["stops"])}
    vehicles = {vehicle["id"]: vehicle for vehicle in instance["vehicles"]}
    durations, distances = instance["durations"], instance["distances"]
    waves, limit = instance["waves"], instance["food_limit"]
    problems: list[str] = []
    seen: set[str] = set()
    total_distance = trips_count = vans_used = fixed = 0
    for van in solution["vans"]:
        vehicle = vehicles.get(van["id"])
        if vehicle is None:
            problems.append(f"unknown van {van['id']}")
            continue
        trips = [trip for trip in van["trips"] if trip["stops"]]
        if not trips:
            continue
        vans_used += 1
        fixed += vehicle["fixed_cost"]
        free_at = vehicle["start"]
        for trip in sorted(trips, key=lambda trip: trip["departure"]):
            trips_count += 1
            departure = trip["departure"]
            ready = [wave for wave in waves if wave <= departure]
            if departure < free_at or not ready:
                problems.append(f"{van['id']} leaves at {departure} before it may")
                continue
            food_from = max(ready)
            load = sum(stops[stop_id][1]["demand"] for stop_id in trip["stops"] if stop_id in stops)
            if load > vehicle["capacity"]:
                problems.append(f"{van['id']} trip at {departure} carries {load} boxes")
            clock, here = departure, 0
            for stop_id in trip["stops"]:
                if stop_id not in stops or stop_id in seen:
                    problems.append(f"stop {stop_id} unknown or served twice")
                    continue
                seen.add(stop_id)
                there, stop = stops[stop_id]
                clock += durations[here][there]
                total_distance += distances[here][there]
                start, end = stop["window"]
                clock = max(clock, start)
                if clock > end:
                    problems.append(f"{stop_id} served at {clock}, window ends {end}")
                if limit is not None and clock > food_from + limit:
                    problems.append(f"{stop_id} served {clock - food_from} s after its food left")
                clock += stop["service"]
                here = there
            clock += durations[here][0]
            total_distance += distances[here][0]
            if clock > vehicle["end"]:
                problems.append(f"{van['id']} back at {clock}, shift ends {vehicle['end']}")
            free_at = clock + instance["reload"]
    return Checked(
        served=len(seen),
        unserved=len(stops) - len(seen),
        vans=vans_used,
        trips=trips_count,
        distance=total_distance,
        cost=fixed + total_distance,
        problems=problems,
    )
