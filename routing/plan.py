"""The solver's answer: trips per van, ETAs, loads, and the stops it could not serve."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing.model import Load


class UnservedReason(StrEnum):
    """Why a stop is not in the plan. The first four hold for the stop on its own."""

    OVER_CAPACITY = "over_capacity"
    """No van can carry the stop's boxes, even empty."""
    BEYOND_FOOD_SAFETY_LIMIT = "beyond_food_safety_limit"
    """Too far (or its window too late after every wave) for the food-safety limit."""
    WINDOW_UNREACHABLE = "window_unreachable"
    """No wave lets a van arrive before the window closes."""
    AFTER_SHIFT_END = "after_shift_end"
    """A van could serve it, but not be back at the kitchen before its shift ends."""
    FLEET_TOO_SMALL = "fleet_too_small"
    """Feasible on its own, but no room for it next to the other stops."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop on a trip; times in seconds since local midnight."""

    stop_id: str
    arrival: int
    service_start: int
    departure: int
    time_since_departure: int
    """Seconds between the trip leaving the kitchen and ``service_start``."""
    load_before: Load
    """Boxes on board when the van arrives here."""
    distance_from_previous: int
    food_wave: int
    """The departure wave whose food this stop gets (at or before the trip's departure):
    the food-safety limit counts from it."""


@dataclass(frozen=True, slots=True)
class Trip:
    """One departure from the kitchen and the return to it."""

    departure: int
    return_time: int
    visits: tuple[Visit, ...]
    load: Load
    """Boxes loaded at the kitchen for this trip."""
    distance: int


@dataclass(frozen=True, slots=True)
class VehicleRoute:
    """The trips of one van in time order."""

    vehicle_id: str
    trips: tuple[Trip, ...]

    @property
    def distance(self) -> int:
        return sum(trip.distance for trip in self.trips)


class Remedy(StrEnum):
    """What would serve an unserved stop, as a dispatcher can act on it."""

    ONE_MORE_VAN = "one_more_van"
    """Another van (or another trip of one) would carry it: the stop fits on a trip alone."""
    LATER_WAVE = "later_wave"
    """A departure wave at ``remedy_time`` or later (its window opens too late after every
    wave for the food-safety limit)."""
    EARLIER_WAVE = "earlier_wave"
    """A departure wave at ``remedy_time`` or earlier would reach it inside its window."""
    WIDER_WINDOW = "wider_window"
    """A window closing at ``remedy_time`` or later (the earliest a van can be there)."""
    MEAL_POINT_DROP = "meal_point_drop"
    """Too far from the kitchen for the food-safety limit: hand it over at a meal point."""
    HOT_HOLDING_VAN = "hot_holding_van"
    """Too far for the food-safety limit: a van that holds food at 60 °C or more."""
    LARGER_VAN = "larger_van"
    """More boxes than the largest van holds: split it or send a larger van."""
    LONGER_SHIFT = "longer_shift"
    """A van shift ending at ``remedy_time`` or later."""


@dataclass(frozen=True, slots=True)
class UnservedStop:
    stop_id: str
    reason: UnservedReason
    detail: str
    """The reason and the remedy in English words (pages translate from the fields)."""
    remedy: Remedy | None = None
    remedy_time: int | None = None
    """Seconds since local midnight, for the remedies that name a time."""


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """Vans used (only those with at least one trip) and the unserved stops."""

    routes: tuple[VehicleRoute, ...]
    unserved: tuple[UnservedStop, ...]
    cost: int
    """Objective value: fixed costs of the vans used plus travel cost."""

    @property
    def vehicles_used(self) -> int:
        return len(self.routes)

    @property
    def distance(self) -> int:
        return sum(route.distance for route in self.routes)

    @property
    def served_stop_ids(self) -> tuple[str, ...]:
        return tuple(
            visit.stop_id for route in self.routes for trip in route.trips for visit in trip.visits
        )
