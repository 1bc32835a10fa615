"""What ``warmmeal kitchen plan`` does, kept beside the service it drives."""

from __future__ import annotations

from datetime import date, datetime

import click
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import Sheet
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.errors import DomainError
from meals.production import day as one_plan
from meals.production import labels, margins, overview, service, sheets
from meals.production.models import ProductionRun
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
                    run = (
                        await one_plan.freeze_day(
                            session,
                            settings=settings,
                            service_date=service_date,
                            slot=Slot(slot),
                            actor=None,
                            now=now,
                        )
                    ).run
                else:
                    run = await _latest(session, service_date, slot)
                plan, run_id, frozen_at = service.plan_of(run), run.id, run.frozen_at
                context = await overview.sheet_context(
                    session, settings, run, [chosen] if chosen else list(Sheet)
                )
            except DomainError as refused:
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
        context=context,
    )


async def _latest(session: AsyncSession, service_date: date, slot: str) -> ProductionRun:
    run = await service.latest_run(session, service_date, Slot(slot))
    if run is None:
        raise click.ClickException(
            f"Nothing is frozen for {slot} on {service_date.isoformat()}: run "
            "`warmmeal kitchen plan --freeze` (or plan the routes) first."
        )
    return run


async def labels_command(settings: Settings, *, service_date: date, slot: str) -> bytes:
    """The frozen run's labels CSV: one row per box, as packed for its route plan."""
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            run = await _latest(session, service_date, slot)
            rows = await box_rows_of(session, settings, run)
    finally:
        await engine.dispose()
    return labels.labels_csv(rows, settings.district_zone)


async def box_rows_of(
    session: AsyncSession, settings: Settings, run: ProductionRun
) -> list[labels.BoxRow]:
    """A run's boxes as rows, against the route plan it was packed for."""
    return list((await margins.run_boxes(session, settings, run)).rows)
