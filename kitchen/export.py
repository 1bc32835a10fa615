"""CSV rows of each kitchen sheet, built in memory so the service can serve downloads.

Rows are tuples of strings, header first, in the plan's display order (special diets
first). Times are ISO 8601 with their UTC offset; durations are in minutes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from kitchen.result import ProductionPlan

Row = tuple[str, ...]
LIST_SEPARATOR = "; "


class Sheet(StrEnum):
    """The downloadable sheets of a production plan."""

    PRODUCTION = "production"
    DESTINATIONS = "destinations"
    INGREDIENTS = "ingredients"
    WAVES = "waves"
    PACKING = "packing"
    LABELS = "labels"
    SAMPLES = "samples"


def sheet_rows(plan: ProductionPlan, sheet: Sheet) -> tuple[Row, ...]:
    """Header and rows of one sheet."""
    return tuple(_BUILDERS[sheet](plan))


def sheet_csv(plan: ProductionPlan, sheet: Sheet) -> str:
    """One sheet as CSV text (RFC 4180 line endings), ready to send as a download."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(sheet_rows(plan, sheet))
    return buffer.getvalue()


def _time(moment: datetime) -> str:
    return moment.isoformat()


def _minutes(duration: timedelta) -> str:
    return f"{duration / timedelta(minutes=1):g}"


def _quantity(quantity: Decimal) -> str:
    """Plain notation, never exponent form, without trailing zeros."""
    return format(quantity.normalize(), "f")


def _joined(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(values)


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


def _production(plan: ProductionPlan) -> Iterable[Row]:
    yield ("variant", "dish_id", "dish_name", "portions", "allergens")
    for line in plan.dishes:
        yield (
            line.variant,
            line.dish_id,
            line.dish_name,
            str(line.portions),
            _joined(sorted(line.allergens)),
        )
    yield ("total", "", "", str(plan.total_portions), "")


def _destinations(plan: ProductionPlan) -> Iterable[Row]:
    yield ("kind", "destination_id", "destination", "variant", "dish_id", "dish_name", "portions")
    for line in plan.destinations:
        destination = line.destination
        yield (
            destination.kind,
            destination.destination_id,
            destination.name,
            line.variant,
            line.dish_id,
            line.dish_name,
            str(line.portions),
        )


def _ingredients(plan: ProductionPlan) -> Iterable[Row]:
    yield ("ingredient_id", "name", "unit", "quantity", "allergens", "used_by")
    for total in plan.ingredients:
        yield (
            total.ingredient_id,
            total.name,
            total.unit,
            _quantity(total.quantity),
            _joined(sorted(total.allergens)),
            _joined(
                f"{use.dish_id}/{use.variant}: {_quantity(use.quantity)}" for use in total.used_by
            ),
        )


def _waves(plan: ProductionPlan) -> Iterable[Row]:
    """One row per batch allocation: a batch feeding two departures shows on two rows."""
    excess_by_allocation: dict[tuple[str, str, str], timedelta] = {}
    for violation in plan.violations:
        excess_by_allocation[(violation.batch_id, violation.departure_id, violation.variant)] = (
            violation.excess
        )
    yield (
        "wave",
        "batch_id",
        "dish_id",
        "dish_name",
        "equipment_kind",
        "equipment_unit",
        "cook_start",
        "cook_end",
        "batch_portions",
        "departure_id",
        "variant",
        "portions",
        "extra_steps",
        "ready_at",
        "latest_eating_at",
        "safety_limit_minutes",
        "exceeds_limit_by_minutes",
    )
    for batch in plan.batches:
        for allocation in batch.allocations:
            excess = excess_by_allocation.get(
                (batch.batch_id, allocation.departure_id, allocation.variant)
            )
            yield (
                str(batch.wave_number),
                batch.batch_id,
                batch.dish_id,
                batch.dish_name,
                batch.equipment_kind,
                str(batch.equipment_unit),
                _time(batch.cook_start),
                _time(batch.cook_end),
                str(batch.portions),
                allocation.departure_id,
                allocation.variant,
                str(allocation.portions),
                _joined(
                    f"{step.name} ({_minutes(step.duration)} min)"
                    for step in allocation.extra_steps
                ),
                _time(allocation.ready_at),
                _time(batch.latest_eating_at),
                _minutes(batch.safety_limit),
                "" if excess is None else _minutes(excess),
            )


def _packing(plan: ProductionPlan) -> Iterable[Row]:
    yield (
        "departure_id",
        "van_id",
        "departs_at",
        "stop_sequence",
        "stop_id",
        "stop_name",
        "kind",
        "eating_at",
        "box_number",
        "variant",
        "delivery_id",
        "dish_id",
        "dish_name",
        "portions",
    )
    for van in plan.packing:
        for stop in van.stops:
            for box in stop.boxes:
                for item in box.items:
                    yield (
                        van.departure_id,
                        van.van_id,
                        _time(van.departs_at),
                        _optional(stop.stop_sequence),
                        stop.stop_id,
                        stop.stop_name,
                        stop.kind,
                        _time(stop.eating_at),
                        str(box.box_number),
                        box.variant,
                        box.delivery_id or "",
                        item.dish_id,
                        item.dish_name,
                        str(item.portions),
                    )


def _labels(plan: ProductionPlan) -> Iterable[Row]:
    yield (
        "delivery_id",
        "diets",
        "texture",
        "diet_notes",
        "name",
        "address",
        "phone",
        "van_id",
        "departure_id",
        "stop_sequence",
        "stop_id",
        "items",
        "allergens",
        "boxes",
    )
    for label in plan.labels:
        yield (
            label.delivery_id,
            _joined(label.variants),
            label.texture,
            label.diet_notes,
            label.name,
            label.address,
            label.phone,
            label.van_id,
            label.departure_id,
            _optional(label.stop_sequence),
            label.stop_id,
            _joined(f"{item.dish_name} ({item.variant}) x {item.portions}" for item in label.items),
            _joined(sorted(label.allergens)),
            _joined(str(number) for number in label.box_numbers),
        )


def _samples(plan: ProductionPlan) -> Iterable[Row]:
    yield (
        "batch_id",
        "variants",
        "dish_id",
        "dish_name",
        "sampled_at",
        "grams",
        "discard_at",
        "staff",
    )
    for sample in plan.samples:
        yield (
            sample.batch_id,
            _joined(sample.variants),
            sample.dish_id,
            sample.dish_name,
            _time(sample.sampled_at),
            str(sample.grams),
            _time(sample.discard_at),
            sample.staff,
        )


_BUILDERS: dict[Sheet, Callable[[ProductionPlan], Iterable[Row]]] = {
    Sheet.PRODUCTION: _production,
    Sheet.DESTINATIONS: _destinations,
    Sheet.INGREDIENTS: _ingredients,
    Sheet.WAVES: _waves,
    Sheet.PACKING: _packing,
    Sheet.LABELS: _labels,
    Sheet.SAMPLES: _samples,
}
