"""Senior and emergency-contact tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meals.db import Base
from meals.words import IDDSI_REGULAR


class Senior(Base):
    __tablename__ = "seniors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    # Raised when a card is re-issued: every QR printed with an older number stops working.
    card_issue: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    birth_date: Mapped[date] = mapped_column(Date)
    id_card_masked: Mapped[str | None] = mapped_column(String(18), nullable=True)
    address: Mapped[str] = mapped_column(String(255))
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    home_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    low_salt: Mapped[bool] = mapped_column(Boolean, default=False)
    low_sugar: Mapped[bool] = mapped_column(Boolean, default=False)
    iddsi_level: Mapped[int] = mapped_column(Integer, default=IDDSI_REGULAR)
    halal: Mapped[bool] = mapped_column(Boolean, default=False)
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_notes: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Raised by a database trigger on every change to the row (migration 0007), whoever makes
    # it: a booking taken on a remembered profile goes through only if this still matches.
    # A deactivated senior (moved away, passed away) is kept for settlement but no longer listed
    # and cannot log in.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    profile_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    emergency_contacts: Mapped[list[EmergencyContact]] = relationship(
        back_populates="senior", lazy="raise", cascade="all, delete-orphan"
    )


class EmergencyContact(Base):
    __tablename__ = "emergency_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(40))

    senior: Mapped[Senior] = relationship(back_populates="emergency_contacts")
