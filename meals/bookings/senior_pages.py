"""Pages for a senior, or a family member acting for one: menu, bookings, standing order,
ratings. Each handler is one service call and a page or a redirect."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings import ratings
from meals.bookings.page_views import Meal, bookings_overview, fulfilments_for, senior_week
from meals.bookings.service import (
    BookingRequest,
    cancel_booking,
    create_booking,
    get_booking,
    get_senior,
)
from meals.errors import DomainError, Invalid
from meals.menus.models import MenuItem
from meals.notifications.service import shown_notices, unread_notices
from meals.pages import labels
from meals.pages.i18n import N_, Language
from meals.pages.web import ACTING_SENIOR, flash, language_of, render, see_other
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.standing_orders import service as standing
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, RecordId, allow
from meals.words import Fulfilment, Role, Slot

SENIOR_SIDE = (Role.SENIOR, Role.FAMILY)
ITEM_CODES = ("A", "B")
WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
COMMENT_FORM_MAX = 2000


class BookForm(msgspec.Struct):
    menu_item_id: RecordId
    fulfilment: Fulfilment = Fulfilment.DINE_IN
    day: str = ""


class RateForm(msgspec.Struct):
    stars: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0
    comment: Annotated[str, msgspec.Meta(max_length=COMMENT_FORM_MAX)] = ""


class StandingForm(msgspec.Struct):
    slot: Slot = Slot.LUNCH
    item_code: str = "A"
    fulfilment: Fulfilment = Fulfilment.DINE_IN
    day_0: bool = False
    day_1: bool = False
    day_2: bool = False
    day_3: bool = False
    day_4: bool = False
    day_5: bool = False
    day_6: bool = False
    paused_from: str = ""
    paused_to: str = ""

    def weekdays(self) -> frozenset[int]:
        return frozenset(day for day in range(7) if getattr(self, f"day_{day}"))


class EndStandingForm(msgspec.Struct):
    slot: Slot = Slot.LUNCH


def _form_date(text: str) -> date | None:
    """A date typed in a form (YYYY-MM-DD, what <input type=date> sends); blank means none."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("{text} is not a date; use the calendar to pick one.", text=text) from None


async def acting_senior(request: Request, session: AsyncSession, actor: Actor) -> Senior | None:
    """The senior these pages are for: oneself, or the bound senior a family member chose."""
    if actor.role is Role.SENIOR and actor.senior_id is not None:
        return await get_senior(session, actor.senior_id)
    if actor.role is Role.FAMILY:
        chosen = request.session.get(ACTING_SENIOR)
        if chosen in actor.senior_ids:
            return await get_senior(session, chosen)
        if len(actor.senior_ids) == 1:
            return await get_senior(session, next(iter(actor.senior_ids)))
    return None


def refusal_words(language: Language, refusal: DomainError, meal: Meal | None) -> str:
    """A refusal in the menu's own words (its day and time format, the meal's names); the
    service's sentence, translated, where the menu has no better words for it."""
    if meal is None:
        return language.error(refusal)
    slot = language.gettext(labels.SLOT[meal.slot])
    day = language.day(meal.service_date)
    match refusal.code:
        case "after_cutoff":
            return language.gettext(
                "Booking for {slot} on {day} closed at {time}.",
                slot=slot,
                day=day,
                time=language.deadline(meal.deadline, meal.deadline.date()),
            )
        case "sold_out":
            return language.gettext(
                "This set meal on {day} is sold out; choose another one.", day=day
            )
        case "site_full":
            return language.gettext("{slot} on {day} is fully booked.", slot=slot, day=day)
        case "already_booked":
            return language.gettext(
                "You already have {slot} on {day}. To change it, cancel it in My bookings first.",
                slot=slot,
                day=day,
            )
    return language.error(refusal)


