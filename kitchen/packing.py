"""Packing lists per van and stop, and one label per home delivery.

Boxes are filled per packing unit (a site stop, or one home delivery), one variant at a
time, special diets first, hot dishes in hot boxes and cold dishes in cold boxes; a box
never holds more than its kind's capacity. Box (label) numbers run over the whole plan, in
departure and stop order, so a number names one box wherever it is printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kitchen.model import (
    VARIANT_RANK,
    BoxKind,
    Departure,
    Destination,
    DestinationKind,
    DietVariant,
    HomeRecipient,
)
from kitchen.recipes import ResolvedRecipe
from kitchen.result import Box, BoxItem, HomeDeliveryLabel, LabelItem, StopPacking, VanPacking

DishVariant = tuple[str, DietVariant]
StopKey = tuple[str, str]
PackingUnitKey = tuple[str, str, str | None]
"""(departure id, stop id, delivery id or None for a site drop)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PackingInput:
    """Aggregated portions per packing unit and what is known about each stop."""

    contents: Mapping[PackingUnitKey, Mapping[DishVariant, int]]
    stops: Mapping[StopKey, Destination]
    eating_at: Mapping[StopKey, datetime]
    recipients: Mapping[str, HomeRecipient]


def pack(
    packing_input: PackingInput,
    recipes: Mapping[DishVariant, ResolvedRecipe],
    departures: Mapping[str, Departure],
    box_capacity: int,
    cold_box_capacity: int | None = None,
) -> tuple[tuple[VanPacking, ...], tuple[HomeDeliveryLabel, ...]]:
    """Packing lists in departure and stop order, and labels special diets first."""
    layouts = _Layouts(recipes, box_capacity, cold_box_capacity)
    contents = packing_input.contents
    stops = packing_input.stops
    eating_at = packing_input.eating_at
    recipients = packing_input.recipients
    units_by_stop: dict[StopKey, list[tuple[_Layout, str | None]]] = {}
    for unit_key, unit in contents.items():
        stop_key = unit_key[:2]
        unit_layout = (layouts.get(unit), unit_key[2])
        units = units_by_stop.get(stop_key)
        if units is None:
            units_by_stop[stop_key] = [unit_layout]
        else:
            units.append(unit_layout)
    stops_by_departure: dict[str, list[StopKey]] = {}
    for stop_key in units_by_stop:
        stops_by_departure.setdefault(stop_key[0], []).append(stop_key)

    vans: list[VanPacking] = []
    special_labels: list[HomeDeliveryLabel] = []
    other_labels: list[HomeDeliveryLabel] = []
    next_box_number = 1
    for departure_id in sorted(
        stops_by_departure, key=lambda d: (departures[d].departs_at, departures[d].van_id, d)
    ):
        departure = departures[departure_id]
        van_id = departure.van_id
        stop_packings: list[StopPacking] = []
        ordered = sorted(
            (_stop_order(stops[stop_key]), stop_key)
            for stop_key in stops_by_departure[departure_id]
        )
        for _, stop_key in ordered:
            destination = stops[stop_key]
            stop_id = destination.stop_id
            stop_sequence = destination.stop_sequence
            boxes: list[Box] = []
            units = units_by_stop[stop_key]
            if len(units) > 1:
                units.sort(key=lambda unit: _unit_order(unit[0], unit[1], recipients))
            for layout, delivery_id in units:
                first_box = next_box_number
                for variant, kind, items in layout.boxes:
                    boxes.append(
                        Box(
                            box_number=next_box_number,
                            variant=variant,
                            delivery_id=delivery_id,
                            items=items,
                            kind=kind,
                        )
                    )
                    next_box_number += 1
                if delivery_id is None:
                    continue
                assert destination.kind is DestinationKind.HOME
                recipient = recipients[delivery_id]
                texture = recipient.texture
                diet_notes = recipient.diet_notes
                label = HomeDeliveryLabel(
                    delivery_id=delivery_id,
                    departure_id=departure_id,
                    van_id=van_id,
                    stop_id=stop_id,
                    stop_sequence=stop_sequence,
                    walk_sequence=destination.walk_sequence,
                    name=recipient.name,
                    address=recipient.address,
                    phone=recipient.phone,
                    diet_notes=diet_notes,
                    texture=texture,
                    variants=layout.variants,
                    items=layout.label_items,
                    allergens=layout.allergens,
                    box_numbers=tuple(range(first_box, next_box_number)),
                )
                if layout.has_special_variant or texture or diet_notes:
                    special_labels.append(label)
                else:
                    other_labels.append(label)
            stop_packings.append(
                StopPacking(
                    stop_id=stop_id,
                    stop_name=destination.stop_name,
                    kind=destination.kind,
                    stop_sequence=stop_sequence,
                    walk_sequence=destination.walk_sequence,
                    eating_at=eating_at[stop_key],
                    boxes=tuple(boxes),
                )
            )
        vans.append(
            VanPacking(
                departure_id=departure_id,
                van_id=van_id,
                departs_at=departure.departs_at,
                stops=tuple(stop_packings),
            )
        )
    return tuple(vans), (*special_labels, *other_labels)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layout:
    """How one set of contents is boxed and labelled; shared by every unit with it."""

    boxes: tuple[tuple[DietVariant, BoxKind, tuple[BoxItem, ...]], ...]
    label_items: tuple[LabelItem, ...]
    variants: tuple[DietVariant, ...]
    allergens: frozenset[str]
    best_rank: int
    has_special_variant: bool


