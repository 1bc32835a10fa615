"""Site rules: when booking closes for a slot, and reading sites within an actor's scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.errors import NotFound
from meals.sites.models import Site, SiteSlot
from meals.words import SiteKind


def booking_deadline(slot: SiteSlot, timezone: str, service_date: date) -> datetime:
    """The cutoff for `service_date` in the site's local time (09:00 same day, 17:00 day before)."""
    day = service_date - timedelta(days=slot.cutoff_days_before)
    return datetime.combine(day, slot.cutoff_time, tzinfo=ZoneInfo(timezone))


def describe_cutoff(slot: SiteSlot) -> str:
    when = slot.cutoff_time.strftime("%H:%M")
    if slot.cutoff_days_before == 0:
        return f"{when} the same day"
    if slot.cutoff_days_before == 1:
        return f"{when} the day before"
    return f"{when}, {slot.cutoff_days_before} days before"


async def list_sites(session: AsyncSession, *, kind: SiteKind | None = None) -> list[Site]:
    query = select(Site).order_by(Site.id)
    if kind is not None:
        query = query.where(Site.kind == kind)
    return list(await session.scalars(query))


async def get_site(session: AsyncSession, site_id: int) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound("There is no site {site_id}.", site_id=site_id)
    return site
