"""What the pages show, gathered from the services: a senior's week, bookings and today's list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings.checkin import local_today
from meals.bookings.diet import VariantChoice, choose_variant
from meals.bookings.models import Booking
from meals.bookings.ratings import MealRating
from meals.bookings.service import (
    BookingFilter,
    diet_of,
    list_bookings,
    offer_of,
    quote_for,
)
from meals.errors import DomainError
from meals.menus.models import MenuItem
from meals.menus.service import list_menus
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.sites.service import booking_deadline
from meals.words import BookingStatus, Fulfilment, Slot

MENU_DAYS = 7
HISTORY_DAYS = 31
UPCOMING_LIMIT = 100
PAID_STATUSES = (BookingStatus.BOOKED, BookingStatus.SERVED, BookingStatus.DELIVERED)


SALT_PER_SODIUM = 2.54  # grams of salt per gram of sodium
MG_PER_G = 1000


@dataclass(frozen=True)
class Nutrition:
    """Per set meal, summed over its dishes' portions; None where a dish's figure is unknown."""

    energy_kcal: int | None
    protein_g: float | None
    salt_g: float | None


def nutrition_of(item: MenuItem) -> Nutrition:
    dishes = [part.dish for part in item.dishes]

    def total(values: list[float | None]) -> float | None:
        return None if not values or any(v is None for v in values) else sum(values)

    energy = total([d.energy_kcal for d in dishes])
    protein = total([d.protein_g for d in dishes])
    sodium = total([d.sodium_mg for d in dishes])
    return Nutrition(
        energy_kcal=None if energy is None else round(energy),
        protein_g=None if protein is None else round(protein, 1),
        salt_g=None if sodium is None else round(sodium * SALT_PER_SODIUM / MG_PER_G, 1),
    )


@dataclass(frozen=True)
class Offer:
    item: MenuItem
    list_price_fen: int
    subsidy_fen: int
    price_fen: int
    refusal: DomainError | None
    choice: VariantChoice | None = None
    # The senior's own allergens this set meal contains (made without them, or refused).
    clash: tuple[str, ...] = ()
    remaining: int = 0
    nutrition: Nutrition | None = None

    @property
    def sold_out(self) -> bool:
        return self.remaining <= 0

    @property
    def meat_and_vegetable(self) -> bool:
        kinds = {part.dish.kind for part in self.item.dishes}
        return {"meat", "vegetable"} <= kinds


@dataclass
class Meal:
    service_date: date
    slot: Slot
    deadline: datetime
    is_open: bool
    offers: list[Offer]
    booking: Booking | None = None
    full: bool = False
    booked_item: MenuItem | None = None


@dataclass
class Day:
    day: date
    meals: list[Meal] = field(default_factory=list)


def fulfilments_for(senior: Senior, site: Site) -> list[Fulfilment]:
    """The ways this senior can get a meal from this site; delivery only where both allow it."""
    choices = [Fulfilment.DINE_IN, Fulfilment.PICKUP]
    located = senior.latitude is not None and senior.longitude is not None
    if site.offers_delivery and senior.delivery_eligible and located:
        choices.append(Fulfilment.DELIVERY)
    return choices


async def senior_week(
    session: AsyncSession, *, senior: Senior, now: datetime, settings: Settings
) -> tuple[Site, list[Day]]:
    """This week's menus at the senior's site, priced for them, with what they already booked."""
    site = await session.get(Site, senior.home_site_id)
    slots = {
        s.slot: s
        for s in await session.scalars(select(SiteSlot).where(SiteSlot.site_id == site.id))
    }
    today = local_today(site, now)
    last = today + timedelta(days=MENU_DAYS - 1)
    menus = await list_menus(
        session, now=now, site_id=site.id, date_from=today, date_to=last, max_days=MENU_DAYS
    )
    booked = {
        (b.service_date, b.slot): b
        for b in await session.scalars(
            select(Booking).where(
                Booking.senior_id == senior.id,
                Booking.service_date >= today,
                Booking.service_date <= last,
                Booking.status != BookingStatus.CANCELLED,
            )
        )
    }
    days: dict[date, Day] = {}
    for menu in menus:
        site_slot = slots.get(menu.slot)
        if site_slot is None:
            continue
        deadline = booking_deadline(site_slot, site.timezone, menu.service_date)
        offers = []
        for item in menu.items:
            if item.withdrawn_at is not None:
                continue
            quote = await quote_for(
                session,
                senior=senior,
                item=item,
                service_date=menu.service_date,
                made_on=settings.district_today(now),
                settings=settings,
            )
            refusal, choice = None, None
            try:
                choice = choose_variant(diet_of(senior), offer_of(item))
            except DomainError as exc:
                refusal = exc
            offers.append(
                Offer(
                    item,
                    quote.list_price_fen,
                    quote.subsidy_fen,
                    quote.price_fen,
                    refusal,
                    choice=choice,
                    clash=tuple(sorted(set(senior.allergens or ()) & set(item.allergens))),
                    remaining=item.capacity - item.booked_count,
                    nutrition=nutrition_of(item),
                )
            )
        day = days.setdefault(menu.service_date, Day(menu.service_date))
        day.meals.append(
            Meal(
                service_date=menu.service_date,
                slot=menu.slot,
                deadline=deadline.astimezone(ZoneInfo(site.timezone)),
                is_open=now < deadline,
                offers=offers,
                booking=(booking := booked.get((menu.service_date, menu.slot))),
                full=menu.seats_booked >= menu.seat_capacity,
                booked_item=next(
                    (i for i in menu.items if booking and i.id == booking.menu_item_id), None
                ),
            )
        )
    for day in days.values():
        day.meals.sort(key=lambda meal: slots[meal.slot].serve_start)
    return site, [days[d] for d in sorted(days)]


@dataclass(frozen=True)
class BookingLine:
    booking: Booking
    item: MenuItem
    deadline: datetime
    cancellable: bool
    rating: MealRating | None
    # Why the home delivery failed, when it did: the meal is no longer "coming up".
    failed: str | None = None


async def failed_deliveries(session: AsyncSession, senior_ids: list[int]) -> dict[int, str]:
    """Booking id → failure reason, for the home deliveries to these seniors that failed."""
    from meals.deliveries.models import RouteStop, StopStatus

    if not senior_ids:
        return {}
    stops = await session.execute(
        select(RouteStop.booking_ids, RouteStop.failure_reason).where(
            RouteStop.senior_id.in_(senior_ids), RouteStop.status == StopStatus.FAILED
        )
    )
    return {
        booking_id: str(reason.value if reason else "other")
        for booking_ids, reason in stops
        for booking_id in booking_ids or ()
    }


@dataclass
class BookingsOverview:
    upcoming: list[BookingLine]
    past: list[BookingLine]
    month_total_fen: int
    month: date


async def bookings_overview(
    session: AsyncSession, *, actor: Actor, senior: Senior, now: datetime
) -> BookingsOverview:
    """Upcoming and recent bookings, which may still be cancelled, and this month's total."""
    site = await session.get(Site, senior.home_site_id)
    today = local_today(site, now)
    month_start = today.replace(day=1)
    bookings = await list_bookings(
        session,
        actor=actor,
        filters=BookingFilter(
            senior_id=senior.id,
            date_from=min(month_start, today - timedelta(days=HISTORY_DAYS)),
            limit=UPCOMING_LIMIT * 2,
        ),
    )
    items = {
        i.id: i
        for i in await session.scalars(
            select(MenuItem).where(MenuItem.id.in_({b.menu_item_id for b in bookings}))
        )
    }
    slots = {
        (s.site_id, s.slot): s
        for s in await session.scalars(
            select(SiteSlot).where(SiteSlot.site_id.in_({b.site_id for b in bookings}))
        )
    }
    sites = {
        s.id: s
        for s in await session.scalars(
            select(Site).where(Site.id.in_({b.site_id for b in bookings}))
        )
    }
    ratings = {
        r.booking_id: r
        for r in await session.scalars(
            select(MealRating).where(MealRating.booking_id.in_([b.id for b in bookings]))
        )
    }
    failed = await failed_deliveries(session, [senior.id])
    upcoming, past = [], []
    total = 0
    for booking in bookings:
        booking_site = sites[booking.site_id]
        deadline = booking_deadline(
            slots[(booking.site_id, booking.slot)], booking_site.timezone, booking.service_date
        ).astimezone(ZoneInfo(booking_site.timezone))
        line = BookingLine(
            booking=booking,
            item=items[booking.menu_item_id],
            deadline=deadline,
            cancellable=(
                booking.status is BookingStatus.BOOKED
                and now < deadline
                and booking.id not in failed
            ),
            rating=ratings.get(booking.id),
            failed=failed.get(booking.id),
        )
        is_upcoming = (
            booking.service_date >= today
            and booking.status is BookingStatus.BOOKED
            and booking.id not in failed
        )
        (upcoming if is_upcoming else past).append(line)
        same_month = booking.service_date.replace(day=1) == month_start
        if same_month and booking.status in PAID_STATUSES:
            total += booking.price_fen

    def in_day_order(line: BookingLine) -> tuple:
        site_slot = slots[(line.booking.site_id, line.booking.slot)]
        return (line.booking.service_date, site_slot.serve_start)

    upcoming.sort(key=in_day_order)
    past.sort(key=in_day_order, reverse=True)
    return BookingsOverview(upcoming, past, total, month_start)


