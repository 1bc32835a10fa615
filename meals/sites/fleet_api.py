"""Vans and departure waves over the API and on the operator's page."""

from __future__ import annotations

from datetime import time
from typing import Annotated

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.errors import DomainError
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.sites import fleet
from meals.sites.models import DepartureWave, Van
from meals.web import (
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    PageLimit,
    PageOffset,
    PathId,
    RecordId,
    allow,
)
from meals.words import Role, Slot

VanCode = Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Boxes = Annotated[int, msgspec.Meta(ge=0, le=500)]


class VanBody(msgspec.Struct, forbid_unknown_fields=True):
    code: VanCode
    capacity_boxes: Boxes
    cold_capacity_boxes: Boxes = 0
    depot_site_id: RecordId | None = None
    driver_account_id: RecordId | None = None

    def spec(self) -> fleet.VanSpec:
        return fleet.VanSpec(
            self.code,
            self.capacity_boxes,
            self.cold_capacity_boxes,
            self.depot_site_id,
            self.driver_account_id,
        )


class VanView(msgspec.Struct):
    id: int
    code: str
    depot_site_id: int
    capacity_boxes: int
    cold_capacity_boxes: int
    driver_account_id: int | None
    active: bool

    @classmethod
    def of(cls, v: Van) -> VanView:
        return cls(
            v.id,
            v.code,
            v.depot_site_id,
            v.capacity_boxes,
            v.cold_capacity_boxes,
            v.driver_account_id,
            v.active,
        )


class WaveBody(msgspec.Struct, forbid_unknown_fields=True):
    slot: Slot
    departs_at: Annotated[time, msgspec.Meta(tz=False)]


class WaveView(msgspec.Struct):
    id: int
    slot: Slot
    departs_at: time
    active: bool

    @classmethod
    def of(cls, w: DepartureWave) -> WaveView:
        return cls(w.id, w.slot, w.departs_at, w.active)


