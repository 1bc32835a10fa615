"""The operator's site pages: list, add, change (slots, windows, cutoffs, seats) and close."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from meals.errors import Invalid
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.sites import service
from meals.sites.api import TEXT, Latitude, LocalTime, Longitude, SiteCode
from meals.sites.models import SiteSlot
from meals.web import CurrentActor, DbSession, Now, PageOffset, PathId, allow
from meals.words import Role, SiteKind, Slot

PAGE = 50
TIME_FIELDS = tuple(
    f"{slot.value}_{name}" for slot in Slot for name in ("serve_start", "serve_end", "cutoff_time")
)
Capacity = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
CutoffDays = Annotated[int, msgspec.Meta(ge=0, le=service.MAX_CUTOFF_DAYS)]


class SiteForm(msgspec.Struct):
    """The site form: the site's fields, then one group of fields per slot it may serve."""

    code: SiteCode
    name: Annotated[str, msgspec.Meta(max_length=120, pattern=TEXT)]
    kind: SiteKind
    address: Annotated[str, msgspec.Meta(max_length=255, pattern=TEXT)]
    latitude: Latitude
    longitude: Longitude
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "Asia/Shanghai"
    offers_delivery: bool = False
    last_mile_radius_m: Annotated[int, msgspec.Meta(ge=0, le=20_000)] | None = None
    lunch: bool = False
    lunch_serve_start: LocalTime | None = None
    lunch_serve_end: LocalTime | None = None
    lunch_cutoff_time: LocalTime | None = None
    lunch_cutoff_days_before: CutoffDays = 0
    lunch_capacity: Capacity = 0
    dinner: bool = False
    dinner_serve_start: LocalTime | None = None
    dinner_serve_end: LocalTime | None = None
    dinner_cutoff_time: LocalTime | None = None
    dinner_cutoff_days_before: CutoffDays = 0
    dinner_capacity: Capacity = 0

    def spec(self) -> service.SiteSpec:
        slots = []
        for slot in Slot:
            if not getattr(self, slot.value):
                continue
            start, end, cutoff = (
                getattr(self, f"{slot.value}_{name}")
                for name in ("serve_start", "serve_end", "cutoff_time")
            )
            if start is None or end is None or cutoff is None:
                raise_missing(slot)
            slots.append(
                service.SlotSpec(
                    slot,
                    start,
                    end,
                    cutoff,
                    getattr(self, f"{slot.value}_cutoff_days_before"),
                    getattr(self, f"{slot.value}_capacity"),
                )
            )
        return service.SiteSpec(
            code=self.code,
            name=self.name,
            kind=self.kind,
            address=self.address,
            latitude=self.latitude,
            longitude=self.longitude,
            timezone=self.timezone,
            offers_delivery=self.offers_delivery,
            last_mile_radius_m=self.last_mile_radius_m,
            slots=tuple(slots),
        )


def raise_missing(slot: Slot) -> None:
    raise Invalid(
        "Give the serving window and the booking cutoff for {slot}.",
        code="bad_slot",
        slot=slot.value,
    )


class SitePages(Controller):
    path = "/console/sites"
    include_in_schema = False
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Sites, with a form to add one")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        kind: FromQuery[SiteKind | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        active: FromQuery[bool] = True,
        offset: PageOffset = 0,
    ) -> Template:
        page = await service.page_sites(
            db_session, kind=kind, search=q, active=active, limit=PAGE, offset=offset
        )
        slots = await db_session.scalars(
            select(SiteSlot).where(SiteSlot.site_id.in_([s.id for s in page.items]))
        )
        by_site: dict[int, list[SiteSlot]] = {}
        for slot in slots:
            by_site.setdefault(slot.site_id, []).append(slot)
        params = {"kind": kind and kind.value, "q": q, "active": None if active else "false"}
        return render(
            request,
            "console/sites.html",
            page=page,
            slots=by_site,
            kept=urlencode({k: v for k, v in params.items() if v}),
            kind=kind,
            q=q or "",
            active=active,
            kinds=list(SiteKind),
        )

    @get("/new", summary="Add a site")
    async def new(self, request: Request) -> Template:
        return render(request, "console/site.html", site=None, slots={}, kinds=list(SiteKind))

    @post("/", summary="Add a site")
    async def create(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, SiteForm, times=TIME_FIELDS)
        site = await service.create_site(db_session, actor=actor, spec=form.spec(), now=now)
        flash(request, language_of(request).gettext("{name} is added.", name=site.name))
        return see_other(f"/console/sites/{site.id}")

    @get("/{site_id:int}", summary="One site")
    async def show(self, request: Request, db_session: DbSession, site_id: PathId) -> Template:
        site = await service.get_site(db_session, site_id)
        slots = await db_session.scalars(select(SiteSlot).where(SiteSlot.site_id == site.id))
        return render(
            request,
            "console/site.html",
            site=site,
            slots={s.slot.value: s for s in slots},
            kinds=list(SiteKind),
        )

    @post("/{site_id:int}", summary="Save a site")
    async def save(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        site_id: PathId,
    ) -> Redirect:
        form = await read_form(request, SiteForm, times=TIME_FIELDS)
        await service.update_site(
            db_session, actor=actor, site_id=site_id, spec=form.spec(), now=now
        )
        flash(request, language_of(request).gettext(N_("The site is saved.")))
        return see_other(f"/console/sites/{site_id}")

    @post("/{site_id:int}/deactivate", summary="Close a site")
    async def deactivate(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        site_id: PathId,
    ) -> Redirect:
        await service.deactivate_site(db_session, actor=actor, site_id=site_id, now=now)
        flash(
            request,
            language_of(request).gettext(N_("The site is closed: it takes no more bookings.")),
        )
        return see_other(f"/console/sites/{site_id}")
