"""The booking table; its price breakdown is frozen when the booking is made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base
from meals.words import BookedBy, BookingStatus, Fulfilment, Slot, Variant, enum_column

ACTIVE_BOOKING = text("status <> 'cancelled'")
WITH_IDEMPOTENCY_KEY = text("idempotency_key IS NOT NULL")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_active_senior_date_slot",
            "senior_id",
            "service_date",
            "slot",
            unique=True,
            sqlite_where=ACTIVE_BOOKING,
            postgresql_where=ACTIVE_BOOKING,
        ),
        # Partial: most bookings carry no key, and need no entry in this index.
        Index(
            "uq_bookings_account_id",
            "account_id",
            "idempotency_key",
            unique=True,
            sqlite_where=WITH_IDEMPOTENCY_KEY,
            postgresql_where=WITH_IDEMPOTENCY_KEY,
        ),
        Index("ix_bookings_site_date_slot", "site_id", "service_date", "slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id"), index=True)
    # The set meal's menu and site, copied for the kitchen's and the counters' queries. No
    # foreign keys of their own: a booking's statement takes them from the set meal's menu
    # row, and the set meal's key already keeps that menu and site from being deleted.
    site_id: Mapped[int] = mapped_column(Integer)
    menu_id: Mapped[int] = mapped_column(Integer)
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_items.id"), index=True)
    service_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    fulfilment: Mapped[Fulfilment] = mapped_column(enum_column(Fulfilment))
    variant: Mapped[Variant] = mapped_column(enum_column(Variant))
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus))
    booked_by: Mapped[BookedBy] = mapped_column(enum_column(BookedBy))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    list_price_fen: Mapped[int] = mapped_column(Integer)
    subsidy_fen: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(Integer)
    subsidy_breakdown: Mapped[list[dict]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    # Why the booking was cancelled when someone other than the booker did it (a set meal
    # taken off a published menu), so the senior can be told.
    cancel_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    served_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)


@dataclass(slots=True)
class NewBooking:
    """A booking being taken: the row's values, without the ORM's bookkeeping.

    Taking a booking only inserts a row and answers with it; building a mapped `Booking`
    for that cost more than the booking's rules. Same attribute names as `Booking`, so a
    view or a page reads either; a test keeps the two in step.
    """

    senior_id: int
    site_id: int
    menu_id: int
    menu_item_id: int
    service_date: date
    slot: Slot
    fulfilment: Fulfilment
    variant: Variant
    status: BookingStatus
    booked_by: BookedBy
    account_id: int | None
    list_price_fen: int
    subsidy_fen: int
    price_fen: int
    subsidy_breakdown: list[dict]
    created_at: datetime
    updated_at: datetime
    idempotency_key: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    served_at: datetime | None = None
    id: int = field(default=0)
