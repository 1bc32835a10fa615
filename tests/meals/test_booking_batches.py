"""PostgreSQL: bookings reaching the database together are written together, each with its verdict.

A worker sends the bookings that arrive while another booking statement is on its way as one
statement; these tests hold it to the same answers as one booking at a time: every booking
saved reads back as answered, the counters sum to the bookings, and a refused, repeated or
stale booking in a batch is refused on its own while the others are saved.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from meals.bookings.models import Booking, NewBooking
from meals.bookings.service import load_meal_context, priced_booking
from meals.bookings.writes import (
    DuplicateBooking,
    StaleProfile,
    booking_batches,
    booking_writes,
)
from meals.db import create_engine, create_sessionmaker
from meals.errors import Conflict
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.subsidies.service import PriceQuote, SubsidyLine
from meals.words import BookedBy, BookingStatus, Fulfilment, Variant
from tests.conftest import NOW, TODAY
from tests.meals.helpers import canteen, counters, meal, set_capacity

BATCH = 10
LIST_PRICE_FEN = 1200
SUBSIDY_FEN = 450


@pytest.fixture
async def one_writer(settings: Settings):
    """Sessions on an engine with one booking writer, so bookings arriving together queue."""
    if settings.is_sqlite:
        pytest.skip("SQLite bookings are written one at a time under its write lock")
    engine = create_engine(dataclasses.replace(settings, booking_batch_writers=1))
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _seniors(db, n: int) -> list[tuple[int, int]]:
    async with db() as s:
        rows = await s.execute(
            select(Senior.id, Senior.profile_version).order_by(Senior.id).limit(n)
        )
        return [tuple(row) for row in rows]


def _new_booking(meal_context, senior_id: int, minute: int) -> NewBooking:
    """A booking priced apart from its neighbours (so a mix-up of rows would show)."""
    subsidy = SUBSIDY_FEN + minute
    quote = PriceQuote(
        LIST_PRICE_FEN,
        subsidy,
        LIST_PRICE_FEN - subsidy,
        (SubsidyLine("civil_affairs", "民政局", subsidy),),
    )
    return priced_booking(
        senior_id,
        meal_context,
        quote,
        fulfilment=Fulfilment.DINE_IN,
        variant=Variant.REGULAR,
        status=BookingStatus.BOOKED,
        booked_by=BookedBy.STAFF,
        account_id=None,
        now=NOW + timedelta(minutes=minute),
    )


async def _save_together(sessions, item_id: int, bookings: list[tuple[NewBooking, int]]):
    """Save every booking at once, each in its own session, as concurrent requests do."""

    async def save(booking: NewBooking, version: int):
        async with sessions() as session:
            meal_context = await load_meal_context(session, item_id)
            try:
                return await booking_writes(session).save(booking, meal_context, version)
            except (Conflict, DuplicateBooking, StaleProfile) as refusal:
                return refusal

    return await asyncio.gather(*(save(booking, version) for booking, version in bookings))


async def _context(sessions, item_id: int):
    async with sessions() as session:
        return await load_meal_context(session, item_id)


async def test_bookings_arriving_together_are_saved_as_answered(db, one_writer):
    ref = await meal(db, (await canteen(db)).id, TODAY + timedelta(days=1))
    context = await _context(one_writer, ref.item_id)
    seniors = await _seniors(db, BATCH)
    before = await counters(db, ref)

    saved = await _save_together(
        one_writer,
        ref.item_id,
        [(_new_booking(context, sid, n), version) for n, (sid, version) in enumerate(seniors)],
    )

    assert all(isinstance(booking, NewBooking) for booking in saved), saved
    assert len({booking.id for booking in saved}) == BATCH
    async with db() as s:
        rows = {
            row.id: row
            for row in await s.scalars(select(Booking).where(Booking.id.in_([b.id for b in saved])))
        }
    for booking in saved:
        row = rows[booking.id]
        assert (row.senior_id, row.menu_item_id, row.menu_id, row.site_id) == (
            booking.senior_id,
            ref.item_id,
            ref.menu_id,
            ref.site_id,
        )
        assert (row.service_date, row.slot, row.status) == (
            booking.service_date,
            booking.slot,
            BookingStatus.BOOKED,
        )
        assert (row.price_fen, row.subsidy_fen, row.subsidy_breakdown) == (
            booking.price_fen,
            booking.subsidy_fen,
            booking.subsidy_breakdown,
        )
        assert row.created_at == booking.created_at
    assert await counters(db, ref) == (before[0] + BATCH, before[1] + BATCH)


async def test_bookings_arriving_together_share_statements(db, one_writer, settings):
    """Ten bookings at once cost the database fewer than ten statements (and commits)."""
    ref = await meal(db, (await canteen(db)).id, TODAY + timedelta(days=1))
    context = await _context(one_writer, ref.item_id)
    seniors = await _seniors(db, BATCH)
    batches = booking_batches(one_writer.kw["bind"])
    await _save_together(
        one_writer,
        ref.item_id,
        [(_new_booking(context, sid, n), version) for n, (sid, version) in enumerate(seniors)],
    )

    assert batches.bookings == BATCH
    assert batches.statements < BATCH


async def test_a_full_set_meal_in_a_batch_refuses_only_the_bookings_past_its_portions(
    db, one_writer
):
    ref = await meal(db, (await canteen(db)).id, TODAY + timedelta(days=1))
    before = await counters(db, ref)
    await set_capacity(db, ref, portions=before[0] + 3)
    context = await _context(one_writer, ref.item_id)
    seniors = await _seniors(db, BATCH)

    saved = await _save_together(
        one_writer,
        ref.item_id,
        [(_new_booking(context, sid, n), version) for n, (sid, version) in enumerate(seniors)],
    )

    taken = [booking for booking in saved if isinstance(booking, NewBooking)]
    refused = [refusal for refusal in saved if not isinstance(refusal, NewBooking)]
    assert len(taken) == 3
    assert {refusal.code for refusal in refused} == {"sold_out"}
    assert await counters(db, ref) == (before[0] + 3, before[1] + 3)


async def test_a_repeated_or_stale_booking_in_a_batch_is_refused_alone(db, one_writer):
    ref = await meal(db, (await canteen(db)).id, TODAY + timedelta(days=1))
    context = await _context(one_writer, ref.item_id)
    seniors = await _seniors(db, BATCH)
    changed_id = seniors[1][0]
    async with db() as s:  # someone edits the second senior after their profile was read
        await s.execute(update(Senior).where(Senior.id == changed_id).values(low_salt=True))
        await s.commit()
    before = await counters(db, ref)
    bookings = [
        (_new_booking(context, sid, n), version) for n, (sid, version) in enumerate(seniors)
    ]
    repeat = (_new_booking(context, seniors[0][0], 99), seniors[0][1])

    saved = await _save_together(one_writer, ref.item_id, [*bookings, repeat])

    outcomes = [type(outcome) for outcome in saved]
    assert outcomes[1] is StaleProfile
    assert sorted([outcomes[0], outcomes[-1]], key=str) == sorted(
        [NewBooking, DuplicateBooking], key=str
    )
    assert outcomes[2:-1] == [NewBooking] * (BATCH - 2)
    assert await counters(db, ref) == (before[0] + BATCH - 1, before[1] + BATCH - 1)


async def test_with_no_batch_writers_every_booking_is_sent_alone(db, settings):
    if settings.is_sqlite:
        pytest.skip("SQLite bookings are written one at a time under its write lock")
    engine = create_engine(dataclasses.replace(settings, booking_batch_writers=0))
    sessions = create_sessionmaker(engine)
    try:
        ref = await meal(db, (await canteen(db)).id, TODAY + timedelta(days=1))
        context = await _context(sessions, ref.item_id)
        seniors = await _seniors(db, 3)
        before = await counters(db, ref)

        saved = await _save_together(
            sessions,
            ref.item_id,
            [(_new_booking(context, sid, n), version) for n, (sid, version) in enumerate(seniors)],
        )

        assert booking_batches(engine) is None
        assert all(isinstance(booking, NewBooking) for booking in saved), saved
        assert await counters(db, ref) == (before[0] + 3, before[1] + 3)
    finally:
        await engine.dispose()
