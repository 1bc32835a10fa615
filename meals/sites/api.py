"""Site endpoints (read): every logged-in role may see where meals are served."""

from __future__ import annotations

from datetime import time

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.sites import service
from meals.sites.models import Site, SiteSlot
from meals.web import (
    ALL_ROLES,
    DbSession,
    PathId,
    allow,
)
from meals.words import SiteKind, Slot


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
