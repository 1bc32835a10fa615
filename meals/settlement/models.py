"""Closed months and what each of their bookings counted as when the month was closed.

A closed month is never recomputed: its figures are kept as they were shown at the close,
and the outcome of every booking behind them is kept too, so a drill-down of a closed month
lists exactly the bookings its frozen figures were made of.
"""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base


class SettlementMonth(Base):
    """A month an operator closed: who, when, and the figures frozen at that moment."""

    __tablename__ = "settlement_months"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month_start: Mapped[date] = mapped_column(Date, unique=True)
    closed_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    closed_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    closed_by_name: Mapped[str] = mapped_column(String(80))
    figures: Mapped[dict] = mapped_column(JSON)


class SettlementItem(Base):
    """One booking of a closed month and the outcome it was counted as (served, no-show…)."""

    __tablename__ = "settlement_items"

    month_id: Mapped[int] = mapped_column(
        ForeignKey("settlement_months.id", ondelete="CASCADE"), primary_key=True
    )
    booking_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
