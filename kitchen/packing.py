"""Packing lists per van and stop, and one label per home delivery.

Boxes are filled per packing unit (a site stop, or one home delivery), one variant at a
time, special diets first; a box never holds more than the box capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kitchen.model import Departure, Destination, DestinationKind, DietVariant, HomeRecipient
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
    units_by_stop: dict[StopKey, list[PackingUnitKey]] = {}
    for unit_key in packing_input.contents:
        units_by_stop.setdefault(unit_key[:2], []).append(unit_key)
    stops_by_departure: dict[str, list[StopKey]] = {}
    for stop_key in units_by_stop:
        stops_by_departure.setdefault(stop_key[0], []).append(stop_key)

    vans: list[VanPacking] = []
    labels: list[HomeDeliveryLabel] = []
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
            units = sorted(
                units_by_stop[stop_key],
                key=lambda unit: _unit_order(unit, packing_input),
            )
            for unit_key in units:
                contents = packing_input.contents[unit_key]
                unit_boxes = _fill_boxes(
                    contents, unit_key[2], recipes, box_capacity, next_box_number
                )
                next_box_number += len(unit_boxes)
                boxes.extend(unit_boxes)
                delivery_id = unit_key[2]
                if delivery_id is not None:
                    labels.append(
                        _label(
                            packing_input.recipients[delivery_id],
                            destination,
                            departure,
                            contents,
                            recipes,
                            unit_boxes,
                        )
                    )
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
    labels.sort(key=lambda label: not label.is_special)
    return tuple(vans), tuple(labels)


def _stop_order(destination: Destination) -> tuple:
    """Delivery order; stops without a sequence go last, by name."""
    sequence = destination.stop_sequence
    return (sequence is None, sequence or 0, destination.stop_name, destination.stop_id)


def _unit_order(unit_key: PackingUnitKey, packing_input: PackingInput) -> tuple:
    """Within a stop: special-diet contents first, then by recipient name."""
    best_rank = min(variant.display_rank for _, variant in packing_input.contents[unit_key])
    delivery_id = unit_key[2]
    name = "" if delivery_id is None else packing_input.recipients[delivery_id].name
    return (best_rank, name, delivery_id or "")


def _fill_boxes(
    contents: Mapping[DishVariant, int],
    delivery_id: str | None,
    recipes: Mapping[DishVariant, ResolvedRecipe],
    box_capacity: int,
    first_box_number: int,
) -> list[Box]:
    """Boxes for one packing unit: one variant per box, special diets first."""
    by_variant: dict[DietVariant, list[tuple[str, str, int]]] = {}
    for (dish_id, variant), portions in contents.items():
        if portions:
            dish_name = recipes[(dish_id, variant)].dish_name
            by_variant.setdefault(variant, []).append((dish_name, dish_id, portions))
    boxes: list[Box] = []
    for variant in sorted(by_variant, key=lambda v: v.display_rank):
        items: list[BoxItem] = []
        space = box_capacity
        for dish_name, dish_id, portions in sorted(by_variant[variant]):
            remaining = portions
            while remaining:
                if space == 0:
                    boxes.append(_box(first_box_number + len(boxes), variant, delivery_id, items))
                    items, space = [], box_capacity
                taken = min(remaining, space)
                items.append(BoxItem(dish_id=dish_id, dish_name=dish_name, portions=taken))
                space -= taken
                remaining -= taken
        boxes.append(_box(first_box_number + len(boxes), variant, delivery_id, items))
    return boxes


def _box(number: int, variant: DietVariant, delivery_id: str | None, items: list[BoxItem]) -> Box:
    return Box(box_number=number, variant=variant, delivery_id=delivery_id, items=tuple(items))


def _label(
    recipient: HomeRecipient,
    destination: Destination,
    departure: Departure,
    contents: Mapping[DishVariant, int],
    recipes: Mapping[DishVariant, ResolvedRecipe],
    boxes: list[Box],
) -> HomeDeliveryLabel:
    items = sorted(
        (
            LabelItem(
                dish_id=dish_id,
                dish_name=recipes[(dish_id, variant)].dish_name,
                variant=variant,
                portions=portions,
            )
            for (dish_id, variant), portions in contents.items()
            if portions
        ),
        key=lambda item: (item.variant.display_rank, item.dish_name, item.dish_id),
    )
    allergens = frozenset().union(*(recipes[key].allergens for key in contents if contents[key]))
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
        variants=tuple(sorted({item.variant for item in items}, key=lambda v: v.display_rank)),
        items=tuple(items),
        allergens=allergens,
        box_numbers=tuple(box.box_number for box in boxes),
    )
