"""Booking rules: cutoff, capacity without oversell, one per senior and slot, diet, price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, partial

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import FamilyBinding
from meals.accounts.service import Actor
from meals.bookings.diet import DietProfile, MealOffer, Notice, choose_variant
from meals.bookings.models import Booking, NewBooking
from meals.bookings.writes import (
    BookingSenior,
    BookingWrites,
    DuplicateBooking,
    StaleProfile,
    booking_writes,
    try_again,
)
from meals.db import begin_write, cached_reference
from meals.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from meals.menus.models import Menu, MenuItem
from meals.notifications.service import NoticeKind, notify_family
from meals.pages.i18n import N_
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.sites.service import booking_deadline
from meals.subsidies.service import (
    PriceQuote,
    age_on,
    effective_categories,
    load_tiers,
    quote_price,
)
from meals.words import BookedBy, BookingStatus, Fulfilment, Role, Slot, Variant


@dataclass(frozen=True)
class BookingRequest:
    senior_id: int
    menu_item_id: int
    fulfilment: Fulfilment
    variant: Variant | None = None


@dataclass(frozen=True)
class BookingOutcome:
    booking: Booking | NewBooking
    created: bool
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class MealContext:
    """A menu item with the menu, site and slot it belongs to: everything a booking checks."""

    item: MenuItem
    menu: Menu
    site: Site
    slot: SiteSlot

    @cached_property
    def deadline(self) -> datetime:
        """Worked out once per context: the context is cached and read by every booking."""
        return booking_deadline(self.slot, self.site.timezone, self.menu.service_date)


BOOKED_BY_ROLE = {Role.SENIOR: BookedBy.SELF, Role.FAMILY: BookedBy.FAMILY}


async def load_meal_context(session: AsyncSession, menu_item_id: int) -> MealContext:
    """The set meal with its menu, site and slot; cached briefly (its counters are not used)."""

    async def load() -> MealContext:
        row = (
            await session.execute(
                select(MenuItem, Menu, Site, SiteSlot)
                .join(Menu, MenuItem.menu_id == Menu.id)
                .join(Site, Menu.site_id == Site.id)
                .join(SiteSlot, (SiteSlot.site_id == Site.id) & (SiteSlot.slot == Menu.slot))
                .where(MenuItem.id == menu_item_id)
            )
        ).one_or_none()
        if row is None:
            raise NotFound(
                "There is no set meal {menu_item_id} on any menu.", menu_item_id=menu_item_id
            )
        for instance in row:
            # Detached, so a later rollback of this session cannot expire what the cache holds.
            session.expunge(instance)
        return MealContext(*row)

    return await cached_reference(session, ("meal", menu_item_id), load)


async def get_senior(session: AsyncSession, senior_id: int) -> Senior:
    senior = await session.get(Senior, senior_id)
    if senior is None:
        raise NotFound("There is no senior {senior_id}.", senior_id=senior_id)
    return senior


def diet_of(senior: Senior | BookingSenior) -> DietProfile:
    return DietProfile(
        halal=senior.halal,
        low_salt=senior.low_salt,
        low_sugar=senior.low_sugar,
        iddsi_level=senior.iddsi_level,
        allergens=tuple(senior.allergens or ()),
    )


def offer_of(item: MenuItem) -> MealOffer:
    return MealOffer(
        name=item.name, diet_tags=item.diet_tags, variants=item.variants, allergens=item.allergens
    )


def _check_open(meal: MealContext, now: datetime, action: str) -> None:
    deadline = meal.deadline
    if now >= deadline:
        raise Conflict(
            "{action} for {slot} on {day} at {site} closed at {deadline} ({tz}).",
            code="after_cutoff",
            action=action,
            slot=meal.menu.slot.value,
            day=meal.menu.service_date.isoformat(),
            site=meal.site.name,
            deadline=deadline.strftime("%Y-%m-%d %H:%M"),
            tz=meal.site.timezone,
        )


def check_in_service(senior: Senior | BookingSenior, meal: MealContext) -> None:
    """Refuse a booking the console has taken out of service: a deactivated senior, a closed
    site, a set meal taken off its menu (its bookings were moved or cancelled)."""
    ensure_serving(senior, meal.site)
    if meal.item.withdrawn_at is not None:
        raise Conflict(
            "Set meal {meal} was taken off the menu for {day}; choose another.",
            code="set_meal_withdrawn",
            meal=meal.item.name,
            day=meal.menu.service_date.isoformat(),
        )


def ensure_serving(senior: Senior | BookingSenior, site: Site) -> None:
    """Refuse meals for a deactivated senior or at a closed site (bookings, standing orders)."""
    if not senior.active:
        raise Conflict(
            "{name}'s record is deactivated, so no meals can be booked for them.",
            code="senior_inactive",
            name=senior.name,
        )
    if not site.active:
        raise Conflict(
            "{site} is closed and takes no more bookings.",
            code="site_closed",
            site=site.name,
        )


def _check_fulfilment(senior: Senior | BookingSenior, site: Site, fulfilment: Fulfilment) -> None:
    if fulfilment is not Fulfilment.DELIVERY:
        return
    if not site.offers_delivery:
        raise Conflict(
            "{site} does not deliver to homes; choose dine-in or pick-up.",
            code="delivery_unavailable",
            site=site.name,
        )
    if not senior.delivery_eligible:
        raise Conflict(
            "{name} is not registered for home delivery; ask the meal point to assess them.",
            code="delivery_not_eligible",
            name=senior.name,
        )
    if senior.latitude is None or senior.longitude is None:
        raise Conflict(
            "{name} has no map location for delivery; the meal point must add the address first.",
            code="delivery_no_location",
            name=senior.name,
        )


async def quote_for(
    session: AsyncSession,
    *,
    senior: Senior | BookingSenior,
    item: MenuItem,
    service_date: date,
    made_on: date,
    settings: Settings,
) -> PriceQuote:
    """The price this senior pays for this set meal on that date, with each subsidy, under the
    subsidy policy in force on `made_on` (the day the booking is made, which it keeps)."""
    age = age_on(senior.birth_date, service_date)
    categories = effective_categories(senior.categories, age, settings.advanced_age_years)
    tiers = await load_tiers(session, made_on)
    return quote_price(item.list_price_fen, age, categories, tiers)


async def _by_idempotency_key(session: AsyncSession, account_id: int, key: str) -> Booking | None:
    return await session.scalar(
        select(Booking).where(Booking.account_id == account_id, Booking.idempotency_key == key)
    )


def _replay(existing: Booking, request: BookingRequest) -> BookingOutcome:
    if existing.senior_id != request.senior_id or existing.menu_item_id != request.menu_item_id:
        raise Invalid(
            "This Idempotency-Key was already used for a different booking; use a new key.",
            code="idempotency_key_reused",
        )
    return BookingOutcome(existing, created=False)


async def _active_booking_id(
    session: AsyncSession, senior_id: int, service_date: date, slot: Slot
) -> int | None:
    return await session.scalar(
        select(Booking.id).where(
            Booking.senior_id == senior_id,
            Booking.service_date == service_date,
            Booking.slot == slot,
            Booking.status != BookingStatus.CANCELLED,
        )
    )


def _already_booked(booking_id: int, service_date: date, slot: Slot) -> Conflict:
    return Conflict(
        "This senior already has booking {booking_id} for {slot} on {day}; cancel it first.",
        code="already_booked",
        booking_id=booking_id,
        slot=slot.value,
        day=service_date.isoformat(),
    )


async def create_booking(
    session: AsyncSession,
    *,
    actor: Actor,
    request: BookingRequest,
    now: datetime,
    settings: Settings,
    idempotency_key: str | None = None,
    tell_family: bool = True,
) -> BookingOutcome:
    """Take one booking, or refuse it with the reason; a refusal leaves the database unchanged.

    A booking someone else made for the senior (staff, a family member) is told to the rest of
    the senior's family (`tell_family`; standing orders expanding do not tell each date)."""
    outcome = await _create_booking(
        session,
        actor=actor,
        request=request,
        now=now,
        settings=settings,
        idempotency_key=idempotency_key,
    )
    if tell_family and outcome.created and actor.role is not Role.SENIOR:
        await _tell_family_booked(session, actor, outcome.booking, now)
    return outcome


