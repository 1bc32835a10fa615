"""A senior who forgot their PIN: where to have it reset (their meal point), and, where the
district has SMS, a one-time login code sent through the SMS gateway's webhook."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import Account, LoginCode
from meals.accounts.service import counted_attempt, normalise_login
from meals.db import begin_write
from meals.errors import Conflict, Invalid, NotAuthenticated, NotFound
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.words import Role

CODE_DIGITS = 6
CODE_PREFIX = "code:"
LOOKUP_PREFIX = "pin-help:"
SMS_PREFIX = "sms:"


@dataclass(frozen=True)
class MealPoint:
    site: Site
    slots: list[SiteSlot]


async def _senior_account(session: AsyncSession, phone: str) -> tuple[Account, Senior] | None:
    row = (
        await session.execute(
            select(Account, Senior)
            .join(Senior, Senior.id == Account.senior_id)
            .where(Account.login == phone, Account.role == Role.SENIOR, Account.active)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def meal_point_for(
    session: AsyncSession,
    *,
    phone: str,
    now: datetime,
    settings: Settings,
    client_ip: str | None = None,
) -> MealPoint:
    """The meal point where this senior's staff can reset the PIN, with its serving hours.

    Which meal point a phone number eats at is personal: each lookup counts against the login
    back-off (per number and per address), so nobody can walk through the phone numbers."""
    phone = normalise_login(phone)
    await begin_write(session)
    await counted_attempt(
        session, key=f"{LOOKUP_PREFIX}{phone}", client_ip=client_ip, now=now, settings=settings
    )
    found = await _senior_account(session, phone)
    await session.commit()
    if found is None:
        raise NotFound(
            "No senior account has this phone number. Ask at your meal point.", code="no_senior"
        )
    site = await session.get(Site, found[1].home_site_id)
    slots = list(
        await session.scalars(
            select(SiteSlot).where(SiteSlot.site_id == site.id).order_by(SiteSlot.serve_start)
        )
    )
    return MealPoint(site, slots)


def _digest(settings: Settings, account_id: int, code: str) -> str:
    key = settings.key_for("login-code")
    return hmac.new(key, f"{account_id}:{code}".encode(), hashlib.sha256).hexdigest()


async def send_login_code(
    session: AsyncSession,
    *,
    phone: str,
    now: datetime,
    settings: Settings,
    client_ip: str | None = None,
) -> None:
    """Store a one-time code and send it by SMS (after the commit, so a slow gateway holds no
    lock); at most one per phone per `sms_code_interval`."""
    if not settings.sms_webhook_url:
        raise Conflict("This district cannot send codes by SMS.", code="no_sms")
    phone = normalise_login(phone)
    await begin_write(session)
    # Counted like a lookup: one address cannot send codes to (or probe) many numbers.
    await counted_attempt(
        session, key=f"{SMS_PREFIX}{phone}", client_ip=client_ip, now=now, settings=settings
    )
    found = await _senior_account(session, phone)
    if found is None:
        await session.commit()
        raise NotFound(
            "No senior account has this phone number. Ask at your meal point.", code="no_senior"
        )
    account, _senior = found
    recent = await session.scalar(
        select(LoginCode.id).where(
            LoginCode.account_id == account.id,
            LoginCode.created_at > now - settings.sms_code_interval,
        )
    )
    if recent is not None:
        await session.commit()  # the attempt still counts
        raise Conflict(
            "A code was sent a moment ago. Please wait a minute for the message.",
            code="code_recently_sent",
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        LoginCode(
            account_id=account.id,
            code_hash=_digest(settings, account.id, code),
            created_at=now,
            expires_at=now + settings.sms_code_lifetime,
        )
    )
    await session.commit()
    minutes = int(settings.sms_code_lifetime.total_seconds() // 60)
    text = f"【暖心饭】登录验证码 {code}，{minutes} 分钟内有效。Your WarmMeal login code: {code}."
    async with httpx.AsyncClient(timeout=settings.notify_timeout_seconds) as client:
        for _attempt in range(settings.notify_attempts):
            try:
                response = await client.post(
                    settings.sms_webhook_url, json={"phone": phone, "text": text}
                )
            except httpx.HTTPError:
                continue
            if response.is_success:
                return
    raise Conflict(
        "The SMS could not be sent just now. Please try again later or ask your meal point.",
        code="sms_failed",
    )


async def login_with_code(
    session: AsyncSession,
    *,
    phone: str,
    code: str,
    now: datetime,
    settings: Settings,
    client_ip: str | None = None,
) -> Account:
    """Log in once with a code from the SMS; wrong codes back off like wrong PINs."""
    phone = normalise_login(phone)
    code = "".join(ch for ch in code if ch.isdigit())
    if not phone or not code:
        raise Invalid("Please enter your phone number and the code from the SMS.")
    await begin_write(session)
    attempt = await counted_attempt(
        session, key=f"{CODE_PREFIX}{phone}", client_ip=client_ip, now=now, settings=settings
    )
    found = await _senior_account(session, phone)
    matched = None
    if found is not None:
        matched = await session.scalar(
            select(LoginCode).where(
                LoginCode.account_id == found[0].id,
                LoginCode.code_hash == _digest(settings, found[0].id, code),
                LoginCode.used_at.is_(None),
                LoginCode.expires_at > now,
            )
        )
    if matched is None or found is None:
        await session.commit()
        raise NotAuthenticated(
            "This code is wrong or has expired. Ask for a new one.", code="bad_code"
        )
    matched.used_at = now
    attempt.succeeded = True
    await session.commit()
    return found[0]