class FleetApi(Controller):
    path = "/api/v1"
    tags = ["vans and waves"]  # noqa: RUF012

    @get("/vans", guards=[allow(Role.ADMIN, Role.KITCHEN)], summary="Vans, one page at a time")
    async def vans(
        self,
        db_session: DbSession,
        q: Annotated[str | None, QueryParameter(max_length=32)] = None,
        active: FromQuery[bool | None] = True,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> OffsetPagination[VanView]:
        page = await fleet.page_vans(
            db_session, search=q, active=active, limit=limit, offset=offset
        )
        return OffsetPagination(
            items=[VanView.of(v) for v in page.items],
            limit=page.limit,
            offset=page.offset,
            total=page.total,
        )

    @post("/vans", guards=[allow(Role.ADMIN)], status_code=HTTP_201_CREATED, summary="Add a van")
    async def add_van(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[VanBody]
    ) -> VanView:
        return VanView.of(
            await fleet.create_van(db_session, actor=actor, spec=data.spec(), now=now)
        )

    @put("/vans/{van_id:int}", guards=[allow(Role.ADMIN)], summary="Change a van")
    async def change_van(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        van_id: PathId,
        data: JSONBody[VanBody],
    ) -> VanView:
        return VanView.of(
            await fleet.update_van(
                db_session, actor=actor, van_id=van_id, spec=data.spec(), now=now
            )
        )

    @post(
        "/vans/{van_id:int}/deactivate",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_200_OK,
        summary="Take a van out of service",
    )
    async def deactivate_van(
        self, db_session: DbSession, actor: CurrentActor, now: Now, van_id: PathId
    ) -> VanView:
        return VanView.of(
            await fleet.deactivate_van(db_session, actor=actor, van_id=van_id, now=now)
        )

    @get(
        "/waves", guards=[allow(Role.ADMIN, Role.KITCHEN)], summary="The kitchen's departure waves"
    )
    async def waves(self, db_session: DbSession) -> list[WaveView]:
        return [WaveView.of(w) for w in await fleet.list_waves(db_session)]

    @post(
        "/waves",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Add a departure wave",
    )
    async def add_wave(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[WaveBody]
    ) -> WaveView:
        return WaveView.of(
            await fleet.add_wave(
                db_session, actor=actor, slot=data.slot, departs_at=data.departs_at, now=now
            )
        )

    @post(
        "/waves/{wave_id:int}/deactivate",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_200_OK,
        summary="Remove a departure wave",
    )
    async def remove_wave(
        self, db_session: DbSession, actor: CurrentActor, now: Now, wave_id: PathId
    ) -> WaveView:
        return WaveView.of(
            await fleet.remove_wave(db_session, actor=actor, wave_id=wave_id, now=now)
        )


class VanForm(msgspec.Struct):
    code: VanCode
    capacity_boxes: Boxes
    cold_capacity_boxes: Boxes = 0
    driver_account_id: RecordId | None = None


class WaveForm(msgspec.Struct):
    slot: Slot
    departs_at: Annotated[time, msgspec.Meta(tz=False)]


class WaveTimeForm(msgspec.Struct):
    departs_at: Annotated[time, msgspec.Meta(tz=False)]


class FleetPages(Controller):
    path = "/console/vans"
    include_in_schema = False
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Vans and departure waves")
    async def index(
        self, request: Request, db_session: DbSession, settings: AppSettings, offset: PageOffset = 0
    ) -> Template:
        page = await fleet.page_vans(db_session, active=True, limit=100, offset=offset)
        drivers = await fleet.drivers(db_session)
        waves = [w for w in await fleet.list_waves(db_session) if w.active]
        defaults = {slot: await fleet.waves_for(db_session, slot, settings) for slot in Slot}
        return render(
            request,
            "console/vans.html",
            page=page,
            kept="",
            drivers=drivers,
            waves=waves,
            defaults=defaults,
            slots=list(Slot),
        )

    @post("/", summary="Add a van")
    async def add(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, VanForm)
        van = await fleet.create_van(
            db_session,
            actor=actor,
            spec=fleet.VanSpec(
                form.code,
                form.capacity_boxes,
                form.cold_capacity_boxes,
                None,
                form.driver_account_id,
            ),
            now=now,
        )
        flash(request, language_of(request).gettext("Van {van} is added.", van=van.code))
        return see_other("/console/vans")

    @get("/{van_id:int}", summary="A van's form: code, hot and cold boxes, driver")
    async def show(self, request: Request, db_session: DbSession, van_id: PathId) -> Template:
        van = await fleet.get_van(db_session, van_id)
        return render(
            request,
            "console/van.html",
            van=van,
            values=fleet.van_form_values(van),
            drivers=await fleet.drivers(db_session),
            error=None,
        )

    @post("/{van_id:int}", summary="Save a van", status_code=HTTP_200_OK)
    async def save(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now, van_id: PathId
    ) -> Redirect | Template:
        try:
            form = await read_form(request, VanForm)
            await fleet.update_van(
                db_session,
                actor=actor,
                van_id=van_id,
                spec=fleet.VanSpec(
                    form.code,
                    form.capacity_boxes,
                    form.cold_capacity_boxes,
                    None,
                    form.driver_account_id,
                ),
                now=now,
            )
        except DomainError as refusal:  # shown in the form, with what was typed kept
            await db_session.rollback()
            return render(
                request,
                "console/van.html",
                status_code=refusal.status_code,
                van=await fleet.get_van(db_session, van_id),
                values=dict((await request.form()).items()),
                drivers=await fleet.drivers(db_session),
                error=language_of(request).error(refusal),
            )
        flash(request, language_of(request).gettext(N_("The van is saved.")))
        return see_other("/console/vans")

    @post("/{van_id:int}/deactivate", summary="Take a van out of service")
    async def deactivate(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now, van_id: PathId
    ) -> Redirect:
        await fleet.deactivate_van(db_session, actor=actor, van_id=van_id, now=now)
        flash(request, language_of(request).gettext(N_("The van is out of service.")))
        return see_other("/console/vans")

    @post("/waves", summary="Add a departure wave")
    async def add_wave(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, WaveForm, times=("departs_at",))
        await fleet.add_wave(
            db_session, actor=actor, slot=form.slot, departs_at=form.departs_at, now=now
        )
        flash(request, language_of(request).gettext(N_("The departure wave is added.")))
        return see_other("/console/vans#waves")

    @get("/waves/{wave_id:int}", summary="A departure wave's form: its time")
    async def show_wave(self, request: Request, db_session: DbSession, wave_id: PathId) -> Template:
        wave = await fleet.get_wave(db_session, wave_id)
        values = {"departs_at": wave.departs_at.strftime("%H:%M")}
        return render(request, "console/wave.html", wave=wave, values=values, error=None)

    @post("/waves/{wave_id:int}", summary="Save a departure wave", status_code=HTTP_200_OK)
    async def save_wave(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        wave_id: PathId,
    ) -> Redirect | Template:
        try:
            form = await read_form(request, WaveTimeForm, times=("departs_at",))
            await fleet.update_wave(
                db_session, actor=actor, wave_id=wave_id, departs_at=form.departs_at, now=now
            )
        except DomainError as refusal:  # shown in the form, with what was typed kept
            await db_session.rollback()
            return render(
                request,
                "console/wave.html",
                status_code=refusal.status_code,
                wave=await fleet.get_wave(db_session, wave_id),
                values=dict((await request.form()).items()),
                error=language_of(request).error(refusal),
            )
        flash(request, language_of(request).gettext(N_("The departure wave is saved.")))
        return see_other("/console/vans#waves")

    @post("/waves/{wave_id:int}/deactivate", summary="Remove a departure wave")
    async def remove_wave(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        wave_id: PathId,
    ) -> Redirect:
        await fleet.remove_wave(db_session, actor=actor, wave_id=wave_id, now=now)
        flash(request, language_of(request).gettext(N_("The departure wave is removed.")))
        return see_other("/console/vans#waves")
