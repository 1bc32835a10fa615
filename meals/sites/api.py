"""Site endpoints (read): every logged-in role may see where meals are served."""

from __future__ import annotations

from datetime import time
from typing import Annotated

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.sites import service
from meals.sites.models import Site, SiteSlot
from meals.web import (
    ALL_ROLES,
    CurrentActor,
    DbSession,
    Now,
    PageLimit,
    PageOffset,
    PathId,
    allow,
)
from meals.words import Role, SiteKind, Slot

TEXT = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
SiteCode = Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]


LocalTime = Annotated[time, msgspec.Meta(tz=False)]


class SlotBody(msgspec.Struct, forbid_unknown_fields=True):
    slot: Slot
    serve_start: LocalTime
    serve_end: LocalTime
    cutoff_time: LocalTime
    capacity: Annotated[int, msgspec.Meta(ge=0, le=10_000)]
    cutoff_days_before: Annotated[int, msgspec.Meta(ge=0, le=service.MAX_CUTOFF_DAYS)] = 0


class SiteBody(msgspec.Struct, forbid_unknown_fields=True):
    """A site as the operator enters it; `slots` replace the ones it had."""

    code: SiteCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=TEXT)]
    kind: SiteKind
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=TEXT)]
    latitude: Latitude
    longitude: Longitude
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Asia/Shanghai"
    offers_delivery: bool = False
    last_mile_radius_m: Annotated[int, msgspec.Meta(ge=0, le=20_000)] | None = None
    slots: Annotated[list[SlotBody], msgspec.Meta(max_length=len(Slot))] = msgspec.field(
        default_factory=list
    )

    def spec(self) -> service.SiteSpec:
        return service.SiteSpec(
            code=self.code,
            name=self.name.strip(),
            kind=self.kind,
            address=self.address.strip(),
            latitude=self.latitude,
            longitude=self.longitude,
            timezone=self.timezone,
            offers_delivery=self.offers_delivery,
            last_mile_radius_m=self.last_mile_radius_m,
            slots=tuple(
                service.SlotSpec(
                    s.slot,
                    s.serve_start,
                    s.serve_end,
                    s.cutoff_time,
                    s.cutoff_days_before,
                    s.capacity,
                )
                for s in self.slots
            ),
        )


class SlotView(msgspec.Struct):
    slot: Slot
    serve_start: time
    serve_end: time
    cutoff: str
    capacity: int


class SiteView(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: SiteKind
    address: str
    latitude: float
    longitude: float
    timezone: str
    offers_delivery: bool
    slots: list[SlotView]
    active: bool = True

    @classmethod
    def of(cls, site: Site, slots: list[SiteSlot]) -> SiteView:
        return cls(
            id=site.id,
            code=site.code,
            name=site.name,
            kind=site.kind,
            address=site.address,
            latitude=site.latitude,
            longitude=site.longitude,
            timezone=site.timezone,
            offers_delivery=site.offers_delivery,
            slots=[
                SlotView(s.slot, s.serve_start, s.serve_end, service.describe_cutoff(s), s.capacity)
                for s in slots
            ],
            active=site.active,
        )


async def _slots_by_site(session: AsyncSession, site_ids: list[int]) -> dict[int, list[SiteSlot]]:
    rows = await session.scalars(
        select(SiteSlot).where(SiteSlot.site_id.in_(site_ids)).order_by(SiteSlot.slot)
    )
    grouped: dict[int, list[SiteSlot]] = {site_id: [] for site_id in site_ids}
    for slot in rows:
        grouped[slot.site_id].append(slot)
    return grouped


class SiteController(Controller):
    path = "/api/v1/sites"
    tags = ["sites"]  # noqa: RUF012
    guards = [allow(*ALL_ROLES)]  # noqa: RUF012

    @get("/", summary="The central kitchen, canteens and meal points")
    async def index(
        self, db_session: DbSession, kind: FromQuery[SiteKind | None] = None
    ) -> list[SiteView]:
        sites = await service.list_sites(db_session, kind=kind)
        slots = await _slots_by_site(db_session, [s.id for s in sites])
        return [SiteView.of(site, slots[site.id]) for site in sites]

    @get("/{site_id:int}", summary="One site with its slots, serving windows and cutoffs")
    async def show(self, db_session: DbSession, site_id: PathId) -> SiteView:
        site = await service.get_site(db_session, site_id)
        slots = await _slots_by_site(db_session, [site.id])
        return SiteView.of(site, slots[site.id])

    @get(
        "/paged",
        guards=[allow(Role.ADMIN, Role.VIEWER)],
        summary="Sites filtered by kind, name or code and state, one page at a time",
    )
    async def paged(
        self,
        db_session: DbSession,
        kind: FromQuery[SiteKind | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        active: FromQuery[bool | None] = True,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> OffsetPagination[SiteView]:
        page = await service.page_sites(
            db_session, kind=kind, search=q, active=active, limit=limit, offset=offset
        )
        slots = await _slots_by_site(db_session, [s.id for s in page.items])
        return OffsetPagination(
            items=[SiteView.of(site, slots[site.id]) for site in page.items],
            limit=page.limit,
            offset=page.offset,
            total=page.total,
        )

    @post(
        "/",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Add a site with its slots, serving windows, cutoffs and seats",
    )
    async def create(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[SiteBody]
    ) -> SiteView:
        site = await service.create_site(db_session, actor=actor, spec=data.spec(), now=now)
        return SiteView.of(site, (await _slots_by_site(db_session, [site.id]))[site.id])

    @put("/{site_id:int}", guards=[allow(Role.ADMIN)], summary="Change a site and its slots")
    async def update(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        site_id: PathId,
        data: JSONBody[SiteBody],
    ) -> SiteView:
        site = await service.update_site(
            db_session, actor=actor, site_id=site_id, spec=data.spec(), now=now
        )
        return SiteView.of(site, (await _slots_by_site(db_session, [site.id]))[site.id])

    @post(
        "/{site_id:int}/deactivate",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_200_OK,
        summary="Close a site: no seats in any slot, hidden from lists",
    )
    async def deactivate(
        self, db_session: DbSession, actor: CurrentActor, now: Now, site_id: PathId
    ) -> SiteView:
        site = await service.deactivate_site(db_session, actor=actor, site_id=site_id, now=now)
        return SiteView.of(site, (await _slots_by_site(db_session, [site.id]))[site.id])
