"""Senior endpoints (read), scoped: self, bound family, staff of the home site, admin."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from meals.seniors import service
from meals.seniors.models import Senior
from meals.web import (
    BOOKERS,
    STAFF_AND_ADMIN,
    CurrentActor,
    DbSession,
    OptionalQueryId,
    PageLimit,
    PageOffset,
    PathId,
    allow,
)


class ContactView(msgspec.Struct):
    name: str
    phone: str
    relation: str


class SeniorView(msgspec.Struct):
    id: int
    name: str
    phone: str | None
    card_number: str
    birth_date: date
    id_card_masked: str | None
    address: str
    latitude: float | None
    longitude: float | None
    home_site_id: int
    categories: list[str]
    low_salt: bool
    low_sugar: bool
    iddsi_level: int
    halal: bool
    allergens: list[str]
    delivery_eligible: bool
    emergency_contacts: list[ContactView]

    @classmethod
    def of(cls, s: Senior) -> SeniorView:
        return cls(
            id=s.id,
            name=s.name,
            phone=s.phone,
            card_number=s.card_number,
            birth_date=s.birth_date,
            id_card_masked=s.id_card_masked,
            address=s.address,
            latitude=s.latitude,
            longitude=s.longitude,
            home_site_id=s.home_site_id,
            categories=list(s.categories),
            low_salt=s.low_salt,
            low_sugar=s.low_sugar,
            iddsi_level=s.iddsi_level,
            halal=s.halal,
            allergens=list(s.allergens),
            delivery_eligible=s.delivery_eligible,
            emergency_contacts=[
                ContactView(c.name, c.phone, c.relation) for c in s.emergency_contacts
            ],
        )


class CardIssueView(msgspec.Struct):
    senior_id: int
    card_issue: int


class SeniorController(Controller):
    path = "/api/v1/seniors"
    tags = ["seniors"]  # noqa: RUF012
    guards = [allow(*BOOKERS)]  # noqa: RUF012

    @get("/", summary="Seniors you may see; search by name, phone or meal-card number")
    async def index(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        site_id: OptionalQueryId = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: PageLimit = 100,
        offset: PageOffset = 0,
    ) -> list[SeniorView]:
        seniors = await service.list_seniors(
            db_session, actor=actor, site_id=site_id, search=q, limit=limit, offset=offset
        )
        return [SeniorView.of(s) for s in seniors]

    @get("/{senior_id:int}", summary="One senior's record")
    async def show(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        senior_id: PathId,
    ) -> SeniorView:
        return SeniorView.of(
            await service.get_senior_in_scope(db_session, actor=actor, senior_id=senior_id)
        )

    @post(
        "/{senior_id:int}/card/reissue",
        guards=[allow(*STAFF_AND_ADMIN)],
        status_code=HTTP_200_OK,
        summary="Re-issue the meal card: QR codes printed before stop working",
    )
    async def reissue_card(
        self, db_session: DbSession, actor: CurrentActor, senior_id: PathId
    ) -> CardIssueView:
        senior = await service.reissue_card(db_session, actor=actor, senior_id=senior_id)
        return CardIssueView(senior_id=senior.id, card_issue=senior.card_issue)