class _Layouts:
    """Layouts cached by contents: thousands of home deliveries share a few contents.

    Looked up first by the identity of the contents mapping (units of equal contents
    share one), then by its items, so equal contents given as distinct mappings still
    share a layout.
    """

    def __init__(
        self,
        recipes: Mapping[DishVariant, ResolvedRecipe],
        box_capacity: int,
        cold_box_capacity: int | None = None,
    ) -> None:
        self._recipes = recipes
        self._capacity = {
            BoxKind.HOT: box_capacity,
            BoxKind.COLD: cold_box_capacity or box_capacity,
        }
        self._cache: dict[tuple, _Layout] = {}
        self._by_identity: dict[int, tuple[Mapping[DishVariant, int], _Layout]] = {}

    def get(self, contents: Mapping[DishVariant, int]) -> _Layout:
        known = self._by_identity.get(id(contents))
        if known is not None and known[0] is contents:
            return known[1]
        signature = tuple(contents.items())
        layout = self._cache.get(signature)
        if layout is None:
            layout = self._cache[signature] = self._build(contents)
        self._by_identity[id(contents)] = (contents, layout)
        return layout

    def _build(self, contents: Mapping[DishVariant, int]) -> _Layout:
        recipes = self._recipes
        label_items = sorted(
            (
                LabelItem(
                    dish_id=dish_id,
                    dish_name=recipes[(dish_id, variant)].dish_name,
                    variant=variant,
                    portions=portions,
                )
                for (dish_id, variant), portions in contents.items()
            ),
            key=lambda item: (VARIANT_RANK[item.variant], item.dish_name, item.dish_id),
        )
        variants = tuple(dict.fromkeys(item.variant for item in label_items))
        kind_of = {
            key: BoxKind.HOT if recipe.served_hot else BoxKind.COLD
            for key in contents
            for recipe in (recipes[key],)
        }
        return _Layout(
            boxes=tuple(
                (variant, kind, items)
                for variant in variants
                for kind in BoxKind
                for items in self._fill(
                    [
                        item
                        for item in label_items
                        if item.variant is variant and kind_of[(item.dish_id, variant)] is kind
                    ],
                    self._capacity[kind],
                )
            ),
            label_items=tuple(label_items),
            variants=variants,
            allergens=frozenset().union(*(recipes[key].allergens for key in contents)),
            best_rank=VARIANT_RANK[variants[0]],
            has_special_variant=any(variant.is_special for variant in variants),
        )

    def _fill(self, items: list[LabelItem], capacity: int) -> list[tuple[BoxItem, ...]]:
        """Split one variant's items of one box kind into boxes of at most ``capacity``.

        Boxes are filled in item order; the full boxes in the middle of one item are all
        alike, so they share one tuple. No items, no box.
        """
        if not items:
            return []
        boxes: list[tuple[BoxItem, ...]] = []
        box: list[BoxItem] = []
        space = capacity
        for item in items:
            remaining = item.portions
            if space and remaining:
                taken = min(remaining, space)
                box.append(BoxItem(dish_id=item.dish_id, dish_name=item.dish_name, portions=taken))
                space -= taken
                remaining -= taken
            if not remaining:
                continue
            boxes.append(tuple(box))
            full, rest = divmod(remaining, capacity)
            if not rest:
                # the last full box stays open, as any box does until more needs packing
                full, rest = full - 1, capacity
            if full:
                full_box = (
                    BoxItem(dish_id=item.dish_id, dish_name=item.dish_name, portions=capacity),
                )
                boxes.extend([full_box] * full)
            box = [BoxItem(dish_id=item.dish_id, dish_name=item.dish_name, portions=rest)]
            space = capacity - rest
        boxes.append(tuple(box))
        return boxes


def _stop_order(destination: Destination) -> tuple:
    """Delivery order; a meal point's walking list right after its drop, in walking order;
    stops without a sequence go last, by name."""
    sequence = destination.stop_sequence
    return (
        sequence is None,
        sequence or 0,
        destination.walk_sequence or 0,
        destination.stop_name,
        destination.stop_id,
    )


def _unit_order(
    layout: _Layout, delivery_id: str | None, recipients: Mapping[str, HomeRecipient]
) -> tuple:
    """Within a stop: special-diet contents first, then by recipient name."""
    name = "" if delivery_id is None else recipients[delivery_id].name
    return (layout.best_rank, name, delivery_id or "")


def count_boxes(
    contents: Mapping[PackingUnitKey, Mapping[DishVariant, int]],
    recipes: Mapping[DishVariant, ResolvedRecipe],
    box_capacity: int,
    cold_box_capacity: int | None = None,
) -> dict[str, tuple[int, int]]:
    """(hot, cold) boxes per stop id, exactly as :func:`pack` will fill them."""
    layouts = _Layouts(recipes, box_capacity, cold_box_capacity)
    counts: dict[str, list[int]] = {}
    for (_, stop_id, _), unit in contents.items():
        layout = layouts.get(unit)
        count = counts.setdefault(stop_id, [0, 0])
        for _, kind, _ in layout.boxes:
            count[kind is BoxKind.COLD] += 1
    return {stop_id: (hot, cold) for stop_id, (hot, cold) in counts.items()}
