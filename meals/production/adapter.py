"""The one place where database rows become ``kitchen`` inputs.

Everything here is pure: the service queries, this module translates, ``kitchen`` plans.
Stop ids are ``site-<id>`` for a site drop and ``home-<senior id>`` for a home; a home
delivery's label id is its booking id, so a label can always be traced to its booking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from kitchen import (
    Departure,
    Destination,
    DestinationKind,
    DietVariant,
    Equipment,
    HomeRecipient,
    KitchenParams,
    OrderLine,
    ProcessingStep,
    RecipeLine,
    StopTiming,
    VariantChange,
)
from kitchen import Ingredient as KitchenIngredient
from kitchen import Recipe as KitchenRecipe
from meals.production.models import MILLI, Ingredient, Recipe
from meals.settings import Settings
from meals.words import (
    IDDSI_REGULAR,
    TEXTURE_VARIANT_BY_IDDSI,
    VARIANT_LABELS_ZH,
    Variant,
)

ALLERGEN_NAMES_ZH = {
    "peanut": "花生",
    "fish": "鱼",
    "egg": "鸡蛋",
    "wheat": "小麦",
    "soy": "大豆",
}
NOTE_SEPARATOR = " · "


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteInfo:
    """A serving site as the plan needs it: name, time zone and when the slot starts."""

    site_id: int
    code: str
    name: str
    timezone: str
    serve_start: time

    def eating_at(self, service_date: date) -> datetime:
        return datetime.combine(service_date, self.serve_start, tzinfo=ZoneInfo(self.timezone))


@dataclass(frozen=True, slots=True, kw_only=True)
class MenuItemInfo:
    name: str
    dish_ids: tuple[str, ...]


class SiteCount(NamedTuple):
    """Portions of one menu item in one variant eaten at (or picked up from) one site."""

    site_id: int
    menu_item_id: int
    variant: str
    portions: int


class HomeDelivery(NamedTuple):
    """One booking delivered home, with what its label must say.

    A plain row (one per home delivery, thousands a day): the service builds it straight
    from the query's columns, in this order.
    """

    booking_id: int
    site_id: int
    menu_item_id: int
    variant: str
    senior_id: int
    name: str
    address: str
    phone: str | None
    delivery_notes: str | None
    iddsi_level: int
    halal: bool
    low_salt: bool
    low_sugar: bool
    allergens: Sequence[str] | None


def _small_batch_equipment(settings: Settings) -> str | None:
    kinds = {item.kind for item in settings.kitchen_equipment}
    small = settings.kitchen_small_batch_equipment
    return small if small in kinds else None


def kitchen_params(settings: Settings) -> KitchenParams:
    """The kitchen's equipment and limits, all from settings."""
    return KitchenParams(
        equipment={
            item.kind: Equipment(units=item.units, max_portions_per_batch=item.portions_per_batch)
            for item in settings.kitchen_equipment
        },
        safety_limit=settings.food_safety_limit,
        hot_held_safety_limit=settings.hot_holding_limit,
        hot_holding_min_celsius=settings.hot_holding_min_celsius,
        packing_lead_time=settings.kitchen_packing_lead,
        sample_grams=settings.kitchen_sample_grams,
        sample_retention=settings.kitchen_sample_retention,
        box_capacity_portions=settings.kitchen_box_capacity_portions,
        cold_box_capacity_portions=settings.kitchen_cold_box_capacity_portions,
        small_batch_equipment=_small_batch_equipment(settings),
    )