async def _tell_family_booked(
    session: AsyncSession, actor: Actor, booking: Booking | NewBooking, now: datetime
) -> None:
    # Most seniors booked by staff have no family bound: one read, and no write lock for them.
    bound = await session.scalar(
        select(FamilyBinding.account_id)
        .where(
            FamilyBinding.senior_id == booking.senior_id,
            FamilyBinding.account_id != actor.account_id,
        )
        .limit(1)
    )
    if bound is None:
        await session.rollback()
        return
    item = await session.get(MenuItem, booking.menu_item_id)
    await begin_write(session)
    notices = await notify_family(
        session,
        booking.senior_id,
        NoticeKind.BOOKED_FOR_SENIOR,
        now=now,
        params={
            "day": booking.service_date.isoformat(),
            "slot": booking.slot.value,
            "meal": item.name if item else "",
            "meal_en": item.name_en if item else "",
            "who": actor.role.value,
        },
        except_account_id=actor.account_id,
    )
    if notices:
        await session.commit()
    else:
        await session.rollback()


async def _create_booking(
    session: AsyncSession,
    *,
    actor: Actor,
    request: BookingRequest,
    now: datetime,
    settings: Settings,
    idempotency_key: str | None = None,
) -> BookingOutcome:
    if idempotency_key:
        existing = await _by_idempotency_key(session, actor.account_id, idempotency_key)
        if existing is not None:
            return _replay(existing, request)
    writes = booking_writes(session)
    take = partial(
        _take,
        session,
        writes,
        actor=actor,
        request=request,
        now=now,
        settings=settings,
        idempotency_key=idempotency_key,
    )
    senior = await writes.senior(request.senior_id)
    try:
        return await take(senior)
    except (DomainError, StaleProfile):
        if not writes.remembered:
            raise
    # Checked on a remembered profile that was refused or has changed since: decide again
    # on the senior as they are now.
    senior = await writes.senior(request.senior_id, fresh=True)
    try:
        return await take(senior)
    except StaleProfile:  # changed again in between
        raise try_again() from None


