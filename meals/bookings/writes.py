"""Where a booking touches the database: reading the senior, and counting + saving it at once.

Every booking, walk-in and standing-order date goes through `booking_writes`, so the
rules that keep counts right live in one place:

- a portion and a seat are counted and the booking inserted all together or not at all;
- the counters' CHECK constraints refuse oversell (a full set meal or slot), and the unique
  indexes refuse a second booking for the same slot or a repeated Idempotency-Key.

PostgreSQL does the three writes as one statement, autocommitted on the driver connection:
one round trip, row locks held only while it runs, and none of SQLAlchemy's per-execution
work on the busiest path of the service. Bookings a worker receives while its booking
statements are in flight go together as one statement (group commit, `_BookingBatches`): the
database's cost per statement and per commit is shared, and any refusal in a batch sends its
bookings one at a time, so each still gets its own answer. SQLite runs the writes in a
transaction that takes the write lock at BEGIN, after the reads, so other workers wait only for
the writes themselves.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import asyncpg
from cachetools import LRUCache
from sqlalchemy import (
    CTE,
    JSON,
    Engine,
    Insert,
    Integer,
    bindparam,
    column,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import Subquery

from meals.bookings.models import Booking, NewBooking
from meals.db import (
    DriverStatement,
    WriteBatching,
    begin_write,
    driver_connection,
    profile_cache,
    write_batching,
    writes_in_one_statement,
)
from meals.errors import Conflict
from meals.menus.models import PORTIONS_CHECK, SEATS_CHECK, Menu, MenuItem
from meals.seniors.models import Senior

if TYPE_CHECKING:
    from meals.bookings.service import MealContext


class BookingSenior(NamedTuple):
    """What the booking rules read about a senior: scope, diet, delivery and price inputs.

    Plain values only: bookings remember them as plain tuples, which the garbage collector
    stops tracking (its full collections would otherwise walk every remembered senior).
    """

    id: int
    name: str
    home_site_id: int
    birth_date: date
    categories: tuple[str, ...]
    halal: bool
    low_salt: bool
    low_sugar: bool
    iddsi_level: int
    allergens: tuple[str, ...]
    delivery_eligible: bool
    latitude: float | None
    longitude: float | None
    active: bool
    profile_version: int

    @classmethod
    def of(cls, row: Sequence[Any]) -> BookingSenior:
        senior = cls(*row)
        return senior._replace(
            categories=tuple(senior.categories or ()), allergens=tuple(senior.allergens or ())
        )


class DuplicateBooking(Exception):
    """A unique index refused the booking: the slot is taken or the request was a repeat."""


class StaleProfile(Exception):
    """The senior's row changed (or went away) after it was read: nothing was written."""


class BookingWrites(Protocol):
    remembered: bool
    """Whether the last senior came from memory (a refusal based on it deserves a fresh look).

    Cleared when the database itself refused the write (full, taken, deadlocked): that verdict
    does not rest on the profile, so a fresh look cannot change it.
    """

    async def senior(self, senior_id: int, *, fresh: bool = False) -> BookingSenior | None: ...

    async def save(
        self, booking: NewBooking, meal: MealContext, profile_version: int
    ) -> NewBooking:
        """Count a portion and a seat and insert `booking` (setting its id), or refuse.

        Raises Conflict when the set meal or the slot is full, DuplicateBooking when a unique
        index refuses it, StaleProfile when the senior's row is no longer at `profile_version`;
        in every case nothing was written.
        """
        ...


def booking_writes(session: AsyncSession) -> BookingWrites:
    """The booking writes for this session's database."""
    if writes_in_one_statement(session):
        engine = session.bind
        assert isinstance(engine, AsyncEngine)
        return _DriverWrites(session, engine)
    return _SessionWrites(session)


_BOOKING_SENIORS = select(*(getattr(Senior, name) for name in BookingSenior._fields))
_BOOKING_SENIOR = _BOOKING_SENIORS.where(Senior.id == bindparam("senior_id"))
_EVERY_BOOKING_SENIOR = _BOOKING_SENIORS.order_by(Senior.id)
PRELOAD_BATCH_ROWS = 2_000
_BOOKING_FIELDS = tuple(
    column.key for column in Booking.__table__.columns if not column.primary_key
)
# The one-statement booking's names for the row's values: prefixed, or the UPDATEs it starts
# with would take same-named values as columns to set.
_NEW_FIELDS = tuple((f"new_{key}", key) for key in _BOOKING_FIELDS)


