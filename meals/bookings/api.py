"""Booking endpoints: each handler is one service call and a view."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.bookings import service
from meals.bookings.corrections import REASON_MAX, correct_booking
from meals.bookings.models import Booking, NewBooking
from meals.db import session_on_demand
from meals.errors import DomainError
from meals.ops.metrics import BOOKINGS
from meals.web import (
    BOOKERS,
    STAFF_AND_ADMIN,
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    OptionalQueryId,
    PageLimit,
    PageOffset,
    PathId,
    QueryId,
    RecordId,
    allow,
    provide_now,
    provide_settings,
)
from meals.words import BookedBy, BookingStatus, Fulfilment, Slot, Variant

IDEMPOTENCY_KEY_MAX = 128
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", required=False, min_length=1, max_length=IDEMPOTENCY_KEY_MAX
    ),
]


class BookingCreate(msgspec.Struct, forbid_unknown_fields=True):
    senior_id: RecordId
    menu_item_id: RecordId
    fulfilment: Fulfilment = Fulfilment.DINE_IN
    variant: Variant | None = None


class SubsidyLineView(msgspec.Struct):
    source: str
    name: str
    amount_fen: int


class BookingView(msgspec.Struct):
    id: int
    senior_id: int
    site_id: int
    menu_item_id: int
    service_date: date
    slot: Slot
    fulfilment: Fulfilment
    variant: Variant
    status: BookingStatus
    booked_by: BookedBy
    list_price_fen: int
    subsidy_fen: int
    price_fen: int
    subsidies: list[SubsidyLineView]
    created_at: datetime
    cancelled_at: datetime | None = None
    notices: list[str] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, booking: Booking | NewBooking, notices: tuple[object, ...] = ()) -> BookingView:
        return cls(
            id=booking.id,
            senior_id=booking.senior_id,
            site_id=booking.site_id,
            menu_item_id=booking.menu_item_id,
            service_date=booking.service_date,
            slot=booking.slot,
            fulfilment=booking.fulfilment,
            variant=booking.variant,
            status=booking.status,
            booked_by=booking.booked_by,
            list_price_fen=booking.list_price_fen,
            subsidy_fen=booking.subsidy_fen,
            price_fen=booking.price_fen,
            subsidies=[
                SubsidyLineView(line["source"], line["name"], line["amount_fen"])
                for line in booking.subsidy_breakdown
            ],
            # In UTC, as read back from the database, whatever zone the clock gave.
            created_at=booking.created_at.astimezone(UTC),
            cancelled_at=booking.cancelled_at and booking.cancelled_at.astimezone(UTC),
            notices=[str(notice) for notice in notices],
        )


class CorrectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    to_status: BookingStatus
    reason: Annotated[str, msgspec.Meta(max_length=REASON_MAX)]


class CorrectionView(msgspec.Struct):
    id: int
    booking_id: int
    from_status: BookingStatus
    to_status: BookingStatus
    reason: str
    corrected_by: str
    corrected_at: datetime
    settle_month: str
    adjustment: bool


class QuoteView(msgspec.Struct):
    senior_id: int
    menu_item_id: int
    service_date: date
    list_price_fen: int
    subsidy_fen: int
    price_fen: int
    subsidies: list[SubsidyLineView]


class BookingController(Controller):
    path = "/api/v1"
    tags = ["bookings"]  # noqa: RUF012

    @post(
        "/bookings",
        guards=[allow(*BOOKERS)],
        status_code=HTTP_201_CREATED,
        summary="Book a meal (201), or replay the booking of a repeated Idempotency-Key (200)",
    )
    async def create(
        self,
        data: JSONBody[BookingCreate],
        actor: CurrentActor,
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BookingView]:
        # The clock and settings come off the app state here, not as dependencies: Litestar
        # resolves sibling dependencies in a task group, which costs more than a booking's rules.
        # The session is created only if a rule needs it (a reference-cache miss, a replay).
        try:
            async with session_on_demand(state.sessionmaker) as session:
                outcome = await service.create_booking(
                    session,
                    actor=actor,
                    request=service.BookingRequest(
                        data.senior_id, data.menu_item_id, data.fulfilment, data.variant
                    ),
                    now=provide_now(state),
                    settings=provide_settings(state),
                    idempotency_key=idempotency_key,
                )
        except DomainError as refusal:
            BOOKINGS.labels("refused", refusal.code).inc()
            raise
        BOOKINGS.labels("taken" if outcome.created else "replayed", "").inc()
        return Response(
            BookingView.of(outcome.booking, outcome.notices),
            status_code=HTTP_201_CREATED if outcome.created else HTTP_200_OK,
        )

    @get("/bookings", guards=[allow(*BOOKERS)], summary="List bookings within your scope")
    async def index(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        senior_id: OptionalQueryId = None,
        site_id: OptionalQueryId = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        slot: FromQuery[Slot | None] = None,
        status: FromQuery[BookingStatus | None] = None,
        limit: PageLimit = 100,
        offset: PageOffset = 0,
    ) -> list[BookingView]:
        bookings = await service.list_bookings(
            db_session,
            actor=actor,
            filters=service.BookingFilter(
                senior_id, site_id, date_from, date_to, slot, status, limit, offset
            ),
        )
        return [BookingView.of(b) for b in bookings]

    @get("/bookings/{booking_id:int}", guards=[allow(*BOOKERS)], summary="One booking")
    async def show(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        booking_id: PathId,
    ) -> BookingView:
        return BookingView.of(
            await service.get_booking(db_session, actor=actor, booking_id=booking_id)
        )

    @post(
        "/bookings/{booking_id:int}/cancel",
        guards=[allow(*BOOKERS)],
        status_code=HTTP_200_OK,
        summary="Cancel a booking before the cutoff",
    )
    async def cancel(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        booking_id: PathId,
    ) -> BookingView:
        return BookingView.of(
            await service.cancel_booking(db_session, actor=actor, booking_id=booking_id, now=now)
        )

    @post(
        "/bookings/{booking_id:int}/corrections",
        guards=[allow(*STAFF_AND_ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Correct what happened to a meal (served, delivered, no-show), saying why",
    )
    async def correct(
        self,
        data: JSONBody[CorrectionCreate],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        booking_id: PathId,
    ) -> CorrectionView:
        outcome = await correct_booking(
            db_session,
            actor=actor,
            booking_id=booking_id,
            to_status=data.to_status,
            reason=data.reason,
            now=now,
        )
        correction = outcome.correction
        return CorrectionView(
            id=correction.id,
            booking_id=correction.booking_id,
            from_status=correction.from_status,
            to_status=correction.to_status,
            reason=correction.reason,
            corrected_by=correction.account_name,
            corrected_at=correction.corrected_at.astimezone(UTC),
            settle_month=correction.settle_month.strftime("%Y-%m"),
            adjustment=outcome.is_adjustment,
        )

    @get("/quote", guards=[allow(*BOOKERS)], summary="What a senior pays for a set meal")
    async def quote(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
        senior_id: QueryId,
        menu_item_id: QueryId,
    ) -> QuoteView:
        senior, meal, quote = await service.quote_booking(
            db_session,
            actor=actor,
            senior_id=senior_id,
            menu_item_id=menu_item_id,
            settings=settings,
            now=now,
        )
        return QuoteView(
            senior_id=senior.id,
            menu_item_id=meal.item.id,
            service_date=meal.menu.service_date,
            list_price_fen=quote.list_price_fen,
            subsidy_fen=quote.subsidy_fen,
            price_fen=quote.price_fen,
            subsidies=[
                SubsidyLineView(line.source_code, line.source_name, line.amount_fen)
                for line in quote.breakdown
            ],
        )