def kitchen_recipes(
    recipes: Iterable[Recipe],
    dish_names: Mapping[int, str],
    ingredients: Mapping[int, Ingredient],
) -> dict[str, KitchenRecipe]:
    """Recipes keyed by dish id (as text), variants and their lines loaded."""
    stock = {
        ingredient_id: KitchenIngredient(
            ingredient_id=row.code,
            name=row.name,
            allergens=frozenset(row.allergens),
            halal=row.halal,
        )
        for ingredient_id, row in ingredients.items()
    }

    def line(ingredient_id: int, quantity_milli: int, unit: str) -> RecipeLine:
        return RecipeLine(
            ingredient=stock[ingredient_id],
            quantity=Decimal(quantity_milli) / MILLI,
            unit=unit,
        )

    return {
        str(recipe.dish_id): KitchenRecipe(
            dish_id=str(recipe.dish_id),
            dish_name=dish_names[recipe.dish_id],
            lines=tuple(line(r.ingredient_id, r.quantity_milli, r.unit) for r in recipe.lines),
            cook_time=timedelta(minutes=recipe.cook_minutes),
            equipment_kind=recipe.equipment_kind,
            yield_portions=recipe.yield_portions,
            served_hot=recipe.served_hot,
            variants={
                DietVariant(change.variant.value): VariantChange(
                    remove=frozenset(stock[i].ingredient_id for i in change.removed_ingredient_ids),
                    set_lines=tuple(
                        line(r.ingredient_id, r.quantity_milli, r.unit) for r in change.lines
                    ),
                    extra_steps=tuple(
                        ProcessingStep(name=step.name, duration=timedelta(minutes=step.minutes))
                        for step in change.steps
                    ),
                )
                for change in recipe.variants
            },
        )
        for recipe in recipes
    }


def site_stop_id(site_id: int) -> str:
    return f"site-{site_id}"


def home_stop_id(senior_id: int) -> str:
    return f"home-{senior_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutedStop:
    """A stop of the route plan as the kitchen packs it.

    ``stop_id`` is ``site-<id>`` or ``home-<senior id>``; a home on a meal point's walking
    list has its boxes on the drop: ``carried_by`` is the drop's stop id, ``sequence``
    the drop's position and ``walk_sequence`` its place on the walk. ``eta`` is the
    handover: the food-safety clock stops there.
    """

    stop_id: str
    kind: DestinationKind
    name: str
    sequence: int
    eta: datetime
    carried_by: str | None = None
    walk_sequence: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutedTrip:
    """One van trip of the route plan: what the packing list and the labels are made for."""

    departure_id: str
    van: str
    departs_at: datetime
    stops: tuple[RoutedStop, ...]


def departure_label(van: str, departs_at: datetime) -> str:
    """Readable id of a trip, e.g. ``VAN-01 10:15``, as the kitchen and the driver say it."""
    return f"{van} {departs_at:%H:%M}"


def unrouted_destinations(
    site_counts: Iterable[SiteCount], deliveries: Iterable[HomeDelivery]
) -> dict[str, Destination]:
    """Every stop on no departure yet: enough to count the boxes each will get."""
    destinations = {
        site_stop_id(count.site_id): Destination(
            kind=DestinationKind.SITE,
            departure_id="",
            stop_id=site_stop_id(count.site_id),
            stop_name="",
        )
        for count in site_counts
    }
    for delivery in deliveries:
        stop_id = home_stop_id(delivery.senior_id)
        destinations[stop_id] = Destination(
            kind=DestinationKind.HOME, departure_id="", stop_id=stop_id, stop_name=""
        )
    return destinations


def routed_destinations(trips: Iterable[RoutedTrip]) -> dict[str, Destination]:
    """Each routed stop's van trip and position, as the packing list must follow them."""
    return {
        stop.stop_id: Destination(
            kind=stop.kind,
            departure_id=trip.departure_id,
            stop_id=stop.stop_id,
            stop_name=stop.name,
            stop_sequence=stop.sequence,
            walk_sequence=stop.walk_sequence,
        )
        for trip in trips
        for stop in trip.stops
    }


def departures(trips: Iterable[RoutedTrip], holding_celsius: float | None) -> list[Departure]:
    """A kitchen departure per routed trip; each stop's meals are eaten at its handover."""
    return [
        Departure(
            departure_id=trip.departure_id,
            van_id=trip.van,
            departs_at=trip.departs_at,
            holding_celsius=holding_celsius,
            stops=tuple(
                StopTiming(stop_id=stop.stop_id, eating_at=stop.eta) for stop in trip.stops
            ),
        )
        for trip in trips
    ]


