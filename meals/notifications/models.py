"""Notices to a senior's family, the phones they asked to be told on, and each send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base


class FamilyNotice(Base):
    """One thing a family member is told about their senior; a banner until read."""

    __tablename__ = "family_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    # Set once its sends (one per push subscription, one to the webhook) have been made.
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class PushSubscription(Base):
    """A browser's Web Push subscription (endpoint and keys) for one account."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class NoticeSend(Base):
    """One send of a notice through one channel (a push subscription or the webhook), tried
    after the notice's transaction commits, again with back-off until it gets through."""

    __tablename__ = "notice_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("family_notices.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), nullable=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    gave_up: Mapped[bool] = mapped_column(Boolean, default=False)
