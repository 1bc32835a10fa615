"""Output types: the production plan and its sheets, all immutable."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from msgspec import Struct

from kitchen.model import BoxKind, DestinationKind, DietVariant, ProcessingStep


class ProductionDestination(Struct, frozen=True, kw_only=True, gc=False):
    """A site, or a departure (van trip) for the home deliveries it carries."""

    kind: DestinationKind
    destination_id: str
    name: str


class DishPortions(Struct, frozen=True, kw_only=True, gc=False):
    """One line of the production sheet: a dish in one variant, all destinations."""

    dish_id: str
    dish_name: str
    variant: DietVariant
    portions: int
    allergens: frozenset[str]


class DestinationPortions(Struct, frozen=True, kw_only=True, gc=False):
    """Portions of a dish in one variant for one destination."""

    destination: ProductionDestination
    dish_id: str
    dish_name: str
    variant: DietVariant
    portions: int


class DishUse(Struct, frozen=True, kw_only=True, gc=False):
    """One dish variant drawing on an ingredient, and how much of it."""

    dish_id: str
    variant: DietVariant
    quantity: Decimal


class IngredientTotal(Struct, frozen=True, kw_only=True, gc=False):
    """What to draw from the store: one ingredient in one unit, summed over all dishes."""

    ingredient_id: str
    name: str
    unit: str
    quantity: Decimal
    allergens: frozenset[str]
    used_by: tuple[DishUse, ...]


class BatchAllocation(Struct, frozen=True, kw_only=True, gc=False):
    """Portions of a batch, in one variant, that go out on one departure.

    ``extra_steps`` (e.g. puréeing) follow cooking for these portions; ``ready_at`` is
    when they are done.
    """

    departure_id: str
    variant: DietVariant
    portions: int
    extra_steps: tuple[ProcessingStep, ...]
    ready_at: datetime


class Batch(Struct, frozen=True, kw_only=True, gc=False):
    """One load of one equipment unit: one dish, cooked at once.

    Variants cooked identically (regular rice and rice to be puréed) share a batch;
    ``allocations`` split it by departure and variant. The food-safety clock starts at
    ``cook_end`` (the conservative end, before extra steps); ``ready_at`` is when the
    last allocation is done. ``latest_eating_at`` and ``safety_limit`` are the binding
    stop's, so the sheet can show the margin.
    """

    batch_id: str
    wave_number: int
    dish_id: str
    dish_name: str
    variants: tuple[DietVariant, ...]
    portions: int
    equipment_kind: str
    equipment_unit: int
    cook_start: datetime
    cook_end: datetime
    ready_at: datetime
    latest_eating_at: datetime
    safety_limit: timedelta
    allocations: tuple[BatchAllocation, ...]


class CookingWave(Struct, frozen=True, kw_only=True, gc=False):
    """Batches that must be ready for the departures leaving at ``departs_at``."""

    wave_number: int
    departs_at: datetime
    departure_ids: tuple[str, ...]
    batch_ids: tuple[str, ...]


class SafetyViolation(Struct, frozen=True, kw_only=True, gc=False):
    """A batch whose food would be eaten ``excess`` after the food-safety limit."""

    batch_id: str
    dish_id: str
    dish_name: str
    variant: DietVariant
    departure_id: str
    stop_id: str
    cook_end: datetime
    eating_at: datetime
    limit: timedelta
    excess: timedelta


class SampleEntry(Struct, frozen=True, kw_only=True, gc=False):
    """One line of the 留样 log (GB 31654-2021); ``staff`` is signed on paper."""

    batch_id: str
    dish_id: str
    dish_name: str
    variants: tuple[DietVariant, ...]
    sampled_at: datetime
    grams: int
    discard_at: datetime
    staff: str = ""


class BoxItem(Struct, frozen=True, kw_only=True, gc=False):
    """Portions of one dish in a box."""

    dish_id: str
    dish_name: str
    portions: int


class Box(Struct, frozen=True, kw_only=True, gc=False):
    """A hot or cold box; it holds one variant only, and one home delivery only.

    ``box_number`` is its label number, unique over the whole plan.

    Variants are never mixed so a halal or allergen-free portion cannot pick up
    anything from a regular one, and counter staff hand out by box.
    """

    box_number: int
    variant: DietVariant
    delivery_id: str | None
    items: tuple[BoxItem, ...]
    kind: BoxKind = BoxKind.HOT

    @property
    def portions(self) -> int:
        """Total portions in the box."""
        return sum(item.portions for item in self.items)


WALK_SEPARATOR = "·"


def stop_number(stop_sequence: int | None, walk_sequence: int | None = None) -> str:
    """A stop's number as every sheet prints it: ``3`` for the van's third stop, ``3·2`` for
    the second home on the walking list of the meal point at stop 3 (its boxes ride there),
    ``-`` for a stop on no route. One spelling, so a driver and a packer never see one
    number on two stops."""
    if stop_sequence is None:
        return "-"
    if walk_sequence is None:
        return str(stop_sequence)
    return f"{stop_sequence}{WALK_SEPARATOR}{walk_sequence}"


class StopPacking(Struct, frozen=True, kw_only=True, gc=False):
    """What to unload at one stop, special-diet boxes first; a walking-list home's boxes
    ride to its meal point's stop (``walk_sequence``: its place on the walk)."""

    stop_id: str
    stop_name: str
    kind: DestinationKind
    stop_sequence: int | None
    eating_at: datetime
    boxes: tuple[Box, ...]
    walk_sequence: int | None = None

    @property
    def stop_number(self) -> str:
        return stop_number(self.stop_sequence, self.walk_sequence)

    @property
    def portions(self) -> int:
        """Total portions unloaded here."""
        return sum(box.portions for box in self.boxes)


