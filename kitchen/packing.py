"""Packing lists per van and stop, and one label per home delivery.

Boxes are filled per packing unit (a site stop, or one home delivery), one variant at a
time, special diets first; a box never holds more than the box capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kitchen.model import (
    VARIANT_RANK,
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
) -> tuple[tuple[VanPacking, ...], tuple[HomeDeliveryLabel, ...]]:
    """Packing lists in departure and stop order, and labels special diets first."""
    layouts = _Layouts(recipes, box_capacity)
    units_by_stop: dict[StopKey, list[PackingUnitKey]] = {}
    for unit_key in packing_input.contents:
        units_by_stop.setdefault(unit_key[:2], []).append(unit_key)
    stops_by_departure: dict[str, list[StopKey]] = {}
    for stop_key in units_by_stop:
        stops_by_departure.setdefault(stop_key[0], []).append(stop_key)

    vans: list[VanPacking] = []
    special_labels: list[HomeDeliveryLabel] = []
    other_labels: list[HomeDeliveryLabel] = []
    for departure_id in sorted(
        stops_by_departure, key=lambda d: (departures[d].departs_at, departures[d].van_id, d)
    ):
        departure = departures[departure_id]
        next_box_number = 1
        stop_packings: list[StopPacking] = []
        stop_keys = sorted(
            stops_by_departure[departure_id],
            key=lambda key: _stop_order(packing_input.stops[key]),
        )
        for stop_key in stop_keys:
            destination = packing_input.stops[stop_key]
            boxes: list[Box] = []
            units = [
                (layouts.get(packing_input.contents[unit_key]), unit_key)
                for unit_key in units_by_stop[stop_key]
            ]
            if len(units) > 1:
                units.sort(key=lambda unit: _unit_order(unit[0], unit[1], packing_input))
            for layout, (_, _, delivery_id) in units:
                unit_boxes = [
                    Box(
                        box_number=next_box_number + offset,
                        variant=variant,
                        delivery_id=delivery_id,
                        items=items,
                    )
                    for offset, (variant, items) in enumerate(layout.boxes)
                ]
                next_box_number += len(unit_boxes)
                boxes.extend(unit_boxes)
                if delivery_id is not None:
                    label = _label(
                        packing_input.recipients[delivery_id],
                        destination,
                        departure,
                        layout,
                        unit_boxes,
                    )
                    (special_labels if label.is_special else other_labels).append(label)
            stop_packings.append(
                StopPacking(
                    stop_id=destination.stop_id,
                    stop_name=destination.stop_name,
                    kind=destination.kind,
                    stop_sequence=destination.stop_sequence,
                    eating_at=packing_input.eating_at[stop_key],
                    boxes=tuple(boxes),
                )
            )
        vans.append(
            VanPacking(
                departure_id=departure_id,
                van_id=departure.van_id,
                departs_at=departure.departs_at,
                stops=tuple(stop_packings),
            )
        )
    return tuple(vans), (*special_labels, *other_labels)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layout:
    """How one set of contents is boxed and labelled; shared by every unit with it."""

    boxes: tuple[tuple[DietVariant, tuple[BoxItem, ...]], ...]
    label_items: tuple[LabelItem, ...]
    variants: tuple[DietVariant, ...]
    allergens: frozenset[str]
    best_rank: int


class _Layouts:
    """Layouts cached by contents: thousands of home deliveries share a few contents."""

    def __init__(self, recipes: Mapping[DishVariant, ResolvedRecipe], box_capacity: int) -> None:
        self._recipes = recipes
        self._box_capacity = box_capacity
        self._cache: dict[tuple, _Layout] = {}

    def get(self, contents: Mapping[DishVariant, int]) -> _Layout:
        signature = tuple(contents.items())
        layout = self._cache.get(signature)
        if layout is None:
            layout = self._cache[signature] = self._build(contents)
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
        return _Layout(
            boxes=tuple(
                (variant, items)
                for variant in variants
                for items in self._fill([item for item in label_items if item.variant is variant])
            ),
            label_items=tuple(label_items),
            variants=variants,
            allergens=frozenset().union(*(recipes[key].allergens for key in contents)),
            best_rank=VARIANT_RANK[variants[0]],
        )

    def _fill(self, items: list[LabelItem]) -> list[tuple[BoxItem, ...]]:
        """Split one variant's items into boxes of at most the box capacity."""
        boxes: list[tuple[BoxItem, ...]] = []
        box: list[BoxItem] = []
        space = self._box_capacity
        for item in items:
            remaining = item.portions
            while remaining:
                if space == 0:
                    boxes.append(tuple(box))
                    box, space = [], self._box_capacity
                taken = min(remaining, space)
                box.append(BoxItem(dish_id=item.dish_id, dish_name=item.dish_name, portions=taken))
                space -= taken
                remaining -= taken
        boxes.append(tuple(box))
        return boxes


def _stop_order(destination: Destination) -> tuple:
    """Delivery order; stops without a sequence go last, by name."""
    sequence = destination.stop_sequence
    return (sequence is None, sequence or 0, destination.stop_name, destination.stop_id)


def _unit_order(layout: _Layout, unit_key: PackingUnitKey, packing_input: PackingInput) -> tuple:
    """Within a stop: special-diet contents first, then by recipient name."""
    delivery_id = unit_key[2]
    name = "" if delivery_id is None else packing_input.recipients[delivery_id].name
    return (layout.best_rank, name, delivery_id or "")


def _label(
    recipient: HomeRecipient,
    destination: Destination,
    departure: Departure,
    layout: _Layout,
    boxes: list[Box],
) -> HomeDeliveryLabel:
    assert destination.kind is DestinationKind.HOME
    return HomeDeliveryLabel(
        delivery_id=recipient.delivery_id,
        departure_id=departure.departure_id,
        van_id=departure.van_id,
        stop_id=destination.stop_id,
        stop_sequence=destination.stop_sequence,
        name=recipient.name,
        address=recipient.address,
        phone=recipient.phone,
        diet_notes=recipient.diet_notes,
        texture=recipient.texture,
        variants=layout.variants,
        items=layout.label_items,
        allergens=layout.allergens,
        box_numbers=tuple(box.box_number for box in boxes),
    )
