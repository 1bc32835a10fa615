"""What the kitchen page shows for a date and slot, and the kitchen's prints.

Besides the frozen run it lists what the cook must know before cooking: bookings changed
since the freeze, box labels moved since the sheets were last printed (a re-plan: a van out,
a late booking) and every meal that would be served late or not at all, with what would fix
it. A sheet downloaded as PDF or CSV counts as printed: that is the paper in the kitchen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import Sheet
from meals.db import begin_write
from meals.deliveries import views
from meals.deliveries.models import RoutePlanRecord, RouteStop
from meals.pages.i18n import Language
from meals.pdf import render_pdf
from meals.production import day as one_plan
from meals.production import margins, samples, service, sheets
from meals.production.labels import BoxRow
from meals.production.models import ProductionRun
from meals.settings import Settings
from meals.words import Slot

CSV_BOM = "\ufeff"
"""Excel in Chinese locales reads UTF-8 CSV correctly only with a byte-order mark."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MovedLabel:
    """A home delivery whose box label, van, departure or stop moved since the last print."""

    booking_id: int
    name: str
    before: one_plan.LabelPlace | None
    after: one_plan.LabelPlace | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SincePrint:
    """The run whose sheets were last printed and the labels that moved since."""

    printed: ProductionRun
    moved: tuple[MovedLabel, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TightBox:
    row: BoxRow
    stop_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LateWarnings:
    """Meals that would be eaten past the food-safety limit, near it, or not delivered."""

    unserved: tuple[views.StopView, ...]
    boxes: tuple[TightBox, ...]
    warning_minutes: int

    def __bool__(self) -> bool:
        return bool(self.unserved or self.boxes)


@dataclass(frozen=True, slots=True, kw_only=True)
class KitchenOverview:
    service_date: date
    slot: Slot
    run: ProductionRun | None
    runs: list[ProductionRun]
    diff: service.RunDiff | None
    since_print: SincePrint | None
    warnings: LateWarnings | None
    samples_missing: int


async def kitchen_overview(
    session: AsyncSession,
    settings: Settings,
    *,
    service_date: date,
    slot: Slot,
    run: ProductionRun | None,
) -> KitchenOverview:
    """Everything the kitchen page shows for a date and slot around ``run``."""
    return KitchenOverview(
        service_date=service_date,
        slot=slot,
        run=run,
        runs=await service.list_runs(session, service_date, slot),
        diff=await service.run_diff(session, run) if run else None,
        since_print=await since_last_print(session, run) if run else None,
        warnings=await run_warnings(session, settings, run) if run else None,
        samples_missing=len(
            samples.missing(
                service.plan_of(run), await samples.recorded(session, service_date, slot)
            )
        )
        if run
        else 0,
    )


async def since_last_print(session: AsyncSession, run: ProductionRun) -> SincePrint | None:
    """The labels moved between the last printed run of the date and slot and ``run``;
    None when nothing was printed yet."""
    printed = (
        await session.scalars(
            select(ProductionRun)
            .where(
                ProductionRun.service_date == run.service_date,
                ProductionRun.slot == run.slot,
                ProductionRun.id <= run.id,
                ProductionRun.printed_at.is_not(None),
            )
            .order_by(ProductionRun.id.desc())
            .limit(1)
        )
    ).first()
    if printed is None:
        return None
    if printed.id == run.id:
        return SincePrint(printed=printed, moved=())
    before, after = service.plan_of(printed), service.plan_of(run)
    names = {label.delivery_id: label.name for label in (*before.labels, *after.labels)}
    return SincePrint(
        printed=printed,
        moved=tuple(
            MovedLabel(
                booking_id=change.booking_id,
                name=names.get(str(change.booking_id), ""),
                before=change.before,
                after=change.after,
            )
            for change in one_plan.label_changes(before, after)
        ),
    )


def _warnings(
    boxes: margins.RunBoxes, unserved: list[views.StopView], warning: timedelta
) -> LateWarnings:
    return LateWarnings(
        unserved=tuple(unserved),
        boxes=tuple(
            TightBox(row=row, stop_name=boxes.stop_name(row)) for row in boxes.tight(warning)
        ),
        warning_minutes=int(warning.total_seconds() // 60),
    )


async def run_warnings(
    session: AsyncSession, settings: Settings, run: ProductionRun
) -> LateWarnings:
    """Before cooking: the run's unserved stops (with the router's remedy) and its boxes past
    or within the warning of the food-safety limit."""
    boxes = await margins.run_boxes(session, settings, run)
    unserved: list[RouteStop] = []
    if run.route_plan_id is not None:
        unserved = list(
            await session.scalars(
                select(RouteStop)
                .where(
                    RouteStop.plan_id == run.route_plan_id,
                    RouteStop.unserved_reason.is_not(None),
                )
                .order_by(RouteStop.id)
            )
        )
    return _warnings(
        boxes, await views.stop_views(session, unserved, settings), settings.kitchen_margin_warning
    )


async def plan_warnings(
    session: AsyncSession, settings: Settings, record: RoutePlanRecord
) -> LateWarnings:
    """The dispatch page's share of the warnings: boxes of the plan's run near the limit
    (its unserved stops are already listed there)."""
    boxes = await margins.plan_boxes(session, settings, record)
    return _warnings(boxes, [], settings.kitchen_margin_warning)


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    content: bytes
    media_type: str
    filename: str
    inline: bool


async def sheet_download(
    session: AsyncSession,
    settings: Settings,
    engine: Environment,
    *,
    run_id: int,
    sheet: Sheet,
    sheet_format: sheets.SheetFormat,
    van: str | None,
    nav: str,
    now: datetime,
    language: Language = sheets.KITCHEN_LANGUAGE,
) -> Download:
    """A sheet of a run as HTML, PDF or CSV in the reader's language; a PDF or CSV marks the
    run printed."""
    run = await service.get_run(session, run_id)
    header = sheets.header_of(run, settings)
    filename = sheets.download_name(header, sheet, sheet_format)
    if sheet_format is sheets.SheetFormat.CSV:
        await record_print(session, run, now)
        content = (CSV_BOM + sheets.render_csv(service.plan_of(run), sheet)).encode()
        return Download(
            content=content, media_type="text/csv; charset=utf-8", filename=filename, inline=False
        )
    context = await sheet_context(session, settings, run, [sheet], van=van, language=language)
    if sheet_format is sheets.SheetFormat.HTML:
        html = sheets.render_html(engine, {**context, "nav": nav})
        return Download(
            content=html.encode(),
            media_type="text/html; charset=utf-8",
            filename=filename,
            inline=True,
        )
    await record_print(session, run, now)
    pdf = await asyncio.to_thread(
        render_pdf,
        sheets.render_html(engine, context),
        settings.pdf_cache_dir,
        settings.pdf_cache_files,
    )
    return Download(content=pdf, media_type="application/pdf", filename=filename, inline=True)


async def sheet_context(
    session: AsyncSession,
    settings: Settings,
    run: ProductionRun,
    chosen: list[Sheet],
    *,
    van: str | None = None,
    language: Language = sheets.KITCHEN_LANGUAGE,
) -> dict[str, Any]:
    """Template context of a run's sheets with each box's margin and the recorded samples,
    worded in ``language``."""
    return sheets.sheet_context(
        service.plan_of(run),
        sheets.header_of(run, settings),
        chosen,
        boxes=await margins.run_boxes(session, settings, run),
        recorded=await samples.recorded(session, run.service_date, run.slot),
        van=van,
        warning=settings.kitchen_margin_warning,
        language=language,
    )


async def record_print(session: AsyncSession, run: ProductionRun, now: datetime) -> None:
    """Mark the run's sheets printed (the first time only): later re-plans list what moved."""
    if run.printed_at is not None:
        return
    await begin_write(session)
    await session.execute(
        update(ProductionRun)
        .where(ProductionRun.id == run.id, ProductionRun.printed_at.is_(None))
        .values(printed_at=now)
    )
    await session.commit()
