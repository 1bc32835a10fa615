"""Each box's food-safety margin (limit − cook-to-eat minutes) as the sheets and warnings
read it, from a frozen run and the route plan it was packed for.

One reading of the boxes feeds the packing list, the labels, the route sheet and the
warnings on the kitchen and dispatch pages, so a box shows the same minutes everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from meals.deliveries.models import RoutePlanRecord
from meals.production import day as one_plan
from meals.production import labels, service
from meals.production.models import ProductionRun
from meals.settings import Settings

StopKey = tuple[str, datetime, int]
"""(van, departure, stop position): how a route sheet's stop and a packed box meet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StopMargin:
    """A stop's boxes: their label numbers and the tightest of their margins."""

    labels: tuple[int, ...]
    worst: labels.BoxRow


@dataclass(frozen=True, slots=True, kw_only=True)
class RunBoxes:
    """Every box of a run with its margin, and the routed stops' names."""

    rows: tuple[labels.BoxRow, ...] = ()
    stop_names: dict[str, str] = field(default_factory=dict)

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
            )
            for key, rows in grouped.items()
        }

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
    rows = labels.box_rows(service.plan_of(run), trips, labels.SafetyRule.of(settings))
    return RunBoxes(rows=tuple(rows), stop_names=_names(trips))


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
