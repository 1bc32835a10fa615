"""One row per senior drawn for a month's callback list, filled in when staff call."""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base

SCORE_MIN = 1
SCORE_MAX = 5
REMARKS_MAX = 500


class SatisfactionCallback(Base):
    """A senior to call back this month, why they were drawn, and the call's outcome."""

    __tablename__ = "satisfaction_callbacks"
    __table_args__ = (
        UniqueConstraint("month_start", "senior_id"),
        CheckConstraint(
            f"score IS NULL OR (score >= {SCORE_MIN} AND score <= {SCORE_MAX})", name="score"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month_start: Mapped[date] = mapped_column(Date)
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    stratum: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    drawn_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    reached: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remarks: Mapped[str | None] = mapped_column(String(REMARKS_MAX), nullable=True)
    called_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    called_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
