"""Each box's food-safety margin (limit − cook-to-eat minutes) as the sheets and warnings
read it, from a frozen run and the route plan it was packed for.

One reading of the boxes feeds the packing list, the labels, the route sheet and the
warnings on the kitchen and dispatch pages, so a box shows the same minutes everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from meals.deliveries.models import RoutePlanRecord, RouteRun, RouteStop
from meals.production import day as one_plan
from meals.production import labels, service
from meals.production.models import ProductionRun
from meals.settings import Settings

StopKey = tuple[str, datetime, int]
"""(van, departure, stop position): how a route sheet's stop and a packed box meet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkingHome:
    """A home on the walking list of a meal point's drop, numbered as its label (``3·2``),
    so the driver hands the meal-point staff the boxes the labels name."""

    number: str
    name: str
    labels: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StopMargin:
    """A stop's boxes: their label numbers, the tightest of their margins and, at a meal
    point, the walking list's homes riding with them."""

    labels: tuple[int, ...]
    worst: labels.BoxRow
    walking: tuple[WalkingHome, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunBoxes:
    """Every box of a run with its margin, and the routed stops' names."""

    rows: tuple[labels.BoxRow, ...] = ()
    stop_names: dict[str, str] = field(default_factory=dict)
    recipients: dict[int, str] = field(default_factory=dict)
    """Home deliveries' names by booking id."""

    def by_label(self) -> dict[int, labels.BoxRow]:
        return {row.label: row for row in self.rows}

    def per_stop(self) -> dict[StopKey, StopMargin]:
        grouped: dict[StopKey, list[labels.BoxRow]] = {}
        for row in self.rows:
            grouped.setdefault((row.van, row.departure, row.stop_position), []).append(row)
        return {
            key: StopMargin(
                labels=tuple(row.label for row in rows),
                worst=min(rows, key=lambda row: row.margin_minutes),
                walking=self._walking(rows),
            )
            for key, rows in grouped.items()
        }

    def _walking(self, rows: Iterable[labels.BoxRow]) -> tuple[WalkingHome, ...]:
        homes: dict[tuple[int, str], list[labels.BoxRow]] = {}
        for row in rows:
            if row.walk_position is not None:
                homes.setdefault((row.walk_position, row.stop_number), []).append(row)
        return tuple(
            WalkingHome(
                number=number,
                name=self.recipients.get(boxes[0].booking_ids[0], "")
                if boxes[0].booking_ids
                else "",
                labels=tuple(row.label for row in boxes),
            )
            for (_, number), boxes in sorted(homes.items())
        )

    def tight(self, warning: timedelta) -> list[labels.BoxRow]:
        """Boxes past their limit or within ``warning`` of it, tightest first."""
        threshold = int(warning.total_seconds() // 60)
        return sorted(
            (row for row in self.rows if row.margin_minutes < threshold),
            key=lambda row: (row.margin_minutes, row.label),
        )

    def stop_name(self, row: labels.BoxRow) -> str:
        return self.stop_names.get(row.stop_id, row.stop_id)


async def run_boxes(session: AsyncSession, settings: Settings, run: ProductionRun) -> RunBoxes:
    """A run's boxes against the route plan it was packed for (none without one)."""
    trips: list = []
    if run.route_plan_id is not None:
        record = await session.get(RoutePlanRecord, run.route_plan_id)
        if record is not None:
            trips = await one_plan.routed_trips(session, settings, record)
    plan = service.plan_of(run)
    rows = labels.box_rows(plan, trips, labels.SafetyRule.of(settings))
    return RunBoxes(
        rows=tuple(rows),
        stop_names=_names(trips),
        recipients={int(label.delivery_id): label.name for label in plan.labels},
    )


async def plan_boxes(
    session: AsyncSession, settings: Settings, record: RoutePlanRecord
) -> RunBoxes:
    """The boxes of the run packed for a route plan (none when the plan has no run)."""
    if record.production_run_id is None:
        return RunBoxes()
    run = await session.get(ProductionRun, record.production_run_id)
    return await run_boxes(session, settings, run) if run is not None else RunBoxes()


def _names(trips: Iterable) -> dict[str, str]:
    return {stop.stop_id: stop.name for trip in trips for stop in trip.stops}


def for_run(
    boxes: RunBoxes, van: str, departs_at: datetime, stops: Iterable[tuple[int, int | None]]
) -> dict[int, StopMargin]:
    """One trip's stops (id, position) with their box labels and tightest margin, by stop id."""
    per_stop = boxes.per_stop()
    found = {}
    for stop_id, position in stops:
        margin = per_stop.get((van, departs_at, position or 0))
        if margin is not None:
            found[stop_id] = margin
    return found


async def trip_margins(
    session: AsyncSession,
    settings: Settings,
    trips: Sequence[tuple[RouteRun, Sequence[RouteStop]]],
) -> dict[int, StopMargin]:
    """Van trips' stops with the labels and margins of the boxes packed for them, by stop id
    (the driver's page and route sheet name the boxes as the packing list does)."""
    found: dict[int, StopMargin] = {}
    by_plan: dict[int, RunBoxes] = {}
    for run, stops in trips:
        if run.plan_id not in by_plan:
            record = await session.get(RoutePlanRecord, run.plan_id)
            by_plan[run.plan_id] = (
                await plan_boxes(session, settings, record) if record else RunBoxes()
            )
        found.update(
            for_run(
                by_plan[run.plan_id],
                run.van_code,
                run.departs_at,
                ((stop.id, stop.sequence) for stop in stops),
            )
        )
    return found
