"""Account tables: who can log in, with which role, acting for whom."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base
from meals.words import Role, enum_column


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    senior_id: Mapped[int | None] = mapped_column(
        ForeignKey("seniors.id", ondelete="CASCADE"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    # Raised by every change to who the account is or what it reaches (role, sites, PIN,
    # deactivation), so nothing remembered about the old account is used again.
    security_stamp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FamilyBinding(Base):
    """A family member allowed to act for a senior, with the senior's consent."""

    __tablename__ = "family_bindings"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    senior_id: Mapped[int] = mapped_column(
        ForeignKey("seniors.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(40))
    consented_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class FamilyBindingRequest(Base):
    """A family member's request to act for a senior, and what became of it: consented by the
    senior (or by staff with the senior present), declined, or ended by either side."""

    __tablename__ = "family_binding_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # pending, bound, declined, ended
    requested_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    consent_by: Mapped[str | None] = mapped_column(String(20), nullable=True)  # senior / staff
    decided_by_account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    ended_by_account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class StaffSite(Base):
    """A site a staff account works at; staff see and act only within their sites."""

    __tablename__ = "staff_sites"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class LoginAttempt(Base):
    """Every login attempt, so failures can be rate-limited across workers."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class WebSession(Base):
    """A login session kept server-side, so it can be ended at once (logout, deactivation).

    The cookie holds a random id; only its SHA-256 is stored, so a copy of this table does not
    let anyone in.
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginCode(Base):
    """A one-time login code sent by SMS to a senior who forgot their PIN; only its hash is kept."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