@dataclass
class TodayList:
    slot: Slot
    rows: list[tuple[Booking, Senior, MenuItem]]
    served: int
    to_pay_fen: int


async def today_lists(session: AsyncSession, *, site: Site, now: datetime) -> list[TodayList]:
    """Per slot: who booked at this site today, how, which diet, and what is still to pay."""
    today = local_today(site, now)
    rows = (
        await session.execute(
            select(Booking, Senior, MenuItem)
            .join(Senior, Senior.id == Booking.senior_id)
            .join(MenuItem, MenuItem.id == Booking.menu_item_id)
            .where(
                Booking.site_id == site.id,
                Booking.service_date == today,
                Booking.status != BookingStatus.CANCELLED,
            )
            .order_by(Booking.slot, Senior.name, Booking.id)
        )
    ).all()
    by_slot: dict[Slot, list[tuple[Booking, Senior, MenuItem]]] = defaultdict(list)
    for booking, senior, item in rows:
        by_slot[booking.slot].append((booking, senior, item))
    site_slots = list(
        await session.scalars(
            select(SiteSlot).where(SiteSlot.site_id == site.id).order_by(SiteSlot.serve_start)
        )
    )
    lists = []
    for site_slot in site_slots:
        slot_rows = by_slot.get(site_slot.slot, [])
        served = [b for b, _, _ in slot_rows if b.status is not BookingStatus.BOOKED]
        to_pay = sum(b.price_fen for b, _, _ in slot_rows if b.status is BookingStatus.BOOKED)
        lists.append(TodayList(site_slot.slot, slot_rows, len(served), to_pay))
    return lists


def current_slot(site_slots: list[SiteSlot], site: Site, now: datetime) -> Slot:
    """The slot being served now or next at the site (the last one once all have ended)."""
    local = now.astimezone(ZoneInfo(site.timezone)).time()
    ordered = sorted(site_slots, key=lambda s: s.serve_start)
    for site_slot in ordered:
        if local <= site_slot.serve_end:
            return site_slot.slot
    return ordered[-1].slot if ordered else Slot.LUNCH
