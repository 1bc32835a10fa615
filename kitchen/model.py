"""Input types of the planning core: recipes, order lines, departures and kitchen settings.

All are frozen, keyword-only records so the service can build them from database rows and
the core can trust them not to change under it. They are ``msgspec.Struct`` rather than
dataclasses: as cheap to build as a tuple (a plan builds several per home delivery) and not
tracked by the garbage collector, with the same fields, keywords and JSON shape. Times must
be timezone-aware: a site may sit in another time zone than the kitchen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from msgspec import Struct, field
from msgspec.structs import force_setattr

DEFAULT_SAFETY_LIMIT = timedelta(hours=2)
DEFAULT_HOT_HELD_SAFETY_LIMIT = timedelta(hours=4)
DEFAULT_HOT_HOLDING_MIN_CELSIUS = 60.0
DEFAULT_PACKING_LEAD_TIME = timedelta(minutes=15)
DEFAULT_SAMPLE_GRAMS = 125
DEFAULT_SAMPLE_RETENTION = timedelta(hours=48)
DEFAULT_BOX_CAPACITY_PORTIONS = 12
DEFAULT_COLD_BOX_CAPACITY_PORTIONS = 12
DEFAULT_UNIT = "g"


class DietVariant(StrEnum):
    """A diet variant of a dish. Declaration order is display order: riskiest first.

    Special diets come first on every sheet because a dropped special diet can hurt a
    senior, while a dropped regular portion only makes one hungry.
    """

    ALLERGEN_FREE = "allergen_free"
    HALAL = "halal"
    PUREE = "puree"
    MINCED = "minced"
    SOFT = "soft"
    LOW_SUGAR = "low_sugar"
    LOW_SALT = "low_salt"
    REGULAR = "regular"

    @property
    def is_special(self) -> bool:
        """Whether this variant must be shown first and packed apart."""
        return self is not DietVariant.REGULAR

    @property
    def display_rank(self) -> int:
        """Sort key putting special diets first, in declaration order."""
        return VARIANT_RANK[self]


VARIANT_RANK = {variant: rank for rank, variant in enumerate(DietVariant)}
"""Display rank of each variant, for sorting hot paths without a property call."""
DEFAULT_SEPARATE_COOKING_VARIANTS = frozenset({DietVariant.HALAL, DietVariant.ALLERGEN_FREE})


class BoxKind(StrEnum):
    """An insulated box that keeps heat, or a cold box (chilled dishes never ride hot)."""

    HOT = "hot"
    COLD = "cold"


class DestinationKind(StrEnum):
    """Where an order line goes: a site drop (canteen, meal point) or a senior's home."""

    SITE = "site"
    HOME = "home"


def _as_decimal(value: Decimal | int | float | str) -> Decimal:
    """Keep Decimal inside so sums of grams are exact; a float is read by its shortest repr."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")


def _frozen_mapping(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


class Ingredient(Struct, frozen=True, kw_only=True, gc=False):
    """A stock item. Allergens live here so a dish's allergens follow from its recipe.

    ``halal`` defaults to False on purpose: an ingredient must be confirmed halal before
    any halal variant may use it.
    """

    ingredient_id: str
    name: str
    allergens: frozenset[str] = frozenset()
    halal: bool = False


class RecipeLine(Struct, frozen=True, kw_only=True, gc=False):
    """Quantity of one ingredient for the recipe's ``yield_portions`` portions."""

    ingredient: Ingredient
    quantity: Decimal
    unit: str = DEFAULT_UNIT

    def __post_init__(self) -> None:
        quantity = _as_decimal(self.quantity)
        if quantity < 0:
            raise ValueError(f"negative quantity for {self.ingredient.ingredient_id}")
        force_setattr(self, "quantity", quantity)


class ProcessingStep(Struct, frozen=True, kw_only=True, gc=False):
    """A step after cooking, e.g. puréeing for IDDSI level 4; it delays readiness."""

    name: str
    duration: timedelta


