"""Site, slot and van tables."""

from __future__ import annotations

from datetime import time

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meals.db import Base
from meals.words import SiteKind, Slot, enum_column


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[SiteKind] = mapped_column(enum_column(SiteKind))
    address: Mapped[str] = mapped_column(String(255))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))
    offers_delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    last_mile_radius_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A closed site keeps its row (settlement, history) but takes no bookings and is not listed.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    slots: Mapped[list[SiteSlot]] = relationship(
        back_populates="site", lazy="raise", order_by="SiteSlot.slot"
    )


class SiteSlot(Base):
    """A meal slot a site serves, its serving window, booking cutoff and capacity."""

    __tablename__ = "site_slots"
    __table_args__ = (UniqueConstraint("site_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    serve_start: Mapped[time] = mapped_column(Time)
    serve_end: Mapped[time] = mapped_column(Time)
    cutoff_time: Mapped[time] = mapped_column(Time)
    cutoff_days_before: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int] = mapped_column(Integer)

    site: Mapped[Site] = relationship(back_populates="slots")


class Van(Base):
    """An insulated van based at the central kitchen."""

    __tablename__ = "vans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    depot_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    capacity_boxes: Mapped[int] = mapped_column(Integer)
    cold_capacity_boxes: Mapped[int] = mapped_column(Integer, default=0)
    driver_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    # A van out of service for good; kept for the history of plans that used it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class DepartureWave(Base):
    """A time the central kitchen sends vans out for a meal slot (a wave), as the operator set
    it. The plan of the day leaves on these; until the operator sets any for a slot, on the
    settings' `WARMMEAL_KITCHEN_*_DEPARTURES` (see `meals.sites.fleet.waves_for`)."""

    __tablename__ = "departure_waves"
    __table_args__ = (UniqueConstraint("slot", "departs_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    departs_at: Mapped[time] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
