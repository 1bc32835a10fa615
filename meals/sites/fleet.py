"""Vans (hot and cold box capacity) and the kitchen's departure waves, as the operator keeps
them. Each change is audited; the plan of the day sends out only vans in service and leaves
on these waves (``waves_for``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from advanced_alchemy.filters import CollectionFilter, OrderBy, SearchFilter
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import Account
from meals.accounts.service import Actor, ensure_role
from meals.audit.service import changed, record_change, record_deactivation, snapshot
from meals.db import begin_write
from meals.errors import Conflict, Invalid, NotFound
from meals.listing import page_of
from meals.settings import Settings
from meals.sites.models import DepartureWave, Site, Van
from meals.words import Role, SiteKind, Slot

VAN_FIELDS = (
    "code",
    "depot_site_id",
    "capacity_boxes",
    "cold_capacity_boxes",
    "driver_account_id",
    "active",
)


@dataclass(frozen=True)
class VanSpec:
    code: str
    capacity_boxes: int
    cold_capacity_boxes: int = 0
    depot_site_id: int | None = None
    driver_account_id: int | None = None


async def _check_van(session: AsyncSession, spec: VanSpec) -> int:
    depot_id = spec.depot_site_id
    if depot_id is None:
        depot_id = await session.scalar(
            select(Site.id).where(Site.kind == SiteKind.KITCHEN).order_by(Site.id)
        )
    depot = await session.get(Site, depot_id) if depot_id else None
    if depot is None or depot.kind is not SiteKind.KITCHEN:
        raise Invalid(
            "Vans are based at a central kitchen; site {site_id} is not one.",
            code="bad_depot",
            site_id=depot_id or 0,
        )
    if spec.capacity_boxes + spec.cold_capacity_boxes <= 0:
        raise Invalid("A van carries at least one hot or cold box.", code="bad_capacity")
    if spec.driver_account_id is not None:
        driver = await session.get(Account, spec.driver_account_id)
        if driver is None or driver.role is not Role.DRIVER or not driver.active:
            raise Invalid(
                "Account {account_id} is not an active driver.",
                code="bad_driver",
                account_id=spec.driver_account_id,
            )
    return depot.id


async def create_van(session: AsyncSession, *, actor: Actor, spec: VanSpec, now: datetime) -> Van:
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    depot_id = await _check_van(session, spec)
    if await session.scalar(select(Van.id).where(Van.code == spec.code)):
        raise Conflict("There is already a van {van}.", code="code_taken", van=spec.code)
    van = Van(
        code=spec.code,
        depot_site_id=depot_id,
        capacity_boxes=spec.capacity_boxes,
        cold_capacity_boxes=spec.cold_capacity_boxes,
        driver_account_id=spec.driver_account_id,
        active=True,
    )
    session.add(van)
    await session.flush()
    record_change(
        session,
        actor,
        action="create",
        entity="van",
        entity_id=van.id,
        at=now,
        after=snapshot(van, VAN_FIELDS),
        summary=van.code,
    )
    await session.commit()
    return van


async def update_van(
    session: AsyncSession, *, actor: Actor, van_id: int, spec: VanSpec, now: datetime
) -> Van:
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    van = await session.get(Van, van_id)
    if van is None:
        raise NotFound("There is no van {van_id}.", van_id=van_id)
    depot_id = await _check_van(session, spec)
    if spec.code != van.code and await session.scalar(select(Van.id).where(Van.code == spec.code)):
        raise Conflict("There is already a van {van}.", code="code_taken", van=spec.code)
    before = snapshot(van, VAN_FIELDS)
    van.code, van.depot_site_id = spec.code, depot_id
    van.capacity_boxes, van.cold_capacity_boxes = spec.capacity_boxes, spec.cold_capacity_boxes
    van.driver_account_id = spec.driver_account_id
    old, new = changed(before, snapshot(van, VAN_FIELDS))
    record_change(
        session,
        actor,
        action="update",
        entity="van",
        entity_id=van.id,
        at=now,
        before=old,
        after=new,
        summary=van.code,
    )
    await session.commit()
    return van


async def get_van(session: AsyncSession, van_id: int) -> Van:
    van = await session.get(Van, van_id)
    if van is None:
        raise NotFound("There is no van {van_id}.", van_id=van_id)
    return van


def van_form_values(van: Van) -> dict[str, str]:
    """The van as its form's fields (the form shows what was typed when it is refused)."""
    return {
        "code": van.code,
        "capacity_boxes": str(van.capacity_boxes),
        "cold_capacity_boxes": str(van.cold_capacity_boxes),
        "driver_account_id": str(van.driver_account_id or ""),
    }


async def drivers(session: AsyncSession) -> list[Account]:
    """Drivers a van may be given (active driver accounts)."""
    return list(
        await session.scalars(
            select(Account)
            .where(Account.role == Role.DRIVER, Account.active)
            .order_by(Account.login)
        )
    )