_SEEN_VERSION = "seen_profile_version"
_TAKE_PORTION = (
    update(MenuItem)
    .where(MenuItem.id == bindparam("taken_item_id"))
    .values(booked_count=MenuItem.booked_count + 1)
)
_PROFILE_UNCHANGED = exists().where(
    Senior.id == bindparam("seen_senior_id"),
    Senior.profile_version == bindparam(_SEEN_VERSION),
)
_SEAT_TAKEN = update(Menu).values(seats_booked=Menu.seats_booked + 1)
_TAKE_SEAT = _SEAT_TAKEN.where(Menu.id == bindparam("taken_menu_id"))
_INSERT_BOOKING = insert(Booking).returning(Booking.id)


# Taken from the set meal's menu row by the one-statement booking, so they always agree with it.
_FROM_MENU = {"menu_id": "id", "site_id": "site_id", "service_date": "service_date", "slot": "slot"}


def _one_statement_booking() -> Insert:
    """PostgreSQL: count a portion, then a seat, then insert the booking, as one statement.

    Each step selects from the one before, which fixes the order rows are locked in (set meal,
    then its menu, as cancelling does), and the booking's menu, site, date and slot come from
    that menu row. Nothing happens unless the senior's row is still at the version the rules
    were checked on. The counters' CHECK constraints, not WHERE guards, refuse oversell, so a full
    slot fails the whole statement: nothing is half-written.
    """
    portion = (
        _TAKE_PORTION.where(_PROFILE_UNCHANGED).returning(MenuItem.menu_id).cte("taken_portion")
    )
    seat = (
        _SEAT_TAKEN.where(Menu.id == select(portion.c.menu_id).scalar_subquery())
        .returning(*(getattr(Menu, column) for column in _FROM_MENU.values()))
        .cte("taken_seat")
    )
    columns = Booking.__table__.columns
    row = select(
        *(
            seat.c[_FROM_MENU[key]]
            if key in _FROM_MENU
            else bindparam(name, type_=columns[key].type)
            for name, key in _NEW_FIELDS
        )
    )
    return insert(Booking).from_select(list(_BOOKING_FIELDS), row).returning(Booking.id)


# What each booking of a batch brings; the rest comes from the set meal's menu row, as above.
_GIVEN_FIELDS = tuple(key for key in _BOOKING_FIELDS if key not in _FROM_MENU)


def _many_bookings() -> Insert:
    """PostgreSQL: a batch of bookings (a JSON array of rows) counted and inserted as one statement.

    The same writes as `_one_statement_booking`, for every booking whose senior is still at the
    version it was checked on: set meals counted, then menus, then the rows inserted. Rows are
    locked in one order whatever the batch (all set meals by id, then all menus by id), the order
    a single booking or a cancellation follows too, so two workers' batches cannot deadlock on
    the counters. Any refusal (a full set meal or slot, a unique index) fails the whole
    statement: nothing is written, and the caller sends the bookings one at a time for each its
    own verdict. Returns (id, senior_id, menu_item_id) for each row inserted.
    """
    columns = Booking.__table__.columns
    given = (
        func.json_to_recordset(bindparam("bookings", type_=JSON))
        .table_valued(
            column(_SEEN_VERSION, Integer),
            *(column(key, columns[key].type) for key in _GIVEN_FIELDS),
        )
        .render_derived(name="given", with_types=True)
    )
    current = (
        select(given)
        .join(
            Senior,
            (Senior.id == given.c.senior_id) & (Senior.profile_version == given.c[_SEEN_VERSION]),
        )
        .cte("current_bookings")
    )
    portions = _count_taken(
        MenuItem,
        MenuItem.booked_count,
        select(current.c.menu_item_id.label("id"), func.count().label("taken"))
        .group_by(current.c.menu_item_id)
        .subquery("per_item"),
        returning=(MenuItem.id, MenuItem.menu_id),
        name="portions",
    )
    seats = _count_taken(
        Menu,
        Menu.seats_booked,
        select(portions.c.menu_id.label("id"), func.count().label("taken"))
        .select_from(current.join(portions, portions.c.id == current.c.menu_item_id))
        .group_by(portions.c.menu_id)
        .subquery("per_menu"),
        returning=tuple(getattr(Menu, name) for name in _FROM_MENU.values()),
        name="seats",
    )
    rows = select(
        *(
            seats.c[_FROM_MENU[key]] if key in _FROM_MENU else current.c[key]
            for key in _BOOKING_FIELDS
        )
    ).select_from(
        current.join(portions, portions.c.id == current.c.menu_item_id).join(
            seats, seats.c.id == portions.c.menu_id
        )
    )
    return (
        insert(Booking)
        .from_select(list(_BOOKING_FIELDS), rows)
        .returning(Booking.id, Booking.senior_id, Booking.menu_item_id)
    )


