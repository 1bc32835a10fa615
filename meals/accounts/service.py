"""Login, password hashing, rate limiting and the scopes an account acts within."""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import (
    Account,
    FamilyBinding,
    LoginAttempt,
    StaffSite,
    WebSession,
)
from meals.db import begin_write, cached_reference
from meals.errors import Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from meals.settings import Settings
from meals.words import Role

# argon2 at RFC 9106's low-memory cost (t=3, 64 MiB) on one lane: libargon2 runs a thread per
# lane, so the default four lanes took both cores of a 2-core server for every check, and a
# flood of wrong logins starved the event loop (bench/login_flood.py: /health p99 135 ms at
# 20 logins/s with four lanes, 41 ms with one, two checks at a time). Existing hashes verify
# with the lanes they were made with.
_hasher = PasswordHasher(parallelism=1)
LOGIN_LOCK_SEED = 17
_password_checks: dict[int, CapacityLimiter] = {}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _unknown_login_hash() -> str:
    """A hash no password matches in practice, checked for unknown logins so they take as
    long as known ones (no telling which phone numbers have accounts)."""
    return hash_password(secrets.token_urlsafe(32))


async def check_password(password_hash: str, password: str, *, settings: Settings) -> bool:
    """argon2 in a worker thread, at most `login_hash_threads` at once per worker process:
    a login flood queues here instead of stalling every other request on the event loop."""
    limiter = _password_checks.get(settings.login_hash_threads)
    if limiter is None:
        limiter = _password_checks[settings.login_hash_threads] = CapacityLimiter(
            settings.login_hash_threads
        )
    return await to_thread.run_sync(verify_password, password_hash, password, limiter=limiter)


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

    def may_book(
        self, senior_id: int, home_site_id: int, booking_site_id: int, *, to_home: bool = False
    ) -> bool:
        """Staff book at their own sites, walk-ins from elsewhere included; but a meal taken
        to a senior's home (and charged to them) only for seniors whose home site is theirs."""
        if self.role is Role.SITE_STAFF:
            if to_home and home_site_id not in self.site_ids:
                return False
            return booking_site_id in self.site_ids
        return self.may_see_senior(senior_id, home_site_id)


@dataclass(frozen=True, slots=True)
class _Failures:
    count: int
    last_at: datetime | None


def _wait(failures: _Failures, free: int, now: datetime, settings: Settings) -> timedelta:
    """How long until the next attempt: nothing for the first `free` failures, then a delay
    doubling with each further one (capped), counted from the last failure."""
    if failures.count < free or failures.last_at is None:
        return timedelta()
    delay = settings.login_backoff_base * 2 ** min(failures.count - free, 30)
    return max(timedelta(), failures.last_at + min(delay, settings.login_backoff_max) - now)


async def _failures(session: AsyncSession, since: datetime, *where: Any) -> _Failures:
    count, last_at = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.attempted_at)).where(
                LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since, *where
            )
        )
    ).one()
    return _Failures(count or 0, last_at)


