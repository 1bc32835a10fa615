"""Seniors' records in the console: the operator sees every site, meal-point staff their own.

Staff register a new senior at their site here; both edit records, re-issue meal cards, reset
PINs and deactivate. Each handler is one service call (rules and the audit entry live there).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from meals.accounts.models import Account, FamilyBinding, FamilyBindingRequest
from meals.accounts.service import Actor
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.seniors import service
from meals.seniors.api import PHONE, TEXT, Pin
from meals.sites.models import Site
from meals.web import (
    STAFF_AND_ADMIN,
    CurrentActor,
    DbSession,
    Now,
    OptionalQueryId,
    PageOffset,
    PathId,
    RecordId,
    allow,
)
from meals.words import ALLERGENS, IDDSI_LEVELS, STORED_CATEGORIES, SiteKind

PAGE = 50
Text = Annotated[str, msgspec.Meta(max_length=255, pattern=TEXT)]
Short = Annotated[str, msgspec.Meta(max_length=80, pattern=TEXT)]
PhoneText = Annotated[str, msgspec.Meta(max_length=20, pattern=PHONE)]


class SeniorForm(msgspec.Struct):
    """The senior form as a browser sends it: flat fields, checkboxes as repeated values."""

    name: Short
    birth_date: date
    address: Text
    home_site_id: RecordId
    phone: PhoneText | None = None
    id_card_masked: Annotated[str, msgspec.Meta(max_length=18)] | None = None
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    categories: list[str] = msgspec.field(default_factory=list)
    diet: list[str] = msgspec.field(default_factory=list)
    iddsi_level: int = 7
    allergens: list[str] = msgspec.field(default_factory=list)
    delivery_eligible: bool = False
    delivery_notes: Text | None = None
    contact_name: Short | None = None
    contact_phone: PhoneText | None = None
    contact_relation: Short | None = None
    pin: Pin | None = None

    def record(self) -> service.SeniorRecord:
        contacts = ()
        if self.contact_name and self.contact_phone:
            contacts = (
                service.Contact(self.contact_name, self.contact_phone, self.contact_relation or ""),
            )
        return service.SeniorRecord(
            name=self.name,
            birth_date=self.birth_date,
            address=self.address,
            home_site_id=self.home_site_id,
            phone=self.phone,
            id_card_masked=self.id_card_masked,
            latitude=self.latitude,
            longitude=self.longitude,
            categories=tuple(sorted(set(self.categories))),
            low_salt="low_salt" in self.diet,
            low_sugar="low_sugar" in self.diet,
            halal="halal" in self.diet,
            iddsi_level=self.iddsi_level,
            allergens=tuple(sorted(set(self.allergens))),
            delivery_eligible=self.delivery_eligible,
            delivery_notes=self.delivery_notes,
            emergency_contacts=contacts,
        )


class PinForm(msgspec.Struct):
    pin: Pin


LISTS = ("categories", "diet", "allergens")


async def _sites_for(db_session: DbSession, actor: Actor) -> list[Site]:
    query = select(Site).where(Site.kind != SiteKind.KITCHEN).order_by(Site.code)
    if not actor.is_admin:
        query = query.where(Site.id.in_(actor.site_ids))
    return list(await db_session.scalars(query))


def _choices() -> dict:
    return {
        "categories": [c.value for c in STORED_CATEGORIES],
        "allergens": ALLERGENS,
        "iddsi_levels": IDDSI_LEVELS,
    }


class SeniorConsolePages(Controller):
    path = "/console/seniors"
    include_in_schema = False
    guards = [allow(*STAFF_AND_ADMIN)]  # noqa: RUF012

    @get("/", summary="Seniors in scope, filtered and paged")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        site_id: OptionalQueryId = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        active: FromQuery[bool] = True,
        offset: PageOffset = 0,
    ) -> Template:
        page = await service.page_seniors(
            db_session,
            actor=actor,
            site_id=site_id,
            search=q,
            active=active,
            limit=PAGE,
            offset=offset,
        )
        sites = await _sites_for(db_session, actor)
        kept = urlencode(
            {
                k: v
                for k, v in {
                    "site_id": site_id,
                    "q": q,
                    "active": None if active else "false",
                }.items()
                if v
            }
        )
        return render(
            request,
            "console/seniors.html",
            page=page,
            kept=kept,
            sites=sites,
            site_names={s.id: s.name for s in sites},
            site_id=site_id,
            q=q or "",
            active=active,
        )

    @get("/new", summary="Register a senior")
    async def new(self, request: Request, db_session: DbSession, actor: CurrentActor) -> Template:
        return render(
            request,
            "console/senior.html",
            senior=None,
            sites=await _sites_for(db_session, actor),
            bindings=[],
            requests=[],
            **_choices(),
        )

    @post("/", summary="Register a senior")
    async def create(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, SeniorForm, lists=LISTS)
        senior = await service.register_senior(
            db_session, actor=actor, record=form.record(), pin=form.pin, now=now
        )
        flash(
            request,
            language_of(request).gettext(
                "{name} is registered with meal card {card}.",
                name=senior.name,
                card=senior.card_number,
            ),
        )
        return see_other(f"/console/seniors/{senior.id}")

    @get("/{senior_id:int}", summary="One senior's record")
    async def show(
        self, request: Request, db_session: DbSession, actor: CurrentActor, senior_id: PathId
    ) -> Template:
        senior = await service.get_senior_in_scope(db_session, actor=actor, senior_id=senior_id)
        bindings = (
            await db_session.execute(
                select(FamilyBinding, Account)
                .join(Account, Account.id == FamilyBinding.account_id)
                .where(FamilyBinding.senior_id == senior.id)
                .order_by(Account.login)
            )
        ).all()
        requests = (
            await db_session.execute(
                select(FamilyBindingRequest, Account)
                .join(Account, Account.id == FamilyBindingRequest.family_account_id)
                .where(
                    FamilyBindingRequest.senior_id == senior.id,
                    FamilyBindingRequest.status == "pending",
                )
                .order_by(FamilyBindingRequest.id)
            )
        ).all()
        login = await db_session.scalar(select(Account.login).where(Account.senior_id == senior.id))
        return render(
            request,
            "console/senior.html",
            senior=senior,
            login=login,
            sites=await _sites_for(db_session, actor),
            bindings=bindings,
            requests=requests,
            **_choices(),
        )

    @post("/{senior_id:int}", summary="Save a senior's record")
    async def save(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
    ) -> Redirect:
        form = await read_form(request, SeniorForm, lists=LISTS)
        await service.update_senior(
            db_session, actor=actor, senior_id=senior_id, record=form.record(), now=now
        )
        return _done(request, senior_id, N_("The record is saved."))

    @post("/{senior_id:int}/card", summary="Re-issue the meal card")
    async def card(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
    ) -> Redirect:
        await service.reissue_card(db_session, actor=actor, senior_id=senior_id, now=now)
        return _done(
            request,
            senior_id,
            N_("A new meal card is issued; the old card's QR code no longer works."),
        )

    @post("/{senior_id:int}/pin", summary="Reset the PIN")
    async def pin(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
    ) -> Redirect:
        form = await read_form(request, PinForm)
        await service.reset_pin(db_session, actor=actor, senior_id=senior_id, pin=form.pin, now=now)
        return _done(request, senior_id, N_("The PIN is reset; the senior's old logins ended."))

    @post("/{senior_id:int}/deactivate", summary="Deactivate the senior")
    async def deactivate(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
    ) -> Redirect:
        await service.deactivate_senior(db_session, actor=actor, senior_id=senior_id, now=now)
        return _done(request, senior_id, N_("The senior is deactivated and can no longer log in."))


def _done(request: Request, senior_id: int, message: str) -> Redirect:
    flash(request, language_of(request).gettext(message))
    return see_other(f"/console/seniors/{senior_id}")