def _count_taken(
    model: type[MenuItem] | type[Menu],
    counter: Any,
    taken: Subquery,
    *,
    returning: tuple[Any, ...],
    name: str,
) -> CTE:
    """Lock the rows of `model` that `taken` (id, taken) names, in id order, and add to `counter`.

    Locked first, by id, so that every batch takes a table's rows in the same order.
    """
    locked = (
        select(model.id, taken.c.taken)
        .join(taken, taken.c.id == model.id)
        .order_by(model.id)
        .with_for_update(of=model, key_share=True)
        .cte(f"locked_{name}")
    )
    return (
        update(model)
        .where(model.id == locked.c.id)
        .values({counter: counter + locked.c.taken})
        .returning(*returning)
        .cte(f"taken_{name}")
    )


_SENIOR_ON_DRIVER = DriverStatement(lambda: _BOOKING_SENIOR)
_BOOKING_ON_DRIVER = DriverStatement(_one_statement_booking)
_BOOKINGS_ON_DRIVER = DriverStatement(_many_bookings)


async def remember_every_senior(engine: AsyncEngine) -> int:
    """Fill this worker's memory of seniors' profiles from the database; return how many.

    Run in the background when a worker starts, so that even a senior's first booking of the
    day needs no read of their row: one round trip, the write. Only the database writes that
    check the remembered version (PostgreSQL) remember profiles; a profile a booking has
    already remembered is kept, and one that changes later is caught by that check as usual.
    """
    profiles = profile_cache(engine)
    if profiles is None or engine.dialect.name != "postgresql":
        return 0
    remembered = 0
    async with engine.connect() as connection:
        rows = await connection.stream(
            _EVERY_BOOKING_SENIOR.limit(profiles.maxsize),
            execution_options={"yield_per": PRELOAD_BATCH_ROWS},
        )
        async for batch in rows.partitions():
            for row in batch:
                if row.id not in profiles:
                    _remember(profiles, BookingSenior.of(row))
                    remembered += 1
    return remembered


def _remember(profiles: LRUCache, senior: BookingSenior) -> None:
    """Kept as a plain tuple, which the garbage collector stops tracking (see BookingSenior)."""
    profiles[senior.id] = tuple(senior)


def _values(booking: NewBooking) -> dict[str, Any]:
    return {key: getattr(booking, key) for key in _BOOKING_FIELDS}