async def _lock_attempts(session: AsyncSession, *keys: str) -> None:
    """Serialise concurrent attempts on the same login or address until the attempt is
    recorded, so a burst cannot all pass one count (SQLite: BEGIN IMMEDIATE already does)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(keys):
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(key, LOGIN_LOCK_SEED)))
        )


async def _refuse_if_throttled(
    session: AsyncSession, *, login: str, client_ip: str | None, now: datetime, settings: Settings
) -> None:
    """Back off per account from this address, per account from everywhere (more leniently,
    so a stranger's wrong PINs only slow the owner down briefly), and per address across
    accounts (a spray of one PIN over many accounts)."""
    since = now - settings.login_failure_window
    waits = [
        _wait(
            await _failures(session, since, LoginAttempt.login == login),
            settings.login_account_free_failures,
            now,
            settings,
        )
    ]
    if client_ip is not None:
        here = LoginAttempt.client_ip == client_ip
        waits.append(
            _wait(
                await _failures(session, since, LoginAttempt.login == login, here),
                settings.login_free_failures,
                now,
                settings,
            )
        )
        waits.append(
            _wait(
                await _failures(session, since, here),
                settings.login_ip_free_failures,
                now,
                settings,
            )
        )
        accounts = await session.scalar(
            select(func.count(func.distinct(LoginAttempt.login))).where(
                here, LoginAttempt.attempted_at >= since, LoginAttempt.login != login
            )
        )
        if (accounts or 0) >= settings.login_ip_max_accounts:
            waits.append(settings.login_failure_window)
    wait = max(waits)
    if wait > timedelta():
        raise TooManyAttempts(
            "Too many login attempts. Please wait {seconds} seconds and try again.",
            seconds=max(1, math.ceil(wait.total_seconds())),
        )


async def counted_attempt(
    session: AsyncSession, *, key: str, client_ip: str | None, now: datetime, settings: Settings
) -> LoginAttempt:
    """Count an attempt on `key` (a login, or a lookup that tells something about an account)
    against the login back-off, refusing it if throttled; recorded as failed until the caller
    marks it succeeded. Call inside a writing transaction (`begin_write`) and commit after."""
    await _lock_attempts(session, key, f"ip:{client_ip}")
    await _refuse_if_throttled(session, login=key, client_ip=client_ip, now=now, settings=settings)
    attempt = LoginAttempt(login=key, attempted_at=now, succeeded=False, client_ip=client_ip)
    session.add(attempt)
    return attempt


PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u3000().·]")
MAINLAND_MOBILE = re.compile(r"^(?:\+?86|0086)?(1\d{10})$")


def normalise_login(login: str) -> str:
    """A login as stored: a mainland mobile number typed with spaces, dashes, +86 or
    full-width digits becomes its 11 digits; any other login is only trimmed.

    So `190 0000 0001`, `190-0000-0001`, `+8619000000001` and `１９０００００００01` all name the
    same account and count as one login in the back-off, never as wrong attempts.
    """
    text = unicodedata.normalize("NFKC", login).strip()
    compact = PHONE_SEPARATORS.sub("", text)
    match = MAINLAND_MOBILE.match(compact)
    return match[1] if match else text


async def authenticate(
    session: AsyncSession,
    *,
    login: str,
    password: str,
    now: datetime,
    settings: Settings,
    client_ip: str | None = None,
) -> Account:
    """Check a login, backing off after failures; every attempt is recorded.

    The attempt is recorded (as a failure) before the password is checked, under a lock, so
    concurrent attempts are counted one by one; the check runs in a bounded thread pool, off
    the event loop, and costs the same for an unknown login as for a known one.
    """
    login = normalise_login(login)
    await begin_write(session)
    attempt = await counted_attempt(
        session, key=login, client_ip=client_ip, now=now, settings=settings
    )
    account = await session.scalar(select(Account).where(Account.login == login))
    await session.commit()
    known = account is not None and account.active
    stored = account.password_hash if known and account is not None else _unknown_login_hash()
    ok = await check_password(stored, password, settings=settings) and known
    if not ok or account is None:
        raise NotAuthenticated("Wrong phone number / login or password.", code="bad_credentials")
    await begin_write(session)
    await session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(succeeded=True)
    )
    await session.commit()
    return account


async def load_actor(session: AsyncSession, *, account_id: int, version: Hashable = None) -> Actor:
    """The actor for a logged-in account, with the sites or seniors it is scoped to.

    Cached briefly under `version` (the account's role and security stamp, read with the
    session on every request), so a change made through this module is seen at once.
    """
    return await cached_reference(
        session, ("actor", account_id, version), partial(_load_actor, session, account_id)
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


async def end_account_sessions(session: AsyncSession, *, account_id: int) -> int:
    """End every session of an account (in the caller's transaction) and raise its security
    stamp, so nothing remembered about it is used again; returns the sessions ended."""
    ended = await session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(security_stamp=Account.security_stamp + 1)
    )
    return ended.rowcount or 0


@asynccontextmanager
async def changing_account(
    session: AsyncSession, actor: Actor, account_id: int
) -> AsyncIterator[Account]:
    """The operator's change to an account: made inside the block, then the account's
    sessions end and all is committed together."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("There is no account {account_id}.", account_id=account_id)
    yield account
    await end_account_sessions(session, account_id=account.id)
    await session.commit()


async def account_sessions(
    session: AsyncSession, *, actor: Actor, account_id: int, now: datetime
) -> list[WebSession]:
    """The operator's view of an account's live sessions, newest first."""
    ensure_role(actor, Role.ADMIN)
    if await session.get(Account, account_id) is None:
        raise NotFound("There is no account {account_id}.", account_id=account_id)
    return list(
        await session.scalars(
            select(WebSession)
            .where(WebSession.account_id == account_id, WebSession.expires_at > now)
            .order_by(WebSession.created_at.desc())
        )
    )


async def account_named(session: AsyncSession, *, actor: Actor, login: str) -> Account:
    """The operator looks an account up by its login (a staff login or a senior's phone)."""
    ensure_role(actor, Role.ADMIN)
    account = await session.scalar(select(Account).where(Account.login == login.strip()))
    if account is None:
        raise NotFound("There is no account with the login {login}.", login=login.strip())
    return account


async def end_sessions_of(session: AsyncSession, *, actor: Actor, account_id: int) -> int:
    """The operator ends every session of an account (a lost phone, a shared tablet)."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    if await session.get(Account, account_id) is None:
        raise NotFound("There is no account {account_id}.", account_id=account_id)
    ended = await end_account_sessions(session, account_id=account_id)
    await session.commit()
    return ended
