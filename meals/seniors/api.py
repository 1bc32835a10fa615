"""Senior endpoints (read), scoped: self, bound family, staff of the home site, admin."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.seniors import service
from meals.seniors.models import Senior
from meals.web import (
    BOOKERS,
    STAFF_AND_ADMIN,
    CurrentActor,
    DbSession,
    Now,
    OptionalQueryId,
    PageLimit,
    PageOffset,
    PathId,
    RecordId,
    allow,
)
from meals.words import ALLERGENS, IDDSI_LEVELS, STORED_CATEGORIES

TEXT = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
PHONE = r"^\+?[0-9]{5,20}$"
Text80 = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=TEXT)]
Text40 = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=TEXT)]
Phone = Annotated[str, msgspec.Meta(pattern=PHONE, max_length=20)]
Pin = Annotated[str, msgspec.Meta(min_length=6, max_length=64)]
CategoryCode = Annotated[str, msgspec.Meta(max_length=32)]
AllergenCode = Annotated[str, msgspec.Meta(max_length=32)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class ContactBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Text80
    phone: Phone
    relation: Text40


class SeniorBody(msgspec.Struct, forbid_unknown_fields=True):
    """A senior's record as the operator or meal-point staff enter it."""

    name: Text80
    birth_date: date
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=TEXT)]
    home_site_id: RecordId
    phone: Phone | None = None
    id_card_masked: Annotated[str, msgspec.Meta(max_length=18, pattern=TEXT)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    categories: Annotated[list[CategoryCode], msgspec.Meta(max_length=len(STORED_CATEGORIES))] = (
        msgspec.field(default_factory=list)
    )
    low_salt: bool = False
    low_sugar: bool = False
    iddsi_level: Annotated[int, msgspec.Meta(ge=min(IDDSI_LEVELS), le=max(IDDSI_LEVELS))] = 7
    halal: bool = False
    allergens: Annotated[list[AllergenCode], msgspec.Meta(max_length=len(ALLERGENS))] = (
        msgspec.field(default_factory=list)
    )
    delivery_eligible: bool = False
    delivery_notes: Annotated[str, msgspec.Meta(max_length=255, pattern=TEXT)] | None = None
    emergency_contacts: Annotated[list[ContactBody], msgspec.Meta(max_length=5)] = msgspec.field(
        default_factory=list
    )

    def record(self) -> service.SeniorRecord:
        return service.SeniorRecord(
            name=self.name.strip(),
            birth_date=self.birth_date,
            address=self.address.strip(),
            home_site_id=self.home_site_id,
            phone=self.phone,
            id_card_masked=self.id_card_masked,
            latitude=self.latitude,
            longitude=self.longitude,
            categories=tuple(sorted(set(self.categories))),
            low_salt=self.low_salt,
            low_sugar=self.low_sugar,
            iddsi_level=self.iddsi_level,
            halal=self.halal,
            allergens=tuple(sorted(set(self.allergens))),
            delivery_eligible=self.delivery_eligible,
            delivery_notes=self.delivery_notes,
            emergency_contacts=tuple(
                service.Contact(c.name.strip(), c.phone, c.relation.strip())
                for c in self.emergency_contacts
            ),
        )


class NewSenior(SeniorBody, forbid_unknown_fields=True):
    pin: Pin | None = None


class PinReset(msgspec.Struct, forbid_unknown_fields=True):
    pin: Pin


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
    active: bool = True
    card_issue: int = 1

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
            active=s.active,
            card_issue=s.card_issue,
        )


class PinView(msgspec.Struct):
    senior_id: int
    login: str


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
        self, db_session: DbSession, actor: CurrentActor, now: Now, senior_id: PathId
    ) -> CardIssueView:
        senior = await service.reissue_card(db_session, actor=actor, senior_id=senior_id, now=now)
        return CardIssueView(senior_id=senior.id, card_issue=senior.card_issue)

    @get(
        "/paged",
        guards=[allow(*STAFF_AND_ADMIN)],
        summary="Seniors in scope, one page at a time with the total",
    )
    async def paged(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        site_id: OptionalQueryId = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        active: FromQuery[bool | None] = True,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> OffsetPagination[SeniorView]:
        page = await service.page_seniors(
            db_session,
            actor=actor,
            site_id=site_id,
            search=q,
            active=active,
            limit=limit,
            offset=offset,
        )
        return OffsetPagination(
            items=[SeniorView.of(s) for s in page.items],
            limit=page.limit,
            offset=page.offset,
            total=page.total,
        )

    @post(
        "/",
        guards=[allow(*STAFF_AND_ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Register a senior (staff: at their own site) with a meal card and a PIN",
    )
    async def create(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[NewSenior]
    ) -> SeniorView:
        senior = await service.register_senior(
            db_session, actor=actor, record=data.record(), pin=data.pin, now=now
        )
        return SeniorView.of(senior)

    @put(
        "/{senior_id:int}",
        guards=[allow(*STAFF_AND_ADMIN)],
        summary="Change a senior's record",
    )
    async def update(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
        data: JSONBody[SeniorBody],
    ) -> SeniorView:
        senior = await service.update_senior(
            db_session, actor=actor, senior_id=senior_id, record=data.record(), now=now
        )
        return SeniorView.of(senior)

    @post(
        "/{senior_id:int}/deactivate",
        guards=[allow(*STAFF_AND_ADMIN)],
        status_code=HTTP_200_OK,
        summary="Deactivate a senior: no longer listed, their login ends",
    )
    async def deactivate(
        self, db_session: DbSession, actor: CurrentActor, now: Now, senior_id: PathId
    ) -> SeniorView:
        senior = await service.deactivate_senior(
            db_session, actor=actor, senior_id=senior_id, now=now
        )
        return SeniorView.of(senior)

    @put(
        "/{senior_id:int}/pin",
        guards=[allow(*STAFF_AND_ADMIN)],
        summary="Reset the senior's PIN (their login is made if they had none)",
    )
    async def reset_pin(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
        data: JSONBody[PinReset],
    ) -> PinView:
        account = await service.reset_pin(
            db_session, actor=actor, senior_id=senior_id, pin=data.pin, now=now
        )
        return PinView(senior_id=senior_id, login=account.login)
