"""What ``warmmeal kitchen plan`` does, kept beside the service it drives."""

from __future__ import annotations

from datetime import date, datetime

import click

from kitchen import Sheet
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.production import service, sheets
from meals.settings import Settings
from meals.words import Slot


async def plan_command(
    settings: Settings,
    *,
    service_date: date,
    slot: str,
    sheet_format: str,
    sheet: str | None,
    freeze: bool,
    now: datetime,
) -> bytes:
    """The plan of a date and slot as html, pdf, csv or json; frozen first with ``freeze``."""
    try:
        chosen = Sheet(sheet) if sheet else None
    except ValueError as error:
        names = ", ".join(s.value for s in Sheet)
        raise click.BadParameter(f"unknown sheet {sheet!r}; one of {names}") from error
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            try:
                if freeze:
                    run = await service.freeze_run(
                        session,
                        settings=settings,
                        service_date=service_date,
                        slot=Slot(slot),
                        actor=None,
                        now=now,
                    )
                    plan, run_id, frozen_at = service.plan_of(run), run.id, run.frozen_at
                else:
                    outcome = await service.compute_plan(
                        session, settings=settings, service_date=service_date, slot=Slot(slot)
                    )
                    plan, run_id, frozen_at = outcome.plan, None, None
            except service.PlanRefused as refused:
                raise click.ClickException(refused.text) from refused
    finally:
        await engine.dispose()
    header = sheets.SheetHeader(
        service_date=service_date,
        slot=Slot(slot),
        run_id=run_id,
        frozen_at=frozen_at,
        timezone=settings.default_timezone,
    )
    return sheets.export(
        plan,
        header,
        engine=sheets.template_engine(settings),
        sheet_format=sheet_format,
        sheet=chosen,
    )
