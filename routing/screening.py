"""Which stops could be served at all, one at a time, and by which trips.

A stop that no single trip can serve on its own is reported with the first
reason that rules it out, so the plan tells the truth about what cannot be done.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.model import Problem, Stop, StopKind, Vehicle
from routing.plan import Remedy, UnservedReason, UnservedStop

SECONDS_PER_MINUTE = 60


@dataclass(frozen=True, slots=True)
class TripSlot:
    """A van leaving the kitchen at one departure wave."""

    vehicle_index: int
    wave: int


@dataclass(frozen=True, slots=True)
class Screening:
    allowed_slots: dict[int, tuple[int, ...]]
    """Stop index -> indices into ``slots`` that can serve the stop alone."""
    unserved: tuple[UnservedStop, ...]


def trip_slots(problem: Problem) -> tuple[TripSlot, ...]:
    """Every (van, wave) pair the van's shift allows."""
    return tuple(
        TripSlot(vehicle_index, wave)
        for vehicle_index, vehicle in enumerate(problem.vehicles)
        for wave in problem.depot.departure_waves
        if vehicle.earliest_start <= wave <= vehicle.shift_end
    )


def screen_stops(problem: Problem, slots: tuple[TripSlot, ...]) -> Screening:
    allowed: dict[int, tuple[int, ...]] = {}
    unserved: list[UnservedStop] = []
    # Vans alike in what the check reads serve the same stops: check each kind once
    # (a Homberger fleet of 250 identical vans made this 2 s of a 60 s limit).
    kind_numbers: dict[tuple[object, ...], int] = {}
    kinds = [
        kind_numbers.setdefault(_slot_kind(problem, slot), len(kind_numbers)) for slot in slots
    ]
    first_of_kind = {kind: slots[kinds.index(kind)] for kind in kind_numbers.values()}
    for stop_index, _stop in enumerate(problem.stops):
        serves = [_serves_alone(problem, stop_index, first_of_kind[kind]) for kind in first_of_kind]
        fitting = [slot_index for slot_index, kind in enumerate(kinds) if serves[kind]]
        if fitting:
            allowed[stop_index] = tuple(fitting)
        else:
            unserved.append(_explain(problem, stop_index, slots))
    return Screening(allowed, tuple(unserved))


def _slot_kind(problem: Problem, slot: TripSlot) -> tuple[object, ...]:
    """What :func:`_serves_alone` reads of a slot."""
    vehicle = problem.vehicles[slot.vehicle_index]
    return (vehicle.capacity, vehicle.shift_end, slot.wave)


def _service_start(problem: Problem, stop_index: int, wave: int) -> int:
    stop = problem.stops[stop_index]
    arrival = wave + problem.travel.durations[0][stop_index + 1]
    return max(arrival, stop.window.start)


def _within_food_limit(problem: Problem, stop: Stop, service_start: int, wave: int) -> bool:
    limit = problem.depot.food_budget(stop, wave)
    return limit is None or service_start - wave <= limit


def _back_before_shift_end(problem: Problem, stop_index: int, start: int, vehicle: Vehicle) -> bool:
    stop = problem.stops[stop_index]
    back = start + stop.service_duration + problem.travel.durations[stop_index + 1][0]
    return back <= vehicle.shift_end


def _serves_alone(problem: Problem, stop_index: int, slot: TripSlot) -> bool:
    stop = problem.stops[stop_index]
    vehicle = problem.vehicles[slot.vehicle_index]
    start = _service_start(problem, stop_index, slot.wave)
    return (
        stop.demand.fits_in(vehicle.capacity)
        and slot.wave >= stop.earliest_departure
        and start <= stop.window.end
        and _within_food_limit(problem, stop, start, slot.wave)
        and _back_before_shift_end(problem, stop_index, start, vehicle)
    )


def _minutes(seconds: int) -> str:
    return f"{seconds / SECONDS_PER_MINUTE:.0f} min"


def clock_time(seconds: int) -> str:
    """``37800`` -> ``"10:30"`` (seconds since local midnight)."""
    minutes = seconds // SECONDS_PER_MINUTE
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def dropped_stop(problem: Problem, stop_index: int) -> UnservedStop:
    """A stop each trip could serve alone, left out for want of room beside the others."""
    return UnservedStop(
        problem.stops[stop_index].id,
        UnservedReason.FLEET_TOO_SMALL,
        "each rule can be met on its own, but not together with the other stops: "
        "one more van (or one more trip) would serve it",
        Remedy.ONE_MORE_VAN,
    )


