"""Logins back off instead of locking the owner out, stop a spray over many accounts from one
address, count concurrent attempts one by one, and check passwords off the event loop."""

from __future__ import annotations

import asyncio

import argon2
from sqlalchemy import func, select

from meals.accounts.models import Account, LoginAttempt
from meals.accounts.service import _unknown_login_hash, authenticate, check_password
from meals.errors import NotAuthenticated, TooManyAttempts
from meals.settings import Settings
from meals.words import Role
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW
from tests.meals.helpers import Sessions

STRANGER = "203.0.113.9"
OWNER = "198.51.100.4"


async def _attempt(db: Sessions, settings: Settings, login: str, password: str, ip: str, now=NOW):
    """One login through the service; the outcome's class name, as the caller would see it."""
    async with db() as session:
        try:
            await authenticate(
                session, login=login, password=password, now=now, settings=settings, client_ip=ip
            )
        except (NotAuthenticated, TooManyAttempts) as refusal:
            return type(refusal).__name__
    return "ok"


async def _senior_logins(db: Sessions, count: int) -> list[str]:
    async with db() as s:
        return list(
            await s.scalars(
                select(Account.login)
                .where(Account.role == Role.SENIOR, Account.active)
                .order_by(Account.id)
                .limit(count)
            )
        )


async def test_the_owner_logs_in_at_once_after_a_strangers_failed_attempts(db, settings):
    [senior] = await _senior_logins(db, 1)
    outcomes = [await _attempt(db, settings, senior, "000000", STRANGER) for _ in range(8)]
    assert outcomes[:3] == ["NotAuthenticated"] * 3
    assert set(outcomes[3:]) == {"TooManyAttempts"}  # the stranger is held back

    assert await _attempt(db, settings, senior, DEMO_PASSWORDS["senior_pin"], OWNER) == "ok"


async def test_the_wait_doubles_with_each_failure_and_ends(db, settings):
    wrong = [await _attempt(db, settings, "admin", "nope", STRANGER) for _ in range(3)]
    assert wrong == ["NotAuthenticated"] * 3
    base = settings.login_backoff_base
    assert await _attempt(db, settings, "admin", "nope", STRANGER, NOW + base / 2) == (
        "TooManyAttempts"
    )
    assert await _attempt(db, settings, "admin", "nope", STRANGER, NOW + base) == "NotAuthenticated"
    later = NOW + base + 2 * base
    assert await _attempt(db, settings, "admin", "nope", STRANGER, later - base) == (
        "TooManyAttempts"
    )
    right = DEMO_PASSWORDS["admin"]
    assert await _attempt(db, settings, "admin", right, STRANGER, later) == "ok"


async def test_one_pin_sprayed_over_many_accounts_from_one_address_is_stopped(db, settings):
    seniors = await _senior_logins(db, 30)
    outcomes = [
        await _attempt(db, settings, login, DEMO_PASSWORDS["senior_pin"], STRANGER)
        for login in seniors
    ]
    assert outcomes.count("ok") <= settings.login_ip_max_accounts
    assert outcomes[-10:] == ["TooManyAttempts"] * 10
    # Another address is not held back by it.
    assert await _attempt(db, settings, seniors[-1], DEMO_PASSWORDS["senior_pin"], OWNER) == "ok"


async def test_concurrent_attempts_are_counted_one_by_one(client, db, settings):
    async def wrong():
        return await client.post("/api/v1/auth/login", json={"login": "admin", "password": "x"})

    answers = await asyncio.gather(*(wrong() for _ in range(30)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(401) == settings.login_free_failures
    assert set(statuses) == {401, 429}
    async with db() as s:
        checked = await s.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.login == "admin")
        )
    assert checked == settings.login_free_failures


async def test_an_unknown_login_costs_the_same_password_check(db):
    async with db() as s:
        stored = await s.scalar(select(Account.password_hash).where(Account.login == "admin"))
    assert argon2.extract_parameters(_unknown_login_hash()) == argon2.extract_parameters(stored)


async def test_password_checks_leave_the_event_loop_free(db, settings):
    async with db() as s:
        stored = await s.scalar(select(Account.password_hash).where(Account.login == "admin"))
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        results = await asyncio.gather(
            *(check_password(stored, "wrong", settings=settings) for _ in range(4))
        )
    finally:
        ticker.cancel()
    assert results == [False] * 4
    assert ticks >= 10  # the loop kept running while four argon2 checks ran in threads