async def _take(
    session: AsyncSession,
    writes: BookingWrites,
    senior: BookingSenior | None,
    *,
    actor: Actor,
    request: BookingRequest,
    now: datetime,
    settings: Settings,
    idempotency_key: str | None,
) -> BookingOutcome:
    """Check every rule for this senior as read, price, and save (or refuse)."""
    if senior is None:
        raise NotFound("There is no senior {senior_id}.", senior_id=request.senior_id)
    meal = await load_meal_context(session, request.menu_item_id)
    to_home = request.fulfilment is Fulfilment.DELIVERY
    if not actor.may_book(senior.id, senior.home_site_id, meal.site.id, to_home=to_home):
        raise Forbidden("You may not book meals for this senior here.", code="out_of_scope")
    if meal.menu.published_at > now:
        raise Conflict("This menu is not published yet.", code="not_published")
    check_in_service(senior, meal)
    _check_open(meal, now, "Booking")
    _check_fulfilment(senior, meal.site, request.fulfilment)
    choice = choose_variant(diet_of(senior), offer_of(meal.item), request.variant)
    quote = await quote_for(
        session,
        senior=senior,
        item=meal.item,
        service_date=meal.menu.service_date,
        made_on=settings.district_today(now),
        settings=settings,
    )
    booking = priced_booking(
        senior.id,
        meal,
        quote,
        fulfilment=request.fulfilment,
        variant=choice.variant,
        status=BookingStatus.BOOKED,
        booked_by=BOOKED_BY_ROLE.get(actor.role, BookedBy.STAFF),
        account_id=actor.account_id,
        now=now,
        idempotency_key=idempotency_key,
    )
    try:
        await writes.save(booking, meal, senior.profile_version)
    except DuplicateBooking:
        # A second booking for the same slot, or a concurrent repeat of this request, was
        # refused by the unique indexes: answer as if the other one had come first.
        service_date, slot = meal.menu.service_date, meal.menu.slot
        return await _resolve_race(session, actor, request, service_date, slot, idempotency_key)
    return BookingOutcome(booking, created=True, notices=choice.notices)


