"""Login, password hashing, rate limiting and the scopes an account acts within."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import Account, FamilyBinding, LoginAttempt, StaffSite
from meals.db import begin_write, cached_reference
from meals.errors import Forbidden, NotAuthenticated, TooManyAttempts
from meals.settings import Settings
from meals.words import Role

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Actor:
    """Who is calling and what they may reach: the scope every service checks."""

    account_id: int
    role: Role
    display_name: str = ""
    senior_id: int | None = None
    site_ids: frozenset[int] = field(default_factory=frozenset)
    senior_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_see_senior(self, senior_id: int, home_site_id: int) -> bool:
        match self.role:
            case Role.ADMIN:
                return True
            case Role.SENIOR:
                return senior_id == self.senior_id
            case Role.FAMILY:
                return senior_id in self.senior_ids
            case Role.SITE_STAFF:
                return home_site_id in self.site_ids
            case _:
                return False

    def may_book(self, senior_id: int, home_site_id: int, booking_site_id: int) -> bool:
        """Staff book at their own sites, walk-ins from elsewhere included."""
        if self.role is Role.SITE_STAFF:
            return booking_site_id in self.site_ids
        return self.may_see_senior(senior_id, home_site_id)


async def authenticate(
    session: AsyncSession,
    *,
    login: str,
    password: str,
    now: datetime,
    settings: Settings,
    client_ip: str | None = None,
) -> Account:
    """Check a login, refusing after too many recent failures; every attempt is recorded."""
    await begin_write(session)
    since = now - settings.login_failure_window
    failures = await session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.login == login,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at >= since,
        )
    )
    if (failures or 0) >= settings.login_max_failures:
        minutes = int(settings.login_failure_window.total_seconds() // 60)
        raise TooManyAttempts(
            "Too many failed logins for this account. Try again in {minutes} minutes.",
            minutes=minutes,
        )
    account = await session.scalar(select(Account).where(Account.login == login))
    ok = account is not None and account.active and verify_password(account.password_hash, password)
    session.add(LoginAttempt(login=login, attempted_at=now, succeeded=ok, client_ip=client_ip))
    await session.commit()
    if not ok or account is None:
        raise NotAuthenticated("Wrong phone number / login or password.", code="bad_credentials")
    return account


async def load_actor(session: AsyncSession, *, account_id: int) -> Actor:
    """The actor for a logged-in account, with the sites or seniors it is scoped to.

    Cached briefly, so a changed binding or deactivation takes effect within the cache's life.
    """
    return await cached_reference(
        session, ("actor", account_id), partial(_load_actor, session, account_id)
    )


async def _load_actor(session: AsyncSession, account_id: int) -> Actor:
    account = await session.get(Account, account_id)
    if account is None or not account.active:
        raise NotAuthenticated("Your session has ended. Please log in again.")
    site_ids: frozenset[int] = frozenset()
    senior_ids: frozenset[int] = frozenset()
    if account.role is Role.SITE_STAFF:
        rows = await session.scalars(
            select(StaffSite.site_id).where(StaffSite.account_id == account.id)
        )
        site_ids = frozenset(rows)
    elif account.role is Role.FAMILY:
        rows = await session.scalars(
            select(FamilyBinding.senior_id).where(FamilyBinding.account_id == account.id)
        )
        senior_ids = frozenset(rows)
    return Actor(
        account_id=account.id,
        role=account.role,
        display_name=account.display_name,
        senior_id=account.senior_id,
        site_ids=site_ids,
        senior_ids=senior_ids,
    )


def ensure_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise Forbidden("Your account ({role}) may not do this.", role=actor.role.value)