class _DriverWrites:
    """PostgreSQL: each read or write takes a pooled connection only for its own round trip.

    So a booking never holds two at once (the session's, for rules that read, and this one),
    and a worker's requests in flight never need more connections than its pool keeps open.
    """

    def __init__(self, session: AsyncSession, engine: AsyncEngine) -> None:
        self._session = session
        self._engine = engine
        self._profiles = profile_cache(engine)
        self.remembered = False

    async def senior(self, senior_id: int, *, fresh: bool = False) -> BookingSenior | None:
        if not fresh and self._profiles is not None:
            remembered = self._profiles.get(senior_id)
            if remembered is not None:
                self.remembered = True
                return BookingSenior._make(remembered)
        self.remembered = False
        async with driver_connection(self._engine) as driver:
            row = await _SENIOR_ON_DRIVER.fetchrow(self._engine, driver, {"senior_id": senior_id})
        if row is None:
            return None
        senior = BookingSenior.of(row)
        if self._profiles is not None:
            _remember(self._profiles, senior)
        return senior

    async def save(
        self, booking: NewBooking, meal: MealContext, profile_version: int
    ) -> NewBooking:
        if self._session.in_transaction():  # reads the rules made: give their connection back
            await self._session.commit()
        batches = booking_batches(self._engine)
        try:
            if batches is None:
                async with driver_connection(self._engine) as driver:
                    booking_id = await _write_one(self._engine, driver, booking, profile_version)
            else:
                booking_id = await batches.write(booking, profile_version)
        except asyncpg.PostgresError as error:
            self.remembered = False  # the database's verdict, not the profile's (see above)
            if isinstance(error, asyncpg.UniqueViolationError):
                raise DuplicateBooking from None
            if isinstance(error, asyncpg.CheckViolationError):
                raise full_refusal(str(error.constraint_name), meal) or error from None
            if isinstance(error, asyncpg.TransactionRollbackError):  # e.g. a simultaneous cancel
                raise try_again() from None
            raise
        if booking_id is None:  # the senior's row changed, or the set meal went away, since read
            raise StaleProfile
        booking.id = booking_id
        return booking


async def _write_one(
    engine: AsyncEngine, driver: Any, booking: NewBooking, profile_version: int
) -> int | None:
    """One booking, one statement: its id, or None when the senior's row changed since read."""
    values = {name: getattr(booking, key) for name, key in _NEW_FIELDS}
    values["taken_item_id"] = booking.menu_item_id
    values["seen_senior_id"] = booking.senior_id
    values[_SEEN_VERSION] = profile_version
    row = await _BOOKING_ON_DRIVER.fetchrow(engine, driver, values)
    return None if row is None else row[0]


class _Waiting(NamedTuple):
    booking: NewBooking
    profile_version: int
    answer: asyncio.Future


