"""After the cutoff, without anyone pressing a button: which slots are due to be frozen and
planned, and readying their printable sheets, for the worker's job (`meals.jobs.tasks`).

The plan itself is :func:`meals.production.day.freeze_day`, the same one the kitchen's freeze
button runs; this module only decides *when*, and renders each run's sheets into the PDF cache
so the kitchen's first print is instant.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import Sheet
from meals.bookings.models import Booking
from meals.menus.models import Menu
from meals.pages.i18n import Language
from meals.pdf import is_cached, render_pdf
from meals.production import overview, sheets
from meals.production.models import ProductionRun
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.sites.service import MAX_CUTOFF_DAYS, booking_deadline
from meals.words import BookingStatus, Slot


@dataclass(frozen=True, slots=True)
class DueSlot:
    service_date: date
    slot: Slot
    freeze_at: datetime


async def slots_due(session: AsyncSession, *, now: datetime, settings: Settings) -> list[DueSlot]:
    """Dates and slots (today onwards) whose last site's cutoff has passed (plus
    `auto_freeze_delay`), that have bookings and no kitchen run yet."""
    today = settings.district_today(now)
    rows = await session.execute(
        select(Menu.service_date, Menu.slot, SiteSlot, Site.timezone)
        .join(Site, Site.id == Menu.site_id)
        .join(SiteSlot, (SiteSlot.site_id == Site.id) & (SiteSlot.slot == Menu.slot))
        .where(
            Site.active.is_(True),
            Menu.service_date >= today,
            Menu.service_date <= today + timedelta(days=MAX_CUTOFF_DAYS),
            exists().where(Booking.menu_id == Menu.id, Booking.status == BookingStatus.BOOKED),
            ~exists().where(
                ProductionRun.service_date == Menu.service_date, ProductionRun.slot == Menu.slot
            ),
        )
    )
    last_cutoff: dict[tuple[date, Slot], datetime] = {}
    for service_date, slot, site_slot, timezone in rows:
        deadline = booking_deadline(site_slot, timezone, service_date)
        key = (service_date, slot)
        last_cutoff[key] = max(deadline, last_cutoff.get(key, deadline))
    return sorted(
        (
            DueSlot(day, slot, cutoff + settings.auto_freeze_delay)
            for (day, slot), cutoff in last_cutoff.items()
            if now >= cutoff + settings.auto_freeze_delay
        ),
        key=lambda due: (due.service_date, due.slot.value),
    )


async def runs_to_print(
    session: AsyncSession, *, now: datetime, settings: Settings
) -> list[ProductionRun]:
    """The latest run of each date and slot from today on: the sheets the kitchen prints."""
    runs = await session.scalars(
        select(ProductionRun)
        .where(ProductionRun.service_date >= settings.district_today(now))
        .order_by(ProductionRun.service_date, ProductionRun.slot, ProductionRun.id.desc())
    )
    latest: dict[tuple[date, Slot], ProductionRun] = {}
    for run in runs:
        latest.setdefault((run.service_date, run.slot), run)
    return list(latest.values())


async def print_contexts(
    session: AsyncSession,
    run: ProductionRun,
    settings: Settings,
    language: Language = sheets.KITCHEN_LANGUAGE,
) -> list[dict[str, Any]]:
    """Each sheet's template context as the kitchen prints it (margins, samples, in the
    language of whoever froze it, else the kitchen's), so a sheet readied here is the very
    PDF the kitchen's print button asks for."""
    return [
        await overview.sheet_context(session, settings, run, [sheet], language=language)
        for sheet in Sheet
    ]


def render_sheets(engine: Environment, contexts: list[dict[str, Any]], settings: Settings) -> int:
    """Render each sheet's PDF into the cache (slow: call it in a thread); returns how many
    were not there yet. A sheet already rendered costs only its HTML."""
    made = 0
    for context in contexts:
        html = sheets.render_html(engine, context)
        if is_cached(html, settings.pdf_cache_dir):
            continue
        render_pdf(html, settings.pdf_cache_dir, settings.pdf_cache_files)
        made += 1
    return made


async def ready_sheets(
    engine: Environment, contexts: list[dict[str, Any]], settings: Settings
) -> int:
    """:func:`render_sheets` off the event loop."""
    return await asyncio.to_thread(render_sheets, engine, contexts, settings)
