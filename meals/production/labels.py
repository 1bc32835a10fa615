"""Box labels as rows: one per box, with its van, departure, stop and food-safety margin.

Pure: a frozen ``kitchen.ProductionPlan`` and the routed trips it was packed for in, rows
out. The same rows feed the labels CSV, the refusal of a plan that breaks the rule and the
route sheet's label numbers, so every sheet names a box the same way.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kitchen import BoxKind, DietVariant, ProductionPlan, stop_number
from meals.production.adapter import RoutedTrip
from meals.settings import Settings

LABEL_COLUMNS = (
    "label",
    "booking_ids",
    "van",
    "departure",
    "stop_position",
    "stop_id",
    "box_kind",
    "cooked_at",
    "eta",
    "cook_to_eat_minutes",
    "limit_minutes",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyRule:
    """The one food-safety rule: from the end of cooking to the box's handover.

    ``limit`` everywhere, ``hot_held_limit`` only for hot boxes on vans that hold them at
    ``min_celsius`` or more (``van_celsius`` is None where vans do not hold heat).
    """

    limit: timedelta
    hot_held_limit: timedelta
    min_celsius: float
    van_celsius: float | None

    @classmethod
    def of(cls, settings: Settings) -> SafetyRule:
        return cls(
            limit=settings.food_safety_limit,
            hot_held_limit=settings.hot_holding_limit,
            min_celsius=settings.hot_holding_min_celsius,
            van_celsius=settings.kitchen_van_holding_celsius,
        )

    def limit_for(self, kind: BoxKind) -> timedelta:
        held = (
            kind is BoxKind.HOT
            and self.van_celsius is not None
            and self.van_celsius >= self.min_celsius
        )
        return self.hot_held_limit if held else self.limit


@dataclass(frozen=True, slots=True, kw_only=True)
class BoxRow:
    """One box as every sheet names it."""

    label: int
    booking_ids: tuple[int, ...]
    van: str
    departure: datetime
    stop_position: int
    stop_id: str
    box_kind: BoxKind
    cooked_at: datetime
    eta: datetime
    limit: timedelta
    walk_position: int | None = None

    @property
    def stop_number(self) -> str:
        """The stop as the packing list, labels, driver page and route sheet print it."""
        return stop_number(self.stop_position, self.walk_position)

    @property
    def cook_to_eat_minutes(self) -> int:
        """Minutes from the end of cooking to handover, rounded up (never flattering)."""
        return math.ceil((self.eta - self.cooked_at).total_seconds() / 60)

    @property
    def limit_minutes(self) -> int:
        return int(self.limit.total_seconds() // 60)

    @property
    def margin_minutes(self) -> int:
        return self.limit_minutes - self.cook_to_eat_minutes

    @property
    def minutes_over(self) -> int:
        return max(0, -self.margin_minutes)


def box_rows(plan: ProductionPlan, trips: Sequence[RoutedTrip], rule: SafetyRule) -> list[BoxRow]:
    """Every packed box in label order, cooked at the earliest end of cooking of its food."""
    cooked: dict[tuple[str, str, DietVariant], datetime] = {}
    for batch in plan.batches:
        for allocation in batch.allocations:
            key = (allocation.departure_id, batch.dish_id, allocation.variant)
            known = cooked.get(key)
            if known is None or batch.cook_end < known:
                cooked[key] = batch.cook_end
    carried = {
        stop.stop_id: stop.carried_by or stop.stop_id for trip in trips for stop in trip.stops
    }
    rows = []
    for van in plan.packing:
        for stop in van.stops:
            for box in stop.boxes:
                rows.append(
                    BoxRow(
                        label=box.box_number,
                        booking_ids=(int(box.delivery_id),) if box.delivery_id else (),
                        van=van.van_id,
                        departure=van.departs_at,
                        stop_position=stop.stop_sequence or 0,
                        stop_id=carried.get(stop.stop_id, stop.stop_id),
                        box_kind=box.kind,
                        cooked_at=min(
                            cooked[(van.departure_id, item.dish_id, box.variant)]
                            for item in box.items
                        ),
                        eta=stop.eating_at,
                        limit=rule.limit_for(box.kind),
                        walk_position=stop.walk_sequence,
                    )
                )
    rows.sort(key=lambda row: row.label)
    return rows


def labels_csv(rows: Iterable[BoxRow], zone) -> bytes:
    """The labels CSV: one row per box, times ISO 8601 with their offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LABEL_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.label,
                ";".join(str(b) for b in row.booking_ids),
                row.van,
                row.departure.astimezone(zone).isoformat(),
                row.stop_position,
                row.stop_id,
                row.box_kind.value,
                row.cooked_at.astimezone(zone).isoformat(),
                row.eta.astimezone(zone).isoformat(),
                row.cook_to_eat_minutes,
                row.limit_minutes,
            )
        )
    return out.getvalue().encode()