def _its_food_ready(stop: Stop) -> str:
    if not stop.earliest_departure:
        return ""
    return f"its food is ready for (packed by {clock_time(stop.earliest_departure)}) "


def _explain(problem: Problem, stop_index: int, slots: tuple[TripSlot, ...]) -> UnservedStop:
    stop = problem.stops[stop_index]
    drive = problem.travel.durations[0][stop_index + 1]
    limit = stop.max_time_since_departure
    if not slots:
        return UnservedStop(
            stop.id,
            UnservedReason.FLEET_TOO_SMALL,
            "no van's shift covers any departure wave: one more van would serve it",
            Remedy.ONE_MORE_VAN,
        )
    big_enough = [
        slot for slot in slots if stop.demand.fits_in(problem.vehicles[slot.vehicle_index].capacity)
    ]
    if not big_enough:
        largest = max(vehicle.capacity.boxes for vehicle in problem.vehicles)
        return UnservedStop(
            stop.id,
            UnservedReason.OVER_CAPACITY,
            f"needs {stop.demand.boxes} boxes and {stop.demand.cold_boxes} cold boxes; "
            f"the largest van holds {largest} boxes: split it or send a larger van",
            Remedy.LARGER_VAN,
        )
    if limit is not None and drive > limit:
        remedy = (
            Remedy.MEAL_POINT_DROP
            if stop.kind is StopKind.HOME_DELIVERY
            else Remedy.HOT_HOLDING_VAN
        )
        advice = (
            "hand it over at the senior's meal point"
            if remedy is Remedy.MEAL_POINT_DROP
            else "send it in a van that holds the food hot"
        )
        return UnservedStop(
            stop.id,
            UnservedReason.BEYOND_FOOD_SAFETY_LIMIT,
            f"the direct drive takes {_minutes(drive)}; "
            f"the food-safety limit allows {_minutes(limit)}: {advice}",
            remedy,
        )
    ready = [slot for slot in big_enough if slot.wave >= stop.earliest_departure]
    if not ready:
        return UnservedStop(
            stop.id,
            UnservedReason.WINDOW_UNREACHABLE,
            f"its food is cooked after the bookings are frozen and packed at "
            f"{clock_time(stop.earliest_departure)} at the earliest, after the last wave: "
            f"a wave leaving at {clock_time(stop.earliest_departure)} or later, or an earlier "
            "freeze, would serve it",
            Remedy.LATER_WAVE,
            stop.earliest_departure,
        )
    big_enough = ready
    starts = [(slot, _service_start(problem, stop_index, slot.wave)) for slot in big_enough]
    in_window = [(slot, start) for slot, start in starts if start <= stop.window.end]
    if not in_window:
        earliest = min(start for _slot, start in starts)
        return UnservedStop(
            stop.id,
            UnservedReason.WINDOW_UNREACHABLE,
            f"the earliest arrival after any wave {_its_food_ready(stop)}is "
            f"{clock_time(earliest)}, after its window closes at "
            f"{clock_time(stop.window.end)}: a wave leaving by "
            f"{clock_time(stop.window.end - drive)} or a window open until "
            f"{clock_time(earliest)} would serve it",
            Remedy.EARLIER_WAVE,
            stop.window.end - drive,
        )
    safe = [
        (slot, start)
        for slot, start in in_window
        if _within_food_limit(problem, stop, start, slot.wave)
    ]
    if not safe and any(limit is None or start - slot.wave <= limit for slot, start in in_window):
        return UnservedStop(
            stop.id,
            UnservedReason.BEYOND_FOOD_SAFETY_LIMIT,
            "the kitchen's shared equipment finishes the food of every wave that reaches it "
            "too early for the food-safety limit: more cooking equipment, fewer separate "
            "diet batches on that wave, or a later wave would serve it",
            Remedy.LATER_WAVE,
        )
    if not safe:
        wave_needed = stop.window.start - (limit or 0)
        return UnservedStop(
            stop.id,
            UnservedReason.BEYOND_FOOD_SAFETY_LIMIT,
            f"its window opens more than {_minutes(limit or 0)} after every departure wave: "
            f"a wave leaving at {clock_time(wave_needed)} or later would serve it",
            Remedy.LATER_WAVE,
            wave_needed,
        )
    back = min(
        start + stop.service_duration + problem.travel.durations[stop_index + 1][0]
        for _slot, start in safe
    )
    return UnservedStop(
        stop.id,
        UnservedReason.AFTER_SHIFT_END,
        f"no van could serve it and be back at the kitchen before its shift ends: "
        f"a shift until {clock_time(back)} would serve it",
        Remedy.LONGER_SHIFT,
        back,
    )
