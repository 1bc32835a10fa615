"""Builders for small hand-made routing problems on a plane (metres, 1 m/s)."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
)

ALL_DAY = TimeWindow(0, 100_000)


def euclidean_matrix(points: Sequence[tuple[int, int]]) -> TravelMatrix:
    """Metres on a plane, driven at 1 m/s: duration equals distance."""
    metres = tuple(tuple(round(math.dist(a, b)) for b in points) for a in points)
    return TravelMatrix(durations=metres, distances=metres)


def stop(
    stop_id: str,
    *,
    boxes: int = 1,
    cold_boxes: int = 0,
    window: TimeWindow = ALL_DAY,
    service: int = 0,
    limit: int | None = None,
    kind: StopKind = StopKind.HOME_DELIVERY,
) -> Stop:
    return Stop(
        id=stop_id,
        kind=kind,
        demand=Load(boxes, cold_boxes),
        window=window,
        service_duration=service,
        max_time_since_departure=limit,
    )


def van(
    van_id: str = "van-1",
    *,
    boxes: int = 10,
    cold_boxes: int = 0,
    start: int = 0,
    shift_end: int = 100_000,
    fixed_cost: int = 0,
) -> Vehicle:
    return Vehicle(
        id=van_id,
        capacity=Load(boxes, cold_boxes),
        earliest_start=start,
        shift_end=shift_end,
        fixed_cost=fixed_cost,
    )


def plane_problem(
    sites: dict[str, tuple[int, int]],
    stops: Sequence[Stop],
    vehicles: Sequence[Vehicle],
    *,
    waves: tuple[int, ...] = (0,),
    reload: int = 0,
) -> Problem:
    """Kitchen at (0, 0); ``sites`` gives each stop's position in metres."""
    points = [(0, 0), *(sites[s.id] for s in stops)]
    return Problem(
        depot=Depot(departure_waves=waves, reload_duration=reload),
        vehicles=tuple(vehicles),
        stops=tuple(stops),
        travel=euclidean_matrix(points),
    )


def visit_order(plan: RoutePlan) -> list[list[str]]:
    return [
        [visit.stop_id for visit in trip.visits] for route in plan.routes for trip in route.trips
    ]
