"""Check-in (核销) at the counter: booked → served once, and walk-ins while portions remain.

A second scan of the same booking is refused with the time it was served, so a meal is never
counted twice for settlement (which pays on meals served).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meals import cards
from meals.accounts.service import Actor
from meals.bookings.diet import choose_variant
from meals.bookings.models import Booking, NewBooking
from meals.bookings.service import (
    _active_booking_id,
    _already_booked,
    check_in_service,
    diet_of,
    get_senior,
    load_meal_context,
    offer_of,
    priced_booking,
    quote_for,
)
from meals.bookings.writes import DuplicateBooking, StaleProfile, booking_writes, try_again
from meals.db import begin_write
from meals.errors import Conflict, Forbidden, NotFound
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.words import BookedBy, BookingStatus, Fulfilment, Role, Slot


@dataclass(frozen=True)
class CheckIn:
    booking: Booking | NewBooking
    senior: Senior
    walk_in: bool = False


def local_today(site: Site, now: datetime) -> date:
    """The calendar date at the site right now (sites keep their own time zone)."""
    return now.astimezone(ZoneInfo(site.timezone)).date()


def _ensure_counter_staff(actor: Actor, site_id: int) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is not Role.SITE_STAFF or site_id not in actor.site_ids:
        raise Forbidden("Only the staff of this site may check seniors in here.")


async def ensure_serving_window(
    session: AsyncSession, *, site: Site, slot: Slot, now: datetime, grace: timedelta
) -> None:
    """Refuse a counter check-in outside the slot's serving window widened by `grace`.

    Settlement pays on meals served, so a lunch "served" at 03:24 must not be recordable;
    a mistake found later is put right by a correction, with who and why.
    """
    site_slot = await session.scalar(
        select(SiteSlot).where(SiteSlot.site_id == site.id, SiteSlot.slot == slot)
    )
    if site_slot is None:
        raise NotFound(
            "{site} does not serve {slot}.", code="no_such_slot", site=site.name, slot=slot.value
        )
    zone = ZoneInfo(site.timezone)
    local = now.astimezone(zone)
    opens = datetime.combine(local.date(), site_slot.serve_start, tzinfo=zone) - grace
    closes = datetime.combine(local.date(), site_slot.serve_end, tzinfo=zone) + grace
    if not opens <= local <= closes:
        raise Conflict(
            "Check-in for {slot} at {site} is open from {opens} to {closes} (serving "
            "{start}–{end}, {grace} minutes either side); it is {now} now.",
            code="outside_serving_window",
            slot=slot.value,
            site=site.name,
            opens=opens.strftime("%H:%M"),
            closes=closes.strftime("%H:%M"),
            start=site_slot.serve_start.strftime("%H:%M"),
            end=site_slot.serve_end.strftime("%H:%M"),
            grace=int(grace.total_seconds() // 60),
            now=local.strftime("%H:%M"),
        )


async def find_senior_by_card(
    session: AsyncSession, *, scanned: str, card_key: bytes, today: date
) -> Senior:
    """The senior for a typed card number or a scanned card QR (whose signature must match)."""
    token = cards.token_in_scan(scanned)
    if token is not None:
        senior_id = cards.token_senior_id(token)
        senior = await session.get(Senior, senior_id) if senior_id else None
        if senior is None or not cards.token_valid(card_key, token, senior, today):
            raise NotFound("This meal card is not valid; type the card number instead.")
        return senior
    number = scanned.strip().upper()
    senior = await session.scalar(select(Senior).where(Senior.card_number == number))
    if senior is None:
        raise NotFound("No senior has meal card {card}.", card=number)
    return senior


async def check_in(
    session: AsyncSession,
    *,
    actor: Actor,
    site: Site,
    slot: Slot,
    scanned: str,
    now: datetime,
    settings: Settings,
) -> CheckIn:
    """Mark today's booking at this site served; refuse a second check-in of the same booking."""
    _ensure_counter_staff(actor, site.id)
    await begin_write(session)
    await ensure_serving_window(
        session, site=site, slot=slot, now=now, grace=settings.checkin_grace
    )
    today = local_today(site, now)
    senior = await find_senior_by_card(
        session,
        scanned=scanned,
        card_key=settings.key_for(cards.CARD_KEY_PURPOSE),
        today=today,
    )

    booking = await session.scalar(
        select(Booking).where(
            Booking.senior_id == senior.id,
            Booking.service_date == today,
            Booking.slot == slot,
            Booking.status != BookingStatus.CANCELLED,
        )
    )
    if not actor.may_see_senior(senior.id, senior.home_site_id) and (
        booking is None or booking.site_id != site.id
    ):
        # A senior of another site, with no booking here: say nothing about who it is or
        # where they booked (card numbers are sequential, so they could be tried in turn).
        raise NotFound(
            "Card {card} has no {slot} booking here today. Record a walk-in if portions remain.",
            code="no_booking",
            card=senior.card_number,
            slot=slot.value,
        )
    if booking is None:
        raise NotFound(
            "{name} has no {slot} booking today. Record a walk-in if portions remain.",
            code="no_booking",
            name=senior.name,
            slot=slot.value,
        )
    if booking.site_id != site.id:
        raise Conflict(
            "{name} booked {slot} at another site today, not here.",
            code="other_site",
            name=senior.name,
            slot=slot.value,
        )
    if booking.fulfilment is Fulfilment.DELIVERY:
        raise Conflict(
            "{name}'s meal today is delivered to their home, not served at the counter.",
            code="is_delivery",
            name=senior.name,
        )
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.SERVED, served_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await session.refresh(booking)
    if changed.rowcount == 0:
        raise _already_served(senior, booking, site)
    return CheckIn(booking, senior)


