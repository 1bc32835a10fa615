"""Seniors log in as they type their number; a forgotten PIN leads to the meal point (and an
SMS code where the district has SMS); unknown URLs are pages in the user's language."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from meals.accounts.models import Account, LoginAttempt
from meals.accounts.service import normalise_login
from meals.app import create_app
from meals.db import create_engine, create_sessionmaker, session_scope
from tests.deliveries.receiver import webhook_receiver
from tests.pages.helpers import page_login, submit, visible_text

SENIOR_PHONE = "19000000001"
PIN = "123456"


@pytest.mark.parametrize(
    "typed",
    [
        "190 0000 0001",
        "190-0000-0001",
        "+8619000000001",
        "+86 190 0000 0001",
        "１９０００００００01",
    ],
)
def test_phone_numbers_as_typed_name_the_account(typed: str) -> None:
    assert normalise_login(typed) == SENIOR_PHONE
    assert normalise_login(" family ") == "family"


async def _senior_phone(settings) -> str:
    engine = create_engine(settings)
    async with session_scope(create_sessionmaker(engine)) as session:
        login = await session.scalar(
            select(Account.login).where(Account.role == "senior").order_by(Account.id).limit(1)
        )
    await engine.dispose()
    return login


async def _failures(settings) -> int:
    engine = create_engine(settings)
    async with session_scope(create_sessionmaker(engine)) as session:
        rows = await session.scalars(select(LoginAttempt).where(LoginAttempt.succeeded.is_(False)))
        count = len(list(rows))
    await engine.dispose()
    return count


async def test_formatted_number_logs_in_without_a_wrong_attempt(client: AsyncTestClient, settings):
    phone = await _senior_phone(settings)
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    page = await client.get("/login")
    assert re.search(r'id="login"[^>]*inputmode="numeric"', page.text)
    assert re.search(r'id="password"[^>]*inputmode="numeric"', page.text)
    answer = await page_login(client, spaced, PIN)
    assert answer.status_code == 303 and answer.headers["location"] == "/menu"
    assert await _failures(settings) == 0


async def test_forgot_pin_names_the_meal_point(client: AsyncTestClient, settings):
    phone = await _senior_phone(settings)
    answer = await submit(client, "/login/forgot", "/login/forgot", {"phone": f"+86 {phone}"})
    text = visible_text(answer.text)
    assert answer.status_code == 200
    assert "工作人员会为您重设" in text or "新的密码" in text, text
    assert "午餐" in text
    assert "短信" not in text  # no SMS gateway configured: no code offered


async def test_sms_code_logs_in_once(settings, clock):
    phone = await _senior_phone(settings)
    with webhook_receiver() as sms:
        app = create_app(replace(settings, sms_webhook_url=sms.url), clock=clock)
        async with AsyncTestClient(app=app) as client:
            sent = await submit(client, "/login/forgot", "/login/code/send", {"phone": phone})
            assert sent.status_code == 200, sent.text
            [message] = sms.received
            assert message["phone"] == phone
            code = re.search(r"\d{6}", message["text"])[0]
            wrong = await submit(
                client,
                "/login/forgot",
                "/login/code",
                {"phone": phone, "code": "000000" if code != "000000" else "111111"},
            )
            assert wrong.status_code == 401
            ok = await submit(
                client, "/login/forgot", "/login/code", {"phone": phone, "code": code}
            )
            assert ok.status_code == 303 and ok.headers["location"] == "/menu"
            await client.post("/logout", follow_redirects=False)
            again = await submit(
                client, "/login/forgot", "/login/code", {"phone": phone, "code": code}
            )
            assert again.status_code == 401


async def test_unknown_url_is_a_page_in_the_users_language(client: AsyncTestClient):
    page = await client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "此页面不存在" in page.text or "不存在" in page.text
    client.cookies.set("lang", "en")
    page = await client.get("/no-such-page")
    assert "This page does not exist." in page.text
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["status_code"] == 404


async def test_nobody_can_walk_through_phone_numbers_on_the_forgot_pin_page(
    client: AsyncTestClient, settings
):
    """Which meal point a number eats at is personal: lookups back off like wrong PINs."""
    phone = await _senior_phone(settings)
    strangers = [f"1390000{n:04d}" for n in range(settings.login_ip_free_failures)]
    answers = [
        await submit(client, "/login/forgot", "/login/forgot", {"phone": number})
        for number in strangers
    ]
    assert [answer.status_code for answer in answers] == [404] * len(strangers)
    refused = await submit(client, "/login/forgot", "/login/forgot", {"phone": phone})
    text = visible_text(refused.text)
    assert refused.status_code == 429
    assert "秒" in text and "午餐" not in text  # told to wait; the meal point is not shown