def order_lines(
    site_counts: Iterable[SiteCount],
    deliveries: Iterable[HomeDelivery],
    menu_items: Mapping[int, MenuItemInfo],
    destinations: Mapping[str, Destination],
) -> list[OrderLine]:
    """Order lines: one per site, menu item and variant, and one per home delivery.

    Lines to a stop with no destination (unserved by the route plan) are left out: no van
    carries them, so nothing is packed for them (the pages warn about them instead).
    """
    variants = {variant.value: DietVariant(variant.value) for variant in Variant}
    items = {
        item_id: (str(item_id), item.name, item.dish_ids) for item_id, item in menu_items.items()
    }
    lines = [
        OrderLine(
            menu_item_id=items[count.menu_item_id][0],
            menu_item_name=items[count.menu_item_id][1],
            dish_ids=items[count.menu_item_id][2],
            variant=variants[count.variant],
            destination=destinations[site_stop_id(count.site_id)],
            portions=count.portions,
        )
        for count in site_counts
        if site_stop_id(count.site_id) in destinations
    ]
    diets: dict[tuple, tuple[str, str]] = {}
    for delivery in deliveries:
        destination = destinations.get(home_stop_id(delivery.senior_id))
        if destination is None:
            continue
        item_id, item_name, dish_ids = items[delivery.menu_item_id]
        lines.append(
            OrderLine(
                menu_item_id=item_id,
                menu_item_name=item_name,
                dish_ids=dish_ids,
                variant=variants[delivery.variant],
                destination=destination,
                portions=1,
                recipient=recipient(delivery, diets),
            )
        )
    return lines


def recipient(
    delivery: HomeDelivery, diets: dict[tuple, tuple[str, str]] | None = None
) -> HomeRecipient:
    """Label data: diet needs spelled out in Chinese so the driver and senior can check.

    ``diets`` caches the diet notes and texture by the needs they spell out: thousands of
    labels share a few dozen combinations.
    """
    needs = (
        delivery.halal,
        delivery.low_salt,
        delivery.low_sugar,
        tuple(delivery.allergens or ()),
        delivery.iddsi_level,
    )
    diet = None if diets is None else diets.get(needs)
    if diet is None:
        diet = _diet_notes_and_texture(*needs)
        if diets is not None:
            diets[needs] = diet
    address = delivery.address
    if delivery.delivery_notes:
        address = f"{address}{NOTE_SEPARATOR}{delivery.delivery_notes}"
    return HomeRecipient(
        delivery_id=str(delivery.booking_id),
        name=delivery.name,
        address=address,
        phone=delivery.phone or "",
        diet_notes=diet[0],
        texture=diet[1],
    )


def _diet_notes_and_texture(
    halal: bool, low_salt: bool, low_sugar: bool, allergens: Sequence[str], iddsi_level: int
) -> tuple[str, str]:
    notes = []
    if halal:
        notes.append(VARIANT_LABELS_ZH[Variant.HALAL])
    if low_salt:
        notes.append(VARIANT_LABELS_ZH[Variant.LOW_SALT])
    if low_sugar:
        notes.append(VARIANT_LABELS_ZH[Variant.LOW_SUGAR])
    if allergens:
        avoided = "、".join(ALLERGEN_NAMES_ZH.get(a, a) for a in allergens)
        notes.append(f"忌{avoided}")
    texture = ""
    if iddsi_level != IDDSI_REGULAR:
        texture_variant = TEXTURE_VARIANT_BY_IDDSI.get(iddsi_level)
        label = VARIANT_LABELS_ZH[texture_variant] if texture_variant else ""
        texture = f"IDDSI {iddsi_level} {label}".strip()
    return NOTE_SEPARATOR.join(notes), texture
