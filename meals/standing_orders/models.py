"""Standing-order tables: the order itself and one row per date it has been expanded for."""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base
from meals.words import Fulfilment, Slot, enum_column


class StandingOrder(Base):
    """ "Every Monday–Friday, lunch, set meal A, delivery" for one senior, with an optional pause.

    One order per senior and slot keeps the rule simple for a senior to read back.
    """

    __tablename__ = "standing_orders"
    __table_args__ = (UniqueConstraint("senior_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    item_code: Mapped[str] = mapped_column(String(8))
    fulfilment: Mapped[Fulfilment] = mapped_column(enum_column(Fulfilment))
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    paused_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    paused_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class StandingOrderDate(Base):
    """A date an order was expanded for: the booking made, or why none was (never retried)."""

    __tablename__ = "standing_order_dates"
    __table_args__ = (UniqueConstraint("standing_order_id", "service_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    standing_order_id: Mapped[int] = mapped_column(
        ForeignKey("standing_orders.id", ondelete="CASCADE"), index=True
    )
    service_date: Mapped[date] = mapped_column(Date)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