CANCELLED_BY = {
    Role.SITE_STAFF: N_("cancelled by the meal point's staff"),
    Role.ADMIN: N_("cancelled by the operator"),
    Role.FAMILY: N_("cancelled by another family member"),
}


def priced_booking(
    senior_id: int,
    meal: MealContext,
    quote: PriceQuote,
    *,
    fulfilment: Fulfilment,
    variant: Variant,
    status: BookingStatus,
    booked_by: BookedBy,
    account_id: int,
    now: datetime,
    idempotency_key: str | None = None,
    served_at: datetime | None = None,
) -> NewBooking:
    """A new booking row for a set meal, with its price breakdown frozen from `quote`."""
    return NewBooking(
        senior_id=senior_id,
        site_id=meal.site.id,
        menu_id=meal.menu.id,
        menu_item_id=meal.item.id,
        service_date=meal.menu.service_date,
        slot=meal.menu.slot,
        fulfilment=fulfilment,
        variant=variant,
        status=status,
        booked_by=booked_by,
        account_id=account_id,
        list_price_fen=quote.list_price_fen,
        subsidy_fen=quote.subsidy_fen,
        price_fen=quote.price_fen,
        subsidy_breakdown=quote.breakdown_json(),
        created_at=now,
        updated_at=now,
        idempotency_key=idempotency_key,
        served_at=served_at,
    )


async def _resolve_race(
    session: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    service_date: date,
    slot: Slot,
    idempotency_key: str | None,
) -> BookingOutcome:
    """A concurrent request won a uniqueness race: answer as if it had come first."""
    if idempotency_key:
        existing = await _by_idempotency_key(session, actor.account_id, idempotency_key)
        if existing is not None:
            return _replay(existing, request)
    duplicate = await _active_booking_id(session, request.senior_id, service_date, slot)
    if duplicate is not None:
        raise _already_booked(duplicate, service_date, slot)
    raise try_again()


def _visible_to(actor: Actor) -> Select | None:
    """A filter on bookings for the actor's scope (None: sees all)."""
    match actor.role:
        case Role.ADMIN:
            return None
        case Role.SENIOR:
            return Booking.senior_id == actor.senior_id
        case Role.FAMILY:
            return Booking.senior_id.in_(actor.senior_ids)
        case Role.SITE_STAFF:
            return Booking.site_id.in_(actor.site_ids)
    raise Forbidden("Your account ({role}) may not see bookings.", role=actor.role.value)


async def get_booking(session: AsyncSession, *, actor: Actor, booking_id: int) -> Booking:
    query = select(Booking).where(Booking.id == booking_id)
    scope = _visible_to(actor)
    if scope is not None:
        query = query.where(scope)
    booking = await session.scalar(query)
    if booking is None:
        raise NotFound("There is no booking {booking_id} that you can see.", booking_id=booking_id)
    return booking


@dataclass(frozen=True)
class BookingFilter:
    senior_id: int | None = None
    site_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    slot: Slot | None = None
    status: BookingStatus | None = None
    limit: int = 100
    offset: int = 0


