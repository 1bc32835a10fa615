"""Solomon (1987) VRPTW instances: reading the text format and the DIMACS convention.

DIMACS convention (CVRPLIB, DIMACS 2021): every arc is ``floor(10 * euclid) / 10``
and travel time equals distance. Inside the solver everything is scaled by
:data:`DIMACS_SCALE` to integers, which makes the truncation exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from routing.model import Depot, Load, Problem, Stop, StopKind, TimeWindow, TravelMatrix, Vehicle
from routing.params import SolveParams

DIMACS_SCALE = 10
SOLOMON_ROW_FIELDS = 7


@dataclass(frozen=True, slots=True)
class SolomonCustomer:
    number: int
    x: int
    y: int
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True, slots=True)
class SolomonInstance:
    """Row 0 of ``customers`` is the depot; its due date is the horizon."""

    name: str
    vehicle_count: int
    capacity: int
    customers: tuple[SolomonCustomer, ...]


def parse_solomon(text: str) -> SolomonInstance:
    """Parse the original Solomon text format (name, VEHICLE block, CUSTOMER table)."""
    lines = [line.split() for line in text.splitlines()]
    name = next(fields[0] for fields in lines if fields)
    vehicle_count = capacity = None
    customers = []
    for position, fields in enumerate(lines):
        if fields[:1] == ["NUMBER"] and vehicle_count is None:
            vehicle_count, capacity = (int(value) for value in lines[position + 1][:2])
        elif len(fields) == SOLOMON_ROW_FIELDS and all(_is_int(value) for value in fields):
            customers.append(SolomonCustomer(*(int(value) for value in fields)))
    if vehicle_count is None or capacity is None or not customers:
        raise ValueError(f"{name}: not a Solomon instance (no VEHICLE block or customer rows)")
    if customers[0].demand != 0:
        raise ValueError(f"{name}: the first customer row must be the depot")
    return SolomonInstance(name, vehicle_count, capacity, tuple(customers))


def read_solomon(path: str | Path) -> SolomonInstance:
    return parse_solomon(Path(path).read_text())


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def dimacs_arc(a: SolomonCustomer, b: SolomonCustomer) -> int:
    """``floor(DIMACS_SCALE * euclid)`` computed exactly with integer square roots."""
    squared = (a.x - b.x) ** 2 + (a.y - b.y) ** 2
    return math.isqrt(DIMACS_SCALE * DIMACS_SCALE * squared)


def to_problem(instance: SolomonInstance) -> Problem:
    """The instance as a :class:`Problem`: distance only, vehicles free, scaled x10."""
    depot, *customers = instance.customers
    horizon = depot.due * DIMACS_SCALE
    matrix = tuple(tuple(dimacs_arc(a, b) for b in instance.customers) for a in instance.customers)
    vehicles = tuple(
        Vehicle(
            id=str(number),
            capacity=Load(instance.capacity),
            earliest_start=depot.ready * DIMACS_SCALE,
            shift_end=horizon,
        )
        for number in range(1, instance.vehicle_count + 1)
    )
    stops = tuple(
        Stop(
            id=str(customer.number),
            kind=StopKind.HOME_DELIVERY,
            demand=Load(customer.demand),
            window=TimeWindow(customer.ready * DIMACS_SCALE, customer.due * DIMACS_SCALE),
            service_duration=customer.service * DIMACS_SCALE,
        )
        for customer in customers
    )
    return Problem(
        depot=Depot(departure_waves=(depot.ready * DIMACS_SCALE,)),
        vehicles=vehicles,
        stops=stops,
        travel=TravelMatrix(durations=matrix, distances=matrix),
        name=instance.name,
    )


def solomon_params(instance: SolomonInstance) -> SolveParams:
    """Search settings for a Solomon instance: the defaults, whatever its name or class
    (the search takes what it needs from the data, never from a benchmark's name)."""
    del instance
    return SolveParams()
