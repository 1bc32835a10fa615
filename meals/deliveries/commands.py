"""What ``warmmeal routes`` does, kept beside the service it drives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import click

from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker
from meals.deliveries import alerts, service, views
from meals.errors import DomainError
from meals.settings import Settings
from meals.words import Slot


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
            try:
                record = await service.plan_routes(
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
