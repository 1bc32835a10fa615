"""Funding-source and subsidy-tier tables: the policy is data, not code."""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meals.db import Base


class FundingSource(Base):
    __tablename__ = "funding_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))

    tiers: Mapped[list[SubsidyTier]] = relationship(back_populates="source", lazy="raise")


class SubsidyPolicy(Base):
    """One version of the district's subsidy policy, in force from `effective_from` until the
    next version starts. A booking is priced by the version in force on the day it is made."""

    __tablename__ = "subsidy_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    created_by: Mapped[str] = mapped_column(String(80), default="", server_default="")

    tiers: Mapped[list[SubsidyTier]] = relationship(
        back_populates="policy", lazy="raise", cascade="all, delete-orphan"
    )


class SubsidyTier(Base):
    """One amount a source pays per meal to seniors in an age band and (optionally) a category.

    For each source the largest matching tier applies; sources add up.
    """

    __tablename__ = "subsidy_tiers"
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    funding_source_id: Mapped[int] = mapped_column(
        ForeignKey("funding_sources.id", ondelete="CASCADE"), index=True
    )
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("subsidy_policies.id", ondelete="CASCADE"), nullable=True, index=True
    )

    source: Mapped[FundingSource] = relationship(back_populates="tiers")
    policy: Mapped[SubsidyPolicy | None] = relationship(back_populates="tiers")
