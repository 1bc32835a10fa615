"""Pages for meal-point and canteen staff: today's list, booking on behalf, check-in, cards."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals import cards
from meals.accounts.service import Actor
from meals.bookings import senior_pages
from meals.bookings.checkin import check_in, local_today, record_walk_in
from meals.bookings.page_views import current_slot, fulfilments_for, senior_week, today_lists
from meals.bookings.service import BookingRequest, create_booking, get_senior
from meals.errors import Conflict, Forbidden, NotFound
from meals.menus.models import MenuItem
from meals.pages.i18n import Language
from meals.pages.web import flash, language_of, render, see_other
from meals.seniors.models import Senior
from meals.seniors.service import get_senior_in_scope, list_seniors
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.web import (
    STAFF_AND_ADMIN,
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    OptionalQueryId,
    QueryId,
    RecordId,
    allow,
)
from meals.words import Fulfilment, SiteKind, Slot

SEARCH_MAX = 40
SEARCH_RESULTS = 20
CARDS_PER_PAGE = 200
SCAN_MAX = 300


class StaffBookForm(msgspec.Struct):
    senior_id: RecordId
    menu_item_id: RecordId
    fulfilment: Fulfilment = Fulfilment.DINE_IN


class WalkInForm(msgspec.Struct):
    senior_id: RecordId
    menu_item_id: RecordId


class CheckInForm(msgspec.Struct):
    site_id: RecordId
    slot: Slot
    card: Annotated[str, msgspec.Meta(max_length=SCAN_MAX)] = ""


async def counter_site(session: AsyncSession, actor: Actor, site_id: int | None) -> Site:
    """The site the staff member works at (the one asked for, or their first); admins pick any."""
    if site_id is None:
        if actor.site_ids:
            site_id = min(actor.site_ids)
        else:
            site_id = await session.scalar(
                select(Site.id).where(Site.kind != SiteKind.KITCHEN).order_by(Site.id)
            )
    if not actor.is_admin and site_id not in actor.site_ids:
        raise Forbidden("You work at another site; you cannot open this one.")
    site = await session.get(Site, site_id) if site_id else None
    if site is None:
        raise NotFound("There is no site {site_id}.", site_id=site_id)
    return site


async def _slots(session: AsyncSession, site: Site) -> list[SiteSlot]:
    return list(
        await session.scalars(
            select(SiteSlot).where(SiteSlot.site_id == site.id).order_by(SiteSlot.serve_start)
        )
    )


def card_link(request: Request, settings: Settings, holder: cards.CardHolder, today: date) -> str:
    """The login link printed as a card's QR, valid `card_valid_days` from `today` if set."""
    expires = today + timedelta(days=settings.card_valid_days) if settings.card_valid_days else None
    token = cards.card_token(settings.key_for(cards.CARD_KEY_PURPOSE), holder, expires=expires)
    return str(request.base_url).rstrip("/") + cards.CARD_LINK_PATH + token


def _shown_name(actor: Actor, senior: Senior, language: Language) -> str:
    """A senior's name, or only their card for a walk-in from another site (whose name staff
    there may not see)."""
    if actor.may_see_senior(senior.id, senior.home_site_id):
        return senior.name
    return language.gettext("card {card}", card=senior.card_number)


