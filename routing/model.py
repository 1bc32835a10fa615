"""Problem data for the delivery router: plain, immutable, integer-valued.

Times are integer seconds since local midnight of the delivery day, distances are
integer metres, loads are integer boxes. Location 0 of the travel matrix is the
central kitchen (the depot); location ``i`` (1-based) is ``stops[i - 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class StopKind(StrEnum):
    """What a stop is; informs the driver sheet, not the maths."""

    SITE_DROP = "site_drop"
    HOME_DELIVERY = "home_delivery"


class Objective(StrEnum):
    """What the solver minimises after the fixed cost of the vans used."""

    DISTANCE = "distance"
    DURATION = "duration"


@dataclass(frozen=True, slots=True)
class Coordinates:
    """A WGS84 point; only the travel-time providers look at it."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Load:
    """Boxes on board: insulated (hot) boxes and, where a fleet has them, cold boxes."""

    boxes: int = 0
    cold_boxes: int = 0

    def __post_init__(self) -> None:
        if self.boxes < 0 or self.cold_boxes < 0:
            raise ValueError(f"a load cannot be negative: {self}")

    def __add__(self, other: Load) -> Load:
        return Load(self.boxes + other.boxes, self.cold_boxes + other.cold_boxes)

    def __sub__(self, other: Load) -> Load:
        return Load(self.boxes - other.boxes, self.cold_boxes - other.cold_boxes)

    def fits_in(self, capacity: Load) -> bool:
        """True when every dimension of this load is within ``capacity``."""
        return self.boxes <= capacity.boxes and self.cold_boxes <= capacity.cold_boxes


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Closed interval ``[start, end]`` in seconds since local midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"time window ends before it starts: {self}")


@dataclass(frozen=True, slots=True)
class Depot:
    """The central kitchen: vans leave only at its departure waves.

    ``reload_duration`` is the time a van needs at the kitchen between two trips
    (unload empties, load the next wave's boxes). ``early_cooking``, one number per
    departure wave (or empty), is how many seconds earlier than the wave's packing lead
    the kitchen has to finish cooking that wave's food (its equipment is shared): every
    stop's food budget on that wave is that much shorter.
    """

    departure_waves: tuple[int, ...]
    reload_duration: int = 0
    name: str = "central kitchen"
    location: Coordinates | None = None
    early_cooking: tuple[int, ...] = ()

    def food_budget(self, stop: Stop, wave: int) -> int | None:
        """Seconds from departure on ``wave`` to the start of service at ``stop``, at most."""
        limit = stop.max_time_since_departure
        if limit is None or not self.early_cooking:
            return limit
        return max(0, limit - self.early_cooking[self.departure_waves.index(wave)])

    def __post_init__(self) -> None:
        if not self.departure_waves:
            raise ValueError("the depot needs at least one departure wave")
        if list(self.departure_waves) != sorted(set(self.departure_waves)):
            raise ValueError("departure waves must be strictly increasing")
        if self.reload_duration < 0:
            raise ValueError("reload_duration cannot be negative")
        if self.early_cooking and (
            len(self.early_cooking) != len(self.departure_waves) or min(self.early_cooking) < 0
        ):
            raise ValueError("early_cooking needs one non-negative number per departure wave")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A van. It may leave on several waves; each departure is one trip.

    ``fixed_cost`` is paid once per van used, whatever its number of trips, and
    should dominate the travel costs to get "fewest vans first".
    """

    id: str
    capacity: Load
    earliest_start: int
    shift_end: int
    fixed_cost: int = 0
    cost_per_metre: int = 1

    def __post_init__(self) -> None:
        if self.shift_end < self.earliest_start:
            raise ValueError(f"vehicle {self.id}: shift ends before it starts")
        if self.fixed_cost < 0 or self.cost_per_metre < 0:
            raise ValueError(f"vehicle {self.id}: costs cannot be negative")


@dataclass(frozen=True, slots=True)
class Stop:
    """A site drop or a home delivery.

    ``window`` bounds the start of service (for a site drop: the window before its
    serving time opens). ``max_time_since_departure`` is the food-safety limit
    minus kitchen-side time: service must start at most that many seconds after
    the van left the kitchen; ``None`` means no limit. ``earliest_departure`` is the
    earliest a trip carrying the stop's food may leave: the kitchen cooks only after the
    bookings are frozen, so food that takes long to cook rides on a later wave.
    """

    id: str
    kind: StopKind
    demand: Load
    window: TimeWindow
    service_duration: int = 0
    max_time_since_departure: int | None = None
    location: Coordinates | None = None
    earliest_departure: int = 0

    def __post_init__(self) -> None:
        if self.service_duration < 0:
            raise ValueError(f"stop {self.id}: service_duration cannot be negative")
        if self.max_time_since_departure is not None and self.max_time_since_departure < 0:
            raise ValueError(f"stop {self.id}: max_time_since_departure cannot be negative")


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Square matrices over locations (0 = depot): seconds and metres."""

    durations: tuple[tuple[int, ...], ...]
    distances: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        size = len(self.durations)
        for name, matrix in (("durations", self.durations), ("distances", self.distances)):
            if len(matrix) != size or any(len(row) != size for row in matrix):
                raise ValueError(f"travel matrix {name} must be square and of equal size")
            if any(value < 0 for row in matrix for value in row):
                raise ValueError(f"travel matrix {name} cannot hold negative values")

    @property
    def size(self) -> int:
        return len(self.durations)


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the solver needs; build it, then call :func:`routing.solve`."""

    depot: Depot
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    travel: TravelMatrix
    objective: Objective = Objective.DISTANCE
    name: str = field(default="")

    def __post_init__(self) -> None:
        if self.travel.size != len(self.stops) + 1:
            raise ValueError(
                f"travel matrix has {self.travel.size} locations, "
                f"expected {len(self.stops) + 1} (depot + stops)"
            )
        for kind, ids in (
            ("vehicle", [vehicle.id for vehicle in self.vehicles]),
            ("stop", [stop.id for stop in self.stops]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{kind} ids must be unique")