async def _menu_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    senior: Senior,
    now: datetime,
    settings: Settings,
    day_text: str,
    refused: tuple[int, DomainError] | None = None,
) -> Template:
    """One day of the week's menu, with a strip of days to switch to."""
    site, days = await senior_week(session, senior=senior, now=now, settings=settings)
    shown = next((d for d in days if d.day.isoformat() == day_text), days[0] if days else None)
    refusal = None
    if refused is not None:
        item_id, error = refused
        meal = next(
            (m for d in days for m in d.meals if any(o.item.id == item_id for o in m.offers)),
            None,
        )
        refusal = (item_id, refusal_words(language_of(request), error, meal))
    notices = shown_notices(language_of(request), await unread_notices(session, actor=actor))
    return render(
        request,
        "menu.html",
        status_code=refused[1].status_code if refused else 200,
        senior=senior,
        site=site,
        days=days,
        shown=shown,
        fulfilments=fulfilments_for(senior, site),
        today=days[0].day if days else None,
        refusal=refusal,
        few_left=settings.few_portions_left,
        notices=notices,
    )


class SeniorPages(Controller):
    include_in_schema = False
    guards = [allow(*SENIOR_SIDE)]  # noqa: RUF012

    @get("/menu", summary="The menu of one day (today and the next days as tabs), priced")
    async def menu(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        day: FromQuery[str] = "",
    ) -> Template | Redirect:
        senior = await acting_senior(request, db_session, actor)
        if senior is None:
            return see_other("/for")
        return await _menu_page(request, db_session, actor, senior, now, settings, day)

    @post("/book")
    async def book(
        self,
        request: Request,
        data: URLEncodedBody[BookForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Template | Redirect:
        """Booked: to My bookings. Refused: the same day's menu again, the reason at the meal."""
        senior = await acting_senior(request, db_session, actor)
        if senior is None:
            return see_other("/for")
        try:
            outcome = await create_booking(
                db_session,
                actor=actor,
                request=BookingRequest(senior.id, data.menu_item_id, data.fulfilment),
                now=now,
                settings=settings,
            )
        except DomainError as refusal:
            await db_session.rollback()
            senior = await acting_senior(request, db_session, actor)
            return await _menu_page(
                request,
                db_session,
                actor,
                senior,
                now,
                settings,
                data.day,
                refused=(data.menu_item_id, refusal),
            )
        language = language_of(request)
        item = await db_session.get(MenuItem, outcome.booking.menu_item_id)
        flash(
            request,
            language.gettext(
                "Booked: {meal} on {day}. You pay {price}.",
                meal=language.pick(item.name, item.name_en),
                day=language.day(outcome.booking.service_date),
                price=language.money(outcome.booking.price_fen),
            ),
        )
        return see_other("/bookings")

    @get("/bookings", summary="Upcoming and past bookings, this month's total")
    async def bookings(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Template | Redirect:
        senior = await acting_senior(request, db_session, actor)
        if senior is None:
            return see_other("/for")
        overview = await bookings_overview(db_session, actor=actor, senior=senior, now=now)
        notices = shown_notices(language_of(request), await unread_notices(db_session, actor=actor))
        return render(request, "bookings.html", senior=senior, overview=overview, notices=notices)

    @get("/bookings/{booking_id:int}/cancel", summary="Ask once before cancelling a meal")
    async def cancel_page(
        self, request: Request, booking_id: PathId, db_session: DbSession, actor: CurrentActor
    ) -> Template:
        booking = await get_booking(db_session, actor=actor, booking_id=booking_id)
        item = await db_session.get(MenuItem, booking.menu_item_id)
        return render(request, "cancel.html", booking=booking, item=item)

    @post("/bookings/{booking_id:int}/cancel")
    async def cancel(
        self,
        request: Request,
        booking_id: PathId,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect:
        booking = await cancel_booking(db_session, actor=actor, booking_id=booking_id, now=now)
        language = language_of(request)
        flash(
            request,
            language.gettext(
                "Cancelled your meal on {day}.", day=language.day(booking.service_date)
            ),
        )
        return see_other("/bookings")

    @get("/bookings/{booking_id:int}/rate", summary="Rate a meal that was served or delivered")
    async def rate_page(
        self, request: Request, booking_id: PathId, db_session: DbSession, actor: CurrentActor
    ) -> Template:
        booking = await get_booking(db_session, actor=actor, booking_id=booking_id)
        item = await db_session.get(MenuItem, booking.menu_item_id)
        rating = await ratings.rating_for(db_session, booking.id)
        return render(request, "rate.html", booking=booking, item=item, rating=rating)

    @post("/bookings/{booking_id:int}/rate")
    async def rate(
        self,
        request: Request,
        booking_id: PathId,
        data: URLEncodedBody[RateForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect:
        await ratings.rate_meal(
            db_session,
            actor=actor,
            booking_id=booking_id,
            stars=data.stars,
            comment=data.comment,
            now=now,
        )
        flash(request, language_of(request).gettext("Thank you for rating your meal."))
        return see_other("/bookings")

    @get("/standing", summary="The senior's standing orders")
    async def standing_page(
        self, request: Request, db_session: DbSession, actor: CurrentActor
    ) -> Template | Redirect:
        senior = await acting_senior(request, db_session, actor)
        if senior is None:
            return see_other("/for")
        return await standing_page(request, db_session, actor, senior, "/standing")

    @post("/standing")
    async def save_standing(
        self,
        request: Request,
        data: URLEncodedBody[StandingForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Redirect:
        senior = await acting_senior(request, db_session, actor)
        if senior is None:
            return see_other("/for")
        await save_standing_form(request, db_session, actor, senior.id, data, now, settings)
        return see_other("/standing")

    @post("/standing/end")
    async def end_standing(
        self,
        request: Request,
        data: URLEncodedBody[EndStandingForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect:
        senior = await acting_senior(request, db_session, actor)
        if senior is None:
            return see_other("/for")
        await end_standing_form(request, db_session, actor, senior.id, data.slot, now)
        return see_other("/standing")


async def standing_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    senior: Senior,
    action: str,
    query: str = "",
) -> Template:
    """The standing-order page for `senior`, its forms posting to `action` (the senior's own,
    or the staff's for a senior of their site)."""
    orders = await standing.orders_of(session, actor=actor, senior_id=senior.id)
    site = await session.get(Site, senior.home_site_id)
    slots = list(
        await session.scalars(
            select(SiteSlot.slot).where(SiteSlot.site_id == site.id).order_by(SiteSlot.slot)
        )
    )
    return render(
        request,
        "standing.html",
        senior=senior,
        site=site,
        orders={order.slot: order for order in orders},
        slots=slots,
        item_codes=ITEM_CODES,
        fulfilments=fulfilments_for(senior, site),
        weekday_names=WEEKDAY_NAMES,
        action=action,
        action_query=query,
    )


async def save_standing_form(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    senior_id: int,
    data: StandingForm,
    now: datetime,
    settings: Settings,
) -> None:
    if data.item_code not in ITEM_CODES:
        raise Invalid("Choose set meal A or B.")
    terms = standing.StandingOrderTerms(
        slot=data.slot,
        item_code=data.item_code,
        fulfilment=data.fulfilment,
        weekdays=data.weekdays(),
        paused_from=_form_date(data.paused_from),
        paused_to=_form_date(data.paused_to),
    )
    _, report = await standing.save_standing_order(
        session, actor=actor, senior_id=senior_id, terms=terms, now=now, settings=settings
    )
    language = language_of(request)
    flash(
        request,
        language.gettext(
            "Standing order saved: {created} new bookings, {withdrawn} cancelled.",
            created=len(report.created),
            withdrawn=len(report.withdrawn),
        ),
    )
    for day, refusal in report.refused:
        flash(request, f"{language.day(day)}: {language.error(refusal)}", kind="warn")


async def end_standing_form(
    request: Request, session: AsyncSession, actor: Actor, senior_id: int, slot: Slot, now: datetime
) -> None:
    withdrawn = await standing.end_standing_order(
        session, actor=actor, senior_id=senior_id, slot=slot, now=now
    )
    flash(
        request,
        language_of(request).gettext(
            "Standing order ended; {withdrawn} upcoming bookings cancelled.",
            withdrawn=len(withdrawn),
        ),
    )