class StaffPages(Controller):
    path = "/staff"
    include_in_schema = False
    guards = [allow(*STAFF_AND_ADMIN)]  # noqa: RUF012

    @get("/", summary="Today's list per slot at the counter")
    async def today(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        site: OptionalQueryId = None,
    ) -> Template:
        counter = await counter_site(db_session, actor, site)
        lists = await today_lists(db_session, site=counter, now=now)
        return render(
            request, "staff_today.html", site=counter, lists=lists, day=local_today(counter, now)
        )

    @get("/standing", summary="A senior's standing orders, kept by their meal point's staff")
    async def standing_page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        senior: OptionalQueryId = None,
    ) -> Template | Redirect:
        if senior is None:  # opened without a senior: find them first, where booking starts
            language = language_of(request)
            flash(
                request, language.gettext("Find the senior first, then open their standing order.")
            )
            return see_other("/staff/book")
        chosen = await get_senior_in_scope(db_session, actor=actor, senior_id=senior)
        return await senior_pages.standing_page(
            request, db_session, actor, chosen, "/staff/standing", f"?senior={chosen.id}"
        )

    @post("/standing")
    async def save_standing(
        self,
        request: Request,
        senior: QueryId,
        data: URLEncodedBody[senior_pages.StandingForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Redirect:
        await senior_pages.save_standing_form(
            request, db_session, actor, senior, data, now, settings
        )
        return see_other(f"/staff/standing?senior={senior}")

    @post("/standing/end")
    async def end_standing(
        self,
        request: Request,
        senior: QueryId,
        data: URLEncodedBody[senior_pages.EndStandingForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect:
        await senior_pages.end_standing_form(request, db_session, actor, senior, data.slot, now)
        return see_other(f"/staff/standing?senior={senior}")

    @get("/book", summary="Find a senior and book on their behalf")
    async def book_page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        q: FromQuery[Annotated[str, msgspec.Meta(max_length=SEARCH_MAX)]] = "",
        senior: OptionalQueryId = None,
        site: OptionalQueryId = None,
    ) -> Template:
        counter = await counter_site(db_session, actor, site)
        found = []
        if q.strip():
            found = await list_seniors(
                db_session, actor=actor, search=q.strip(), limit=SEARCH_RESULTS
            )
        chosen, days, fulfilments = None, [], []
        if senior is not None:
            chosen = await get_senior_in_scope(db_session, actor=actor, senior_id=senior)
            _, days = await senior_week(db_session, senior=chosen, now=now, settings=settings)
            fulfilments = fulfilments_for(chosen, counter)
        return render(
            request,
            "staff_book.html",
            site=counter,
            q=q,
            found=found,
            chosen=chosen,
            days=days,
            fulfilments=fulfilments,
            today=local_today(counter, now),
        )

    @post("/book")
    async def book(
        self,
        request: Request,
        data: URLEncodedBody[StaffBookForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Redirect:
        outcome = await create_booking(
            db_session,
            actor=actor,
            request=BookingRequest(data.senior_id, data.menu_item_id, data.fulfilment),
            now=now,
            settings=settings,
        )
        await self._flash_booked(
            request,
            db_session,
            actor,
            outcome.booking.senior_id,
            outcome.booking.menu_item_id,
            outcome.booking.price_fen,
        )
        return see_other(f"/staff/book?senior={data.senior_id}&site={outcome.booking.site_id}")

    @post("/walk-in")
    async def walk_in(
        self,
        request: Request,
        data: URLEncodedBody[WalkInForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Redirect:
        served = await record_walk_in(
            db_session,
            actor=actor,
            senior_id=data.senior_id,
            menu_item_id=data.menu_item_id,
            now=now,
            settings=settings,
        )
        language = language_of(request)
        flash(
            request,
            language.gettext(
                "Walk-in served: {name}, pays {price}.",
                name=_shown_name(actor, served.senior, language),
                price=language.money(served.booking.price_fen),
            ),
        )
        return see_other(f"/staff?site={served.booking.site_id}")

    async def _flash_booked(
        self,
        request: Request,
        session: AsyncSession,
        actor: Actor,
        senior_id: int,
        item_id: int,
        price: int,
    ) -> None:
        language = language_of(request)
        senior = await get_senior(session, senior_id)
        item = await session.get(MenuItem, item_id)
        flash(
            request,
            language.gettext(
                "Booked {meal} for {name}; pays {price}.",
                meal=language.pick(item.name, item.name_en),
                name=_shown_name(actor, senior, language),
                price=language.money(price),
            ),
        )

    @get("/checkin", summary="Scan or type a meal card to check a senior in")
    async def checkin_page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        site: OptionalQueryId = None,
    ) -> Template:
        counter = await counter_site(db_session, actor, site)
        slots = await _slots(db_session, counter)
        return render(
            request,
            "staff_checkin.html",
            site=counter,
            slots=[s.slot for s in slots],
            slot=current_slot(slots, counter, now),
            result=None,
            error=None,
        )

    @post("/checkin")
    async def checkin(
        self,
        request: Request,
        data: URLEncodedBody[CheckInForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Template:
        counter = await counter_site(db_session, actor, data.site_id)
        slots = await _slots(db_session, counter)
        language = language_of(request)
        result, error, status = None, None, 200
        try:
            if not data.card.strip():
                raise NotFound("Scan the meal card or type its number.", code="no_card")
            result = await check_in(
                db_session,
                actor=actor,
                site=counter,
                slot=data.slot,
                scanned=data.card,
                now=now,
                settings=settings,
            )
        except (Conflict, NotFound) as refusal:
            error, status = language.error(refusal), refusal.status_code
        return render(
            request,
            "staff_checkin.html",
            status_code=status,
            site=counter,
            slots=[s.slot for s in slots],
            slot=data.slot,
            result=result,
            error=error,
        )

    @get("/cards", summary="A printable page of meal cards with QR codes")
    async def print_cards(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
        site: OptionalQueryId = None,
    ) -> Template:
        counter = await counter_site(db_session, actor, site)
        today = local_today(counter, now)
        seniors = await list_seniors(
            db_session, actor=actor, site_id=counter.id, limit=CARDS_PER_PAGE
        )
        printed = [
            (senior, cards.qr_svg(card_link(request, settings, senior, today)))
            for senior in seniors
        ]
        return render(request, "staff_cards.html", site=counter, printed=printed)