class VariantChange(Struct, frozen=True, kw_only=True, gc=False):
    """How a diet variant changes the base recipe.

    An empty change means the base recipe already suits the variant; a variant with no
    change declared at all cannot be ordered (so a halal order never silently gets pork).
    ``remove`` drops ingredients by id; ``set_lines`` replaces the line of the same
    ingredient and unit or adds a new one (less salt, a different protein).
    """

    remove: frozenset[str] = frozenset()
    set_lines: tuple[RecipeLine, ...] = ()
    extra_steps: tuple[ProcessingStep, ...] = ()


class Recipe(Struct, frozen=True, kw_only=True, gc=False):
    """A dish's base recipe and the diet variants it can be cooked in.

    ``cook_time`` occupies one unit of ``equipment_kind`` per batch whatever the batch
    size; ``served_hot`` False (cold dishes) never earns the hot-holding limit.
    """

    dish_id: str
    dish_name: str
    lines: tuple[RecipeLine, ...]
    cook_time: timedelta
    equipment_kind: str
    yield_portions: int = 1
    served_hot: bool = True
    variants: Mapping[DietVariant, VariantChange] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.yield_portions <= 0:
            raise ValueError(f"yield_portions must be positive for {self.dish_id}")
        force_setattr(self, "variants", _frozen_mapping(self.variants))


class Destination(Struct, frozen=True, kw_only=True, gc=False):
    """Where portions go: a stop of one departure (van trip).

    For a site, ``stop_id`` is the site id; for a home delivery it is the home stop (an
    address; two seniors living together share it). A home on a meal point's walking list
    rides to the meal point: ``stop_sequence`` is the van's stop there and ``walk_sequence``
    its place on the walk, so no two stops of a trip carry the same number.
    """

    kind: DestinationKind
    departure_id: str
    stop_id: str
    stop_name: str
    stop_sequence: int | None = None
    walk_sequence: int | None = None


class HomeRecipient(Struct, frozen=True, kw_only=True, gc=False):
    """Label data of one home delivery; ``delivery_id`` identifies one label."""

    delivery_id: str
    name: str
    address: str
    phone: str = ""
    diet_notes: str = ""
    texture: str = ""


class OrderLine(Struct, frozen=True, kw_only=True, gc=False):
    """``portions`` of a menu item (one dish or a set meal) in one variant to one stop.

    Site lines should be pre-aggregated (one line per menu item, variant and stop) so
    planning stays linear in lines, not bookings; home lines carry their recipient.
    """

    menu_item_id: str
    menu_item_name: str
    dish_ids: tuple[str, ...]
    variant: DietVariant
    destination: Destination
    portions: int
    recipient: HomeRecipient | None = None

    def __post_init__(self) -> None:
        if not self.dish_ids:
            raise ValueError(f"menu item {self.menu_item_id} has no dishes")
        if self.portions < 0:
            raise ValueError(f"negative portions on menu item {self.menu_item_id}")
        is_home = self.destination.kind is DestinationKind.HOME
        if is_home and self.recipient is None:
            raise ValueError(f"home delivery of {self.menu_item_id} has no recipient")
        if not is_home and self.recipient is not None:
            raise ValueError(f"site drop of {self.menu_item_id} must not have a recipient")


class StopTiming(Struct, frozen=True, kw_only=True, gc=False):
    """When the meals of one stop are eaten.

    Give ``eating_at`` (a site's serving start) or ``travel_time`` from departure (home
    deliveries are eaten on arrival), or both: eating is then the later of the two.
    """

    stop_id: str
    eating_at: datetime | None = None
    travel_time: timedelta | None = None

    def __post_init__(self) -> None:
        if self.eating_at is None and self.travel_time is None:
            raise ValueError(f"stop {self.stop_id} needs eating_at or travel_time")
        if self.eating_at is not None:
            _require_aware(self.eating_at, f"eating_at of stop {self.stop_id}")

    def eating_time(self, departs_at: datetime) -> datetime:
        """The latest of the stated eating time and the arrival."""
        eating_at = self.eating_at
        if self.travel_time is None:
            assert eating_at is not None
            return eating_at
        arrival = departs_at + self.travel_time
        return arrival if eating_at is None or arrival > eating_at else eating_at


