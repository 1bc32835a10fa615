"""What ``warmmeal routes`` does, kept beside the service it drives."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

import click
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker
from meals.deliveries import alerts, service, views
from meals.deliveries.models import RoutePlanRecord
from meals.errors import DomainError
from meals.production import day as one_plan
from meals.settings import Settings
from meals.words import Slot


async def _replanned(
    session: AsyncSession,
    settings: Settings,
    service_date: date,
    slot: str,
    exclude_vans: Sequence[str],
    now: datetime,
) -> RoutePlanRecord:
    """Re-plan the day (one plan: routes, waves, packing) as the CLI's commands do; a refusal
    becomes the command's error sentence."""
    try:
        replanned = await one_plan.replan_day(
            session,
            settings=settings,
            service_date=service_date,
            slot=Slot(slot),
            actor=None,
            now=now,
            excluded_vans=exclude_vans,
        )
    except DomainError as refusal:
        raise click.ClickException(refusal.text) from refusal
    return replanned.route_plan


async def plan_command(
    settings: Settings,
    *,
    service_date: date,
    slot: str,
    exclude_vans: Sequence[str],
    now: datetime,
) -> str:
    """Plan the routes and return the dispatcher's summary as text."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            record = await _replanned(session, settings, service_date, slot, exclude_vans, now)
            view = await views.plan_view(session, record, settings)
            changes = await service.plan_diff(session, record, settings)
    finally:
        await engine.dispose()
    lines = [
        f"route plan {record.id} for {service_date.isoformat()} {slot} "
        f"(from {record.source.value}, travel {record.travel_provider})",
        f"vans used {record.vans_used}, {view.km} km, latest delivery {view.latest_eta}, "
        f"longest packing-to-handover {view.longest_minutes} of {view.limit_minutes} min",
    ]
    for run in view.runs:
        lines.append(
            f"  {run.van_code} trip {run.trip_number} {run.departs}-{run.returns} "
            f"{run.km} km {run.load_boxes}/{run.capacity_boxes} boxes"
        )
        lines += [f"    {s.sequence:>2} {s.eta} {s.boxes:>2} box  {s.name}" for s in run.stops]
    for site, homes in view.walking.items():
        lines.append(f"  walking list {site}: {len(homes)} homes")
    lines += [f"  UNSERVED {s.name}: {s.unserved_reason}" for s in view.unserved]
    lines += [f"  changed {c.name}: {c.before} -> {c.after}" for c in changes]
    return "\n".join(lines) + "\n"


async def escalate_command(settings: Settings, clock: Clock) -> int:
    """Escalate overdue welfare alerts and tell the webhook; returns how many escalated."""
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            escalated = await alerts.escalate_overdue(session, now=clock.now(), settings=settings)
        for alert_id in escalated:
            await alerts.send_webhook(
                sessions, settings, alert_id=alert_id, event=alerts.ESCALATED, now=clock.now
            )
    finally:
        await engine.dispose()
    return len(escalated)


ROUTE_SHEET_COLUMNS = (
    "van",
    "departure",
    "stop_position",
    "stop_id",
    "eta",
    "labels",
    "hot_boxes",
    "cold_boxes",
    "van_hot_capacity",
    "van_cold_capacity",
)


async def _current_plan(session, service_date: date, slot: str):
    record = await service.latest_plan(session, service_date, Slot(slot))
    if record is None:
        raise click.ClickException(
            f"No route plan for {slot} on {service_date.isoformat()}: run "
            "`warmmeal routes plan` (or freeze the kitchen's run) first."
        )
    return record


async def route_sheet_command(settings: Settings, *, service_date: date, slot: str) -> bytes:
    """Every trip of the current route plan, one CSV row per stop, with its box labels."""
    from meals.production.commands import box_rows_of
    from meals.production.models import ProductionRun

    zone = settings.district_zone
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            record = await _current_plan(session, service_date, slot)
            runs = {run.id: run for run in await service.plan_runs(session, record)}
            stops = [s for s in await service.plan_stops(session, record) if s.run_id in runs]
            run = await session.scalar(
                select(ProductionRun).where(ProductionRun.route_plan_id == record.id)
            )
            rows = await box_rows_of(session, settings, run) if run is not None else []
    finally:
        await engine.dispose()
    at_stop: dict[tuple[str, datetime, int], list[int]] = {}
    for row in rows:
        at_stop.setdefault((row.van, row.departure, row.stop_position), []).append(row.label)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROUTE_SHEET_COLUMNS)
    for stop in sorted(
        stops, key=lambda s: (runs[s.run_id].departs_at, runs[s.run_id].van_code, s.sequence)
    ):
        trip = runs[stop.run_id]
        writer.writerow(
            (
                trip.van_code,
                trip.departs_at.astimezone(zone).isoformat(),
                stop.sequence,
                stop.stop_key,
                stop.eta.astimezone(zone).isoformat() if stop.eta else "",
                ";".join(
                    str(n)
                    for n in at_stop.get((trip.van_code, trip.departs_at, stop.sequence or 0), [])
                ),
                stop.boxes,
                stop.cold_boxes,
                trip.capacity_boxes,
                trip.cold_capacity_boxes,
            )
        )
    return out.getvalue().encode()


async def plan_json_command(
    settings: Settings,
    *,
    service_date: date,
    slot: str,
    exclude_vans: Sequence[str],
    now: datetime,
) -> bytes:
    """Plan (or re-plan) and answer with the plan as JSON, unserved stops with their reasons."""
    from meals.deliveries.api import plan_out

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            record = await _replanned(session, settings, service_date, slot, exclude_vans, now)
            out = await plan_out(session, record.id, settings)
    finally:
        await engine.dispose()
    return msgspec.json.format(msgspec.json.encode(out), indent=2) + b"\n"