async def deactivate_van(session: AsyncSession, *, actor: Actor, van_id: int, now: datetime) -> Van:
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    van = await session.get(Van, van_id)
    if van is None:
        raise NotFound("There is no van {van_id}.", van_id=van_id)
    record_deactivation(session, actor, van, entity="van", at=now, summary=van.code)
    await session.commit()
    return van


async def page_vans(
    session: AsyncSession,
    *,
    search: str | None = None,
    active: bool | None = True,
    limit: int = 50,
    offset: int = 0,
) -> OffsetPagination[Van]:
    filters: list[Any] = [OrderBy(field_name="code", sort_order="asc")]
    if active is not None:
        filters.append(CollectionFilter(field_name="active", values=[active]))
    if search:
        filters.append(SearchFilter(field_name="code", value=search.strip()))
    return await page_of(session, Van, *filters, limit=limit, offset=offset)


async def list_waves(session: AsyncSession) -> list[DepartureWave]:
    return list(
        await session.scalars(
            select(DepartureWave).order_by(DepartureWave.slot, DepartureWave.departs_at)
        )
    )


async def add_wave(
    session: AsyncSession, *, actor: Actor, slot: Slot, departs_at: time, now: datetime
) -> DepartureWave:
    """A departure time of the kitchen for a slot (one more trip a van can make)."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    existing = await session.scalar(
        select(DepartureWave).where(
            DepartureWave.slot == slot, DepartureWave.departs_at == departs_at
        )
    )
    if existing is not None and existing.active:
        raise Conflict(
            "There is already a {slot} wave at {time}.",
            code="wave_taken",
            slot=slot.value,
            time=departs_at.strftime("%H:%M"),
        )
    wave = existing or DepartureWave(slot=slot, departs_at=departs_at)
    wave.active = True
    session.add(wave)
    await session.flush()
    record_change(
        session,
        actor,
        action="create",
        entity="wave",
        entity_id=wave.id,
        at=now,
        after={"slot": slot, "departs_at": departs_at},
        summary=f"{slot.value} {departs_at:%H:%M}",
    )
    await session.commit()
    return wave


async def remove_wave(
    session: AsyncSession, *, actor: Actor, wave_id: int, now: datetime
) -> DepartureWave:
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    wave = await session.get(DepartureWave, wave_id)
    if wave is None or not wave.active:
        raise NotFound("There is no departure wave {wave_id}.", wave_id=wave_id)
    wave.active = False
    record_change(
        session,
        actor,
        action="deactivate",
        entity="wave",
        entity_id=wave.id,
        at=now,
        before={"slot": wave.slot, "departs_at": wave.departs_at},
        summary=f"{wave.slot.value} {wave.departs_at:%H:%M}",
    )
    await session.commit()
    return wave


async def get_wave(session: AsyncSession, wave_id: int) -> DepartureWave:
    wave = await session.get(DepartureWave, wave_id)
    if wave is None or not wave.active:
        raise NotFound("There is no departure wave {wave_id}.", wave_id=wave_id)
    return wave


async def update_wave(
    session: AsyncSession, *, actor: Actor, wave_id: int, departs_at: time, now: datetime
) -> DepartureWave:
    """A wave moved to another time (the operator's correction, not a new trip)."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    wave = await get_wave(session, wave_id)
    taken = await session.scalar(
        select(DepartureWave).where(
            DepartureWave.slot == wave.slot,
            DepartureWave.departs_at == departs_at,
            DepartureWave.id != wave.id,
        )
    )
    if taken is not None and taken.active:
        raise Conflict(
            "There is already a {slot} wave at {time}.",
            code="wave_taken",
            slot=wave.slot.value,
            time=departs_at.strftime("%H:%M"),
        )
    if taken is not None:  # an old removed wave holds the time: the unique pair frees it
        await session.delete(taken)
        await session.flush()
    before = wave.departs_at
    wave.departs_at = departs_at
    record_change(
        session,
        actor,
        action="update",
        entity="wave",
        entity_id=wave.id,
        at=now,
        before={"departs_at": before},
        after={"departs_at": departs_at},
        summary=f"{wave.slot.value} {departs_at:%H:%M}",
    )
    await session.commit()
    return wave


async def waves_for(session: AsyncSession, slot: Slot, settings: Settings) -> tuple[time, ...]:
    """The kitchen's departure times for `slot`: the operator's waves, or the settings' until
    the operator has set any."""
    rows = await session.scalars(
        select(DepartureWave.departs_at)
        .where(DepartureWave.slot == slot, DepartureWave.active)
        .order_by(DepartureWave.departs_at)
    )
    times = tuple(rows)
    if times:
        return times
    return (
        settings.kitchen_lunch_departures
        if slot is Slot.LUNCH
        else settings.kitchen_dinner_departures
    )