async def list_bookings(
    session: AsyncSession, *, actor: Actor, filters: BookingFilter
) -> list[Booking]:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise Invalid("date_from is after date_to.")
    query = select(Booking)
    scope = _visible_to(actor)
    if scope is not None:
        query = query.where(scope)
    conditions = {
        Booking.senior_id: filters.senior_id,
        Booking.site_id: filters.site_id,
        Booking.slot: filters.slot,
        Booking.status: filters.status,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if filters.date_from:
        query = query.where(Booking.service_date >= filters.date_from)
    if filters.date_to:
        query = query.where(Booking.service_date <= filters.date_to)
    query = query.order_by(Booking.service_date, Booking.slot, Booking.id)
    return list(await session.scalars(query.limit(filters.limit).offset(filters.offset)))


async def cancel_booking(
    session: AsyncSession, *, actor: Actor, booking_id: int, now: datetime
) -> Booking:
    """Cancel before cutoff and give the portion back; repeating a cancel changes nothing."""
    await begin_write(session)
    booking = await get_booking(session, actor=actor, booking_id=booking_id)
    if booking.status is BookingStatus.CANCELLED:
        return booking
    if booking.status is not BookingStatus.BOOKED:
        raise Conflict(
            "Booking {booking_id} is already {status} and can no longer be cancelled.",
            code="not_cancellable",
            booking_id=booking.id,
            status=booking.status.value,
        )
    meal = await load_meal_context(session, booking.menu_item_id)
    _check_open(meal, now, "Cancelling")
    # Lock the set meal and the menu before the booking, the order a new booking takes them
    # in: a cancel and a re-booking of the same slot at the same moment then queue, not
    # deadlock.
    await session.execute(
        select(MenuItem.id).where(MenuItem.id == booking.menu_item_id).with_for_update()
    )
    await session.execute(select(Menu.id).where(Menu.id == booking.menu_id).with_for_update())
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount:
        await session.execute(
            update(MenuItem)
            .where(MenuItem.id == booking.menu_item_id)
            .values(booked_count=MenuItem.booked_count - 1)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Menu)
            .where(Menu.id == booking.menu_id)
            .values(seats_booked=Menu.seats_booked - 1)
            .execution_options(synchronize_session=False)
        )
        if actor.role is not Role.SENIOR:
            await notify_family(
                session,
                booking.senior_id,
                NoticeKind.MEAL_CANCELLED,
                now=now,
                params={
                    "day": booking.service_date.isoformat(),
                    "slot": booking.slot.value,
                    "reason": CANCELLED_BY.get(actor.role, CANCELLED_BY[Role.SITE_STAFF]),
                },
                except_account_id=actor.account_id,
            )
    await session.commit()
    await session.refresh(booking)
    return booking


async def quote_booking(
    session: AsyncSession,
    *,
    actor: Actor,
    senior_id: int,
    menu_item_id: int,
    settings: Settings,
    now: datetime,
):
    """The price a senior within the actor's scope would pay for a set meal (a price shows the
    senior's subsidy category, so only for seniors the actor may see, not walk-ins)."""
    senior = await get_senior(session, senior_id)
    meal = await load_meal_context(session, menu_item_id)
    if not (
        actor.may_see_senior(senior.id, senior.home_site_id)
        and actor.may_book(senior.id, senior.home_site_id, meal.site.id)
    ):
        raise Forbidden("You may not book meals for this senior here.", code="out_of_scope")
    quote = await quote_for(
        session,
        senior=senior,
        item=meal.item,
        service_date=meal.menu.service_date,
        made_on=settings.district_today(now),
        settings=settings,
    )
    return senior, meal, quote


def check_fulfilment_allowed(senior: Senior, site: Site, fulfilment: Fulfilment) -> None:
    """Refuse a fulfilment the site or senior cannot have (standing orders check it up front)."""
    _check_fulfilment(senior, site, fulfilment)
