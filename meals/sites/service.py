"""Site rules: when booking closes for a slot, and reading sites within an actor's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from advanced_alchemy.filters import CollectionFilter, OrderBy, SearchFilter
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor, ensure_role
from meals.audit.service import changed, record_change, record_deactivation, snapshot
from meals.db import begin_write, forget_references
from meals.errors import Conflict, Invalid, NotFound
from meals.listing import page_of
from meals.sites.models import Site, SiteSlot
from meals.words import Role, SiteKind, Slot


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


SITE_FIELDS = (
    "code",
    "name",
    "kind",
    "address",
    "latitude",
    "longitude",
    "timezone",
    "offers_delivery",
    "last_mile_radius_m",
    "active",
)
SLOT_FIELDS = ("serve_start", "serve_end", "cutoff_time", "cutoff_days_before", "capacity")
MAX_CUTOFF_DAYS = 14


@dataclass(frozen=True)
class SlotSpec:
    """A meal slot a site serves: its serving window, booking cutoff and seats."""

    slot: Slot
    serve_start: time
    serve_end: time
    cutoff_time: time
    cutoff_days_before: int
    capacity: int


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    kind: SiteKind
    address: str
    latitude: float
    longitude: float
    timezone: str
    offers_delivery: bool = False
    last_mile_radius_m: int | None = None
    slots: tuple[SlotSpec, ...] = ()


def _check_site(spec: SiteSpec) -> None:
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(
            "{zone} is not a time zone; use a name such as Asia/Shanghai or Asia/Urumqi.",
            code="bad_timezone",
            zone=spec.timezone,
        ) from None
    seen: set[Slot] = set()
    for slot in spec.slots:
        if slot.slot in seen:
            raise Invalid("The {slot} slot is given twice.", code="bad_slot", slot=slot.slot.value)
        seen.add(slot.slot)
        if slot.serve_start >= slot.serve_end:
            raise Invalid(
                "Serving {slot} must end after it starts ({start}–{end}).",
                code="bad_window",
                slot=slot.slot.value,
                start=slot.serve_start.strftime("%H:%M"),
                end=slot.serve_end.strftime("%H:%M"),
            )
        if slot.cutoff_days_before == 0 and slot.cutoff_time > slot.serve_start:
            raise Invalid(
                "Booking for {slot} must close before serving starts at {start}.",
                code="bad_cutoff",
                slot=slot.slot.value,
                start=slot.serve_start.strftime("%H:%M"),
            )
    if spec.kind is not SiteKind.KITCHEN and not spec.slots:
        raise Invalid("A canteen or meal point serves at least one meal slot.", code="no_slots")


def _put_slots(session: AsyncSession, site: Site, old: list[SiteSlot], spec: SiteSpec) -> None:
    by_slot = {s.slot: s for s in old}
    for wanted in spec.slots:
        row = by_slot.pop(wanted.slot, None)
        if row is None:
            row = SiteSlot(site_id=site.id, slot=wanted.slot)
            session.add(row)
        for name in SLOT_FIELDS:
            setattr(row, name, getattr(wanted, name))
    for gone in by_slot.values():
        gone.capacity = 0  # menus and bookings may name the slot: it stops taking bookings


def _slots_snapshot(slots: list[SiteSlot] | tuple[SlotSpec, ...]) -> dict[str, dict]:
    return {s.slot.value: snapshot(s, SLOT_FIELDS) for s in slots}


async def create_site(
    session: AsyncSession, *, actor: Actor, spec: SiteSpec, now: datetime
) -> Site:
    """A new kitchen, canteen or meal point with its slots."""
    ensure_role(actor, Role.ADMIN)
    _check_site(spec)
    await begin_write(session)
    if await session.scalar(select(Site.id).where(Site.code == spec.code)):
        raise Conflict(
            "There is already a site with the code {site}.", code="code_taken", site=spec.code
        )
    site = Site(**{name: getattr(spec, name) for name in SITE_FIELDS if name != "active"})
    session.add(site)
    await session.flush()
    _put_slots(session, site, [], spec)
    record_change(
        session,
        actor,
        action="create",
        entity="site",
        entity_id=site.id,
        at=now,
        after={**snapshot(site, SITE_FIELDS), "slots": _slots_snapshot(spec.slots)},
        site_id=site.id,
        summary=site.name,
    )
    await session.commit()
    return site


async def update_site(
    session: AsyncSession, *, actor: Actor, site_id: int, spec: SiteSpec, now: datetime
) -> Site:
    """A changed site; a slot no longer served keeps its row with no seats (its past stays)."""
    ensure_role(actor, Role.ADMIN)
    _check_site(spec)
    await begin_write(session)
    site = await get_site(session, site_id)
    if spec.code != site.code and await session.scalar(
        select(Site.id).where(Site.code == spec.code)
    ):
        raise Conflict(
            "There is already a site with the code {site}.", code="code_taken", site=spec.code
        )
    old = list(await session.scalars(select(SiteSlot).where(SiteSlot.site_id == site.id)))
    before = {**snapshot(site, SITE_FIELDS), "slots": _slots_snapshot(old)}
    for name in SITE_FIELDS:
        if name != "active":
            setattr(site, name, getattr(spec, name))
    _put_slots(session, site, old, spec)
    await session.flush()
    now_slots = list(await session.scalars(select(SiteSlot).where(SiteSlot.site_id == site.id)))
    after = {**snapshot(site, SITE_FIELDS), "slots": _slots_snapshot(now_slots)}
    old_values, new_values = changed(before, after)
    record_change(
        session,
        actor,
        action="update",
        entity="site",
        entity_id=site.id,
        at=now,
        before=old_values,
        after=new_values,
        site_id=site.id,
        summary=site.name,
    )
    await session.commit()
    return site


async def deactivate_site(
    session: AsyncSession, *, actor: Actor, site_id: int, now: datetime
) -> Site:
    """A site that no longer serves: no more seats in any slot, and hidden from lists."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    site = await get_site(session, site_id)
    for slot in await session.scalars(select(SiteSlot).where(SiteSlot.site_id == site.id)):
        slot.capacity = 0
    record_deactivation(
        session, actor, site, entity="site", at=now, summary=site.name, site_id=site.id
    )
    await session.commit()
    forget_references(session)  # bookings read the site from that cache
    return site


async def page_sites(
    session: AsyncSession,
    *,
    kind: SiteKind | None = None,
    search: str | None = None,
    active: bool | None = True,
    limit: int = 50,
    offset: int = 0,
) -> OffsetPagination[Site]:
    """Sites filtered by kind, name or code and state, with the total."""
    filters: list[Any] = [OrderBy(field_name="code", sort_order="asc")]
    if kind is not None:
        filters.append(CollectionFilter(field_name="kind", values=[kind]))
    if active is not None:
        filters.append(CollectionFilter(field_name="active", values=[active]))
    if search:
        filters.append(SearchFilter(field_name={"name", "code", "address"}, value=search.strip()))
    return await page_of(session, Site, *filters, limit=limit, offset=offset)