class _BookingBatches:
    """One worker's bookings on their way to PostgreSQL, sent together when they arrive together.

    At most `writers` booking statements are in flight; the bookings that arrive meanwhile wait
    and go as one statement and one commit (up to `rows` of them), so under load the database
    parses, plans, checks and commits once for many bookings instead of once for each. A
    booking that arrives when a writer is free goes at once, alone, as before.
    """

    def __init__(self, engine: AsyncEngine, batching: WriteBatching) -> None:
        self._engine = engine
        self._batching = batching
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[_Waiting] = []
        self._writing = 0
        self._writers: set[asyncio.Task] = set()
        self.statements = 0
        self.bookings = 0

    async def write(self, booking: NewBooking, profile_version: int) -> int | None:
        """The new booking's id, or None when the senior's row changed; raises the refusal."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # an engine outliving its loop (tests) starts afresh
            self._loop, self._waiting, self._writing = loop, [], 0
        answer = loop.create_future()
        self._waiting.append(_Waiting(booking, profile_version, answer))
        if self._writing < self._batching.writers:
            self._writing += 1
            writer = asyncio.create_task(self._write_waiting())
            self._writers.add(writer)  # the loop keeps only a weak reference to a task
            writer.add_done_callback(self._writers.discard)
        return await answer

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._batching.rows]
                del self._waiting[: self._batching.rows]
                # A request that went away before its booking was sent takes nothing.
                batch = [waiting for waiting in batch if not waiting.answer.done()]
                if batch:
                    await self._send(batch)
        finally:
            self._writing -= 1

    async def _send(self, batch: list[_Waiting]) -> None:
        try:
            async with driver_connection(self._engine) as driver:
                if len(batch) == 1 or not await self._send_together(driver, batch):
                    for waiting in batch:
                        await self._send_alone(driver, waiting)
        except Exception as error:  # the connection failed: whoever waits hears why
            for waiting in batch:
                _answer(waiting.answer, error=error)
        except BaseException:  # the worker is stopping: nobody is answered
            for waiting in batch:
                waiting.answer.cancel()
            raise

    async def _send_together(self, driver: Any, batch: list[_Waiting]) -> bool:
        """Write the whole batch as one statement; False (nothing written) if any was refused."""
        keys = {(waiting.booking.senior_id, waiting.booking.menu_item_id) for waiting in batch}
        if len(keys) < len(batch):  # the same booking twice: the unique index will say which
            return False
        rows = [_batch_row(waiting) for waiting in batch]
        try:
            saved = await _BOOKINGS_ON_DRIVER.fetch(self._engine, driver, {"bookings": rows})
        except asyncpg.PostgresError:  # full, taken or deadlocked: each is asked alone
            return False
        self._count(len(batch))
        ids = {(row[1], row[2]): row[0] for row in saved}
        for waiting in batch:
            key = (waiting.booking.senior_id, waiting.booking.menu_item_id)
            _answer(waiting.answer, result=ids.get(key))
        return True

    async def _send_alone(self, driver: Any, waiting: _Waiting) -> None:
        try:
            booking_id = await _write_one(
                self._engine, driver, waiting.booking, waiting.profile_version
            )
        except asyncpg.PostgresError as error:
            _answer(waiting.answer, error=error)
        else:
            _answer(waiting.answer, result=booking_id)
        self._count(1)

    def _count(self, bookings: int) -> None:
        self.statements += 1
        self.bookings += bookings


def _batch_row(waiting: _Waiting) -> dict[str, Any]:
    row = {key: getattr(waiting.booking, key) for key in _GIVEN_FIELDS}
    row[_SEEN_VERSION] = waiting.profile_version
    return row


def _answer(
    answer: asyncio.Future, *, result: int | None = None, error: BaseException | None = None
) -> None:
    if answer.done():  # its request went away meanwhile
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)


_BATCHES: weakref.WeakKeyDictionary[Engine, _BookingBatches] = weakref.WeakKeyDictionary()


def booking_batches(engine: AsyncEngine) -> _BookingBatches | None:
    """This worker's batches for `engine`, if it sends concurrent bookings together."""
    batches = _BATCHES.get(engine.sync_engine)
    if batches is None:
        batching = write_batching(engine)
        if batching is None:
            return None
        batches = _BATCHES[engine.sync_engine] = _BookingBatches(engine, batching)
    return batches


class _SessionWrites:
    """SQLite: the senior is always read afresh, so the version needs no check."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.remembered = False

    async def senior(self, senior_id: int, *, fresh: bool = False) -> BookingSenior | None:
        row = (await self._session.execute(_BOOKING_SENIOR, {"senior_id": senior_id})).first()
        return None if row is None else BookingSenior.of(row)

    async def save(
        self, booking: NewBooking, meal: MealContext, profile_version: int
    ) -> NewBooking:
        # The write lock is taken here, not before the reads: the checks and unique indexes
        # make the writes safe on their own, and the other workers wait only for these three.
        await begin_write(self._session)
        connection = await self._session.connection()
        try:
            await connection.execute(_TAKE_PORTION, {"taken_item_id": meal.item.id})
            await connection.execute(_TAKE_SEAT, {"taken_menu_id": meal.menu.id})
            saved = await connection.execute(_INSERT_BOOKING, _values(booking))
            booking.id = saved.scalar_one()
            await self._session.commit()
        except IntegrityError as error:
            await self._session.rollback()
            raise full_refusal(str(error.orig), meal) or DuplicateBooking() from None
        return booking


def try_again() -> Conflict:
    """Nothing was saved because of a simultaneous change; the same request can be repeated."""
    return Conflict("The booking could not be saved; please try again.", code="retry")


def full_refusal(database_message: str, meal: MealContext) -> Conflict | None:
    """The refusal for a counter check the database reported, if it was one."""
    if PORTIONS_CHECK in database_message:
        return Conflict(
            "{meal} on {day} is sold out; choose another set meal.",
            code="sold_out",
            meal=meal.item.name,
            day=meal.menu.service_date.isoformat(),
        )
    if SEATS_CHECK in database_message:
        return Conflict(
            "{site} is fully booked for {slot} on {day}.",
            code="site_full",
            site=meal.site.name,
            slot=meal.menu.slot.value,
            day=meal.menu.service_date.isoformat(),
        )
    return None