def _already_served(senior: Senior, booking: Booking, site: Site) -> Conflict:
    served_at = booking.served_at or booking.updated_at
    return Conflict(
        "{name} was already served at {time}; this scan was not counted again.",
        code="already_served",
        name=senior.name,
        time=served_at.astimezone(ZoneInfo(site.timezone)).strftime("%H:%M"),
    )


async def record_walk_in(
    session: AsyncSession,
    *,
    actor: Actor,
    senior_id: int,
    menu_item_id: int,
    now: datetime,
    settings: Settings,
) -> CheckIn:
    """Serve a senior who did not book: today's menu only, and only while portions remain.

    The booking cutoff exists so the kitchen knows what to cook; a walk-in takes a portion
    that was cooked anyway, so it is allowed after cutoff but never beyond capacity.
    """
    writes = booking_writes(session)
    senior = await get_senior(session, senior_id)
    meal = await load_meal_context(session, menu_item_id)
    _ensure_counter_staff(actor, meal.site.id)
    check_in_service(senior, meal)
    if meal.menu.published_at > now or meal.menu.service_date != local_today(meal.site, now):
        raise Conflict("Walk-ins are only for today's menu.", code="walk_in_not_today")
    await ensure_serving_window(
        session, site=meal.site, slot=meal.menu.slot, now=now, grace=settings.checkin_grace
    )
    service_date, slot = meal.menu.service_date, meal.menu.slot
    duplicate = await _active_booking_id(session, senior.id, service_date, slot)
    if duplicate is not None:
        raise _already_booked(duplicate, service_date, slot)
    choice = choose_variant(diet_of(senior), offer_of(meal.item))
    quote = await quote_for(
        session,
        senior=senior,
        item=meal.item,
        service_date=service_date,
        made_on=settings.district_today(now),
        settings=settings,
    )
    booking = priced_booking(
        senior.id,
        meal,
        quote,
        fulfilment=Fulfilment.DINE_IN,
        variant=choice.variant,
        status=BookingStatus.SERVED,
        booked_by=BookedBy.STAFF,
        account_id=actor.account_id,
        now=now,
        served_at=now,
    )
    try:
        await writes.save(booking, meal, senior.profile_version)
    except DuplicateBooking:  # booked at the same moment by someone else
        duplicate = await _active_booking_id(session, senior.id, service_date, slot)
        raise _already_booked(duplicate or 0, service_date, slot) from None
    except StaleProfile:  # the senior's record was changed at the same moment
        raise try_again() from None
    return CheckIn(booking, senior, walk_in=True)