class VanPacking(Struct, frozen=True, kw_only=True, gc=False):
    """The packing list of one departure, stops in delivery order."""

    departure_id: str
    van_id: str
    departs_at: datetime
    stops: tuple[StopPacking, ...]


class LabelItem(Struct, frozen=True, kw_only=True, gc=False):
    """One dish on a home-delivery label."""

    dish_id: str
    dish_name: str
    variant: DietVariant
    portions: int


class HomeDeliveryLabel(Struct, frozen=True, kw_only=True, gc=False):
    """The label of one home delivery; ``variants`` come special-first for the headline."""

    delivery_id: str
    departure_id: str
    van_id: str
    stop_id: str
    stop_sequence: int | None
    name: str
    address: str
    phone: str
    diet_notes: str
    texture: str
    variants: tuple[DietVariant, ...]
    items: tuple[LabelItem, ...]
    allergens: frozenset[str]
    box_numbers: tuple[int, ...]
    walk_sequence: int | None = None

    @property
    def stop_number(self) -> str:
        return stop_number(self.stop_sequence, self.walk_sequence)

    @property
    def is_special(self) -> bool:
        """Whether this label goes first: any special variant, texture or diet note."""
        return bool(self.texture or self.diet_notes or any(v.is_special for v in self.variants))


class ProductionPlan(Struct, frozen=True, kw_only=True, gc=False):
    """Everything the kitchen needs for one service, sheets already in display order.

    A plan with violations is only ever seen as ``InfeasiblePlanError.draft`` or when
    asked for explicitly; check ``is_feasible`` before cooking from it.
    """

    total_portions: int
    dishes: tuple[DishPortions, ...]
    destinations: tuple[DestinationPortions, ...]
    ingredients: tuple[IngredientTotal, ...]
    batches: tuple[Batch, ...]
    waves: tuple[CookingWave, ...]
    samples: tuple[SampleEntry, ...]
    packing: tuple[VanPacking, ...]
    labels: tuple[HomeDeliveryLabel, ...]
    violations: tuple[SafetyViolation, ...]

    @property
    def is_feasible(self) -> bool:
        """True when every batch meets the food-safety limit."""
        return not self.violations