class Departure(Struct, frozen=True, kw_only=True, gc=False):
    """One van trip. ``holding_celsius`` is the temperature its boxes keep food at, if any."""

    departure_id: str
    van_id: str
    departs_at: datetime
    stops: tuple[StopTiming, ...]
    holding_celsius: float | None = None

    def __post_init__(self) -> None:
        _require_aware(self.departs_at, f"departs_at of departure {self.departure_id}")


class Equipment(Struct, frozen=True, kw_only=True, gc=False):
    """Units of one equipment kind (steamer, wok, oven) and what one batch holds."""

    units: int
    max_portions_per_batch: int

    def __post_init__(self) -> None:
        if self.units <= 0 or self.max_portions_per_batch <= 0:
            raise ValueError("equipment needs at least one unit and one portion per batch")


class KitchenParams(Struct, frozen=True, kw_only=True, gc=False):
    """Kitchen settings; every number here is a setting, defaults follow the regulations.

    ``safety_limit`` applies from cook end to eating; ``hot_held_safety_limit`` replaces it
    for hot dishes on departures holding at least ``hot_holding_min_celsius``.
    ``box_capacity_portions`` / ``cold_box_capacity_portions`` are the box model: dish
    portions one hot (insulated) box and one cold box hold; hot and cold dishes never share
    a box, and the router is given the boxes this model packs.
    ``packing_lead_time`` is the gap between a batch being ready and its van leaving.
    ``separate_cooking_variants`` never share a pot with other variants, even when the
    ingredients match: halal needs its own utensils, allergen-free must avoid contact.
    ``small_batch_equipment`` names the kind (small pots, induction woks) that cooks a diet
    batch (no regular portions in it: low-salt, halal, puréed...) whenever its portions fit
    one of that kind's batches, so a few special-diet portions do not hold a large braising
    pan or kettle for a whole cook; None: every batch uses its recipe's kind.
    """

    equipment: Mapping[str, Equipment]
    safety_limit: timedelta = DEFAULT_SAFETY_LIMIT
    hot_held_safety_limit: timedelta = DEFAULT_HOT_HELD_SAFETY_LIMIT
    hot_holding_min_celsius: float = DEFAULT_HOT_HOLDING_MIN_CELSIUS
    packing_lead_time: timedelta = DEFAULT_PACKING_LEAD_TIME
    sample_grams: int = DEFAULT_SAMPLE_GRAMS
    sample_retention: timedelta = DEFAULT_SAMPLE_RETENTION
    box_capacity_portions: int = DEFAULT_BOX_CAPACITY_PORTIONS
    cold_box_capacity_portions: int = DEFAULT_COLD_BOX_CAPACITY_PORTIONS
    separate_cooking_variants: frozenset[DietVariant] = DEFAULT_SEPARATE_COOKING_VARIANTS
    small_batch_equipment: str | None = None

    def __post_init__(self) -> None:
        if self.box_capacity_portions <= 0 or self.cold_box_capacity_portions <= 0:
            raise ValueError("box capacities must be positive")
        if self.small_batch_equipment is not None and (
            self.small_batch_equipment not in self.equipment
        ):
            raise ValueError(
                f"small-batch equipment {self.small_batch_equipment!r} is not among the equipment"
            )
        force_setattr(self, "equipment", _frozen_mapping(self.equipment))

    def safety_limit_for(self, departure: Departure, served_hot: bool) -> timedelta:
        """The longer limit only for hot food actually held hot on this departure."""
        held_hot = (
            served_hot
            and departure.holding_celsius is not None
            and departure.holding_celsius >= self.hot_holding_min_celsius
        )
        return self.hot_held_safety_limit if held_hot else self.safety_limit
