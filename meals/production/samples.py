"""留样 (sample retention, GB 31654-2021): record each dish's sample of each batch, see what
is missing, and throw samples away once kept long enough.

Kitchen staff weigh at least ``kitchen_sample_grams`` of every dish of every batch into the
fridge and record it here; the sheet then shows each batch's sample or that it is missing.
A sample kept ``kitchen_sample_retention`` is listed for disposal until marked disposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import ProductionPlan, SampleEntry
from meals.accounts.service import Actor
from meals.db import begin_write
from meals.errors import Conflict, Invalid, NotFound
from meals.production import service
from meals.production.models import SampleRecord
from meals.settings import Settings
from meals.words import Slot

STAFF_NAME_MAX = 80


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleInput:
    """What kitchen staff enter for one batch's sample."""

    service_date: date
    slot: Slot
    batch_id: str
    taken_at: time
    grams: int
    fridge_celsius: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleDay:
    """The 留样 page of a date and slot: what to sample, what was, what to throw away."""

    service_date: date
    slot: Slot
    frozen: bool
    missing: tuple[SampleEntry, ...]
    recorded: tuple[SampleRecord, ...]
    due_for_disposal: tuple[SampleRecord, ...]


async def recorded(
    session: AsyncSession, service_date: date, slot: Slot
) -> dict[str, SampleRecord]:
    """The samples recorded for a date and slot, by batch."""
    rows = await session.scalars(
        select(SampleRecord)
        .where(SampleRecord.service_date == service_date, SampleRecord.slot == slot.value)
        .order_by(SampleRecord.sampled_at, SampleRecord.id)
    )
    return {row.batch_id: row for row in rows}


def missing(plan: ProductionPlan, kept: Mapping[str, SampleRecord]) -> list[SampleEntry]:
    """Every batch cooked for the plan whose sample is not recorded yet."""
    return [sample for sample in plan.samples if sample.batch_id not in kept]


async def due_for_disposal(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[SampleRecord]:
    """Samples kept their retention time and not yet thrown away, oldest first."""
    return list(
        await session.scalars(
            select(SampleRecord)
            .where(
                SampleRecord.disposed_at.is_(None),
                SampleRecord.sampled_at <= now - settings.kitchen_sample_retention,
            )
            .order_by(SampleRecord.sampled_at, SampleRecord.id)
        )
    )


async def sample_day(
    session: AsyncSession, settings: Settings, *, service_date: date, slot: Slot, now: datetime
) -> SampleDay:
    run = await service.latest_run(session, service_date, slot)
    kept = await recorded(session, service_date, slot)
    return SampleDay(
        service_date=service_date,
        slot=slot,
        frozen=run is not None,
        missing=tuple(missing(service.plan_of(run), kept)) if run else (),
        recorded=tuple(kept.values()),
        due_for_disposal=tuple(await due_for_disposal(session, settings, now)),
    )


def _check(entry: SampleInput, settings: Settings, taken_at: datetime, now: datetime) -> None:
    if entry.grams < settings.kitchen_sample_grams:
        raise Invalid(
            "A sample of {grams} g is too small: keep at least {minimum} g of every dish.",
            code="sample_too_small",
            grams=entry.grams,
            minimum=settings.kitchen_sample_grams,
        )
    coldest, warmest = settings.kitchen_sample_fridge_celsius
    if not coldest <= entry.fridge_celsius <= warmest:
        raise Invalid(
            "The fridge reads {celsius} °C; samples must be kept between {coldest} and "
            "{warmest} °C. Move the sample to a working fridge and record it again.",
            code="sample_fridge_temperature",
            celsius=format(entry.fridge_celsius, "g"),
            coldest=format(coldest, "g"),
            warmest=format(warmest, "g"),
        )
    if taken_at > now:
        raise Invalid(
            "The sample cannot be taken later than now ({now}).",
            code="sample_in_future",
            now=now.astimezone(settings.district_zone).strftime("%H:%M"),
        )


def _check_cooked(
    plan: ProductionPlan, batch_id: str, taken_at: datetime, settings: Settings
) -> None:
    """A sample is the food as served: one taken before its batch finished cooking is not
    what the seniors ate, and would hide what an inspector needs to test."""
    cook_end = next((b.cook_end for b in plan.batches if b.batch_id == batch_id), None)
    if cook_end is None:
        return
    # The form gives minutes: a sample taken in the minute cooking ended is in time.
    if taken_at < cook_end.replace(second=0, microsecond=0):
        raise Invalid(
            "Batch {batch} finishes cooking at {time}: take its sample from the cooked food, "
            "at {time} or later.",
            code="sample_before_cooked",
            batch=batch_id,
            time=cook_end.astimezone(settings.district_zone).strftime("%H:%M"),
        )


async def record_sample(
    session: AsyncSession,
    settings: Settings,
    *,
    entry: SampleInput,
    actor: Actor,
    now: datetime,
) -> SampleRecord:
    """Record one batch's sample, taken by the logged-in account; refused (nothing saved)
    when the batch is not cooked for the day, not finished cooking at the time given, is
    already sampled, or a value is out of range."""
    taken_at = datetime.combine(entry.service_date, entry.taken_at, settings.district_zone)
    _check(entry, settings, taken_at, now)
    await begin_write(session)
    run = await service.latest_run(session, entry.service_date, entry.slot)
    batch = next(
        (s for s in (service.plan_of(run).samples if run else ()) if s.batch_id == entry.batch_id),
        None,
    )
    if batch is None:
        raise NotFound(
            "Batch {batch} is not cooked for this meal.", code="no_such_batch", batch=entry.batch_id
        )
    _check_cooked(service.plan_of(run), entry.batch_id, taken_at, settings)
    if entry.batch_id in await recorded(session, entry.service_date, entry.slot):
        raise Conflict(
            "The sample of batch {batch} is already recorded.",
            code="sample_recorded",
            batch=entry.batch_id,
        )
    record = SampleRecord(
        service_date=entry.service_date,
        slot=entry.slot.value,
        batch_id=batch.batch_id,
        dish_name=batch.dish_name,
        sampled_at=taken_at,
        grams=entry.grams,
        fridge_celsius=entry.fridge_celsius,
        staff_name=(actor.display_name or str(actor.account_id))[:STAFF_NAME_MAX],
        account_id=actor.account_id,
        recorded_at=now,
    )
    session.add(record)
    await session.commit()
    return record


async def dispose_sample(
    session: AsyncSession, settings: Settings, *, sample_id: int, actor: Actor, now: datetime
) -> SampleRecord:
    """Mark a sample thrown away; refused before its retention time is over."""
    await begin_write(session)
    record = await session.get(SampleRecord, sample_id)
    if record is None:
        raise NotFound("Sample {sample_id} does not exist.", sample_id=sample_id)
    if record.disposed_at is not None:
        raise Conflict("This sample was already disposed of.", code="sample_disposed")
    keep_until = record.sampled_at + settings.kitchen_sample_retention
    if now < keep_until:
        raise Conflict(
            "Keep this sample until {until}: it has not been kept long enough yet.",
            code="sample_kept_too_short",
            until=keep_until.astimezone(settings.district_zone).strftime("%m-%d %H:%M"),
        )
    record.disposed_at = now
    record.disposed_by_account_id = actor.account_id
    await session.commit()
    return record
