"""A failed delivery reaches the senior's bound family: a banner on their page until read, a Web
Push message at their phone's push endpoint (a real local one, decrypted as a phone would) and
the family webhook (for an SMS gateway), sent after the driver's action is committed."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from meals.accounts.models import Account, FamilyBinding
from meals.app import create_app
from meals.clock import Clock
from meals.notifications.models import NoticeSend
from meals.seniors.models import Senior
from meals.settings import Settings
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW
from tests.deliveries.receiver import Receiver, webhook_receiver
from tests.deliveries.test_driver_and_alerts import _action, day  # noqa: F401 (fixture)
from tests.family.push_receiver import PushEndpoint, push_endpoint
from tests.meals.helpers import Sessions, login
from tests.pages.helpers import csrf_token, page_login, submit, visible_text

WAIT_SECONDS = 10


@pytest.fixture
def family_hook() -> Iterator[Receiver]:
    with webhook_receiver(failures_first=1) as running:
        yield running


@pytest.fixture
def phone() -> Iterator[PushEndpoint]:
    with push_endpoint() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, family_hook: Receiver, tmp_path) -> Settings:
    return dataclasses.replace(
        settings,
        family_webhook_url=family_hook.url,
        notify_backoff_seconds=0.05,
        vapid_private_key_path=tmp_path / "vapid.pem",
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings, clock=Clock(NOW))) as test_client:
        yield test_client


async def _until(check, what: str) -> None:
    """Wait for `check()` (a plain or async callable) to hold: the notifier works after commit."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (await check() if inspect.iscoroutinefunction(check) else check()):
        assert time.monotonic() < deadline, f"waited {WAIT_SECONDS} s for {what}"
        await asyncio.sleep(0.05)


async def test_failed_delivery_tells_the_family_on_page_push_and_webhook(
    client: AsyncTestClient,
    db: Sessions,
    day,  # noqa: F811
    phone: PushEndpoint,
    family_hook: Receiver,
) -> None:
    async with db() as session:
        # 80 years old and semi-disabled: both raise a welfare alert by default now.
        await session.execute(
            update(Senior)
            .where(Senior.id == day.home.senior_id)
            .values(categories=["semi_disabled"], birth_date=date(1944, 5, 1))
        )
        senior = await session.get(Senior, day.home.senior_id)
        family = await session.scalar(select(Account).where(Account.login == "family"))
        session.add(
            FamilyBinding(
                account_id=family.id, senior_id=senior.id, relation="女儿", consented_at=NOW
            )
        )
        await session.commit()

    await page_login(client, "family", DEMO_PASSWORDS["family"])
    family_page = await client.get("/family")
    subscribed = await client.post(
        "/notices/push",
        json=phone.subscription(),
        headers={"x-csrftoken": csrf_token(family_page.text)},
    )
    assert subscribed.status_code == 201, subscribed.text

    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    failed = await client.post(
        "/api/v1/deliveries/actions",
        json=_action(day.home.id, "failed", failure_reason="no_answer"),
    )
    assert failed.status_code == 200 and failed.json()["alert_id"] is not None

    await _until(lambda: len(phone.received) >= 2, "two push messages (failure and alert)")
    headers, _body = phone.received[0]
    assert headers["authorization"].startswith("vapid t="), "signed with the VAPID key"
    assert headers["content-encoding"] == "aes128gcm"
    messages = phone.messages()
    assert {m["title"] for m in messages} == {"有一餐没送到", "关爱提醒"}
    assert all(senior.name in m["body"] for m in messages)
    assert any(
        "无人应答" in m["body"] or "没人" in m["body"] or "（" in m["body"] for m in messages
    )

    await _until(lambda: len(family_hook.events("family_notice")) >= 2, "the webhook")
    assert family_hook.answered[0] == 503, "the first webhook try failed and was retried"

    async def every_send_recorded() -> bool:
        # The receiver answers before the notifier stores the send: wait for the row too.
        async with db() as session:
            sends = list(await session.scalars(select(NoticeSend)))
        return bool(sends) and all(send.sent_at is not None for send in sends)

    await _until(every_send_recorded, "every send recorded as sent")

    await page_login(client, "family", DEMO_PASSWORDS["family"])
    page = visible_text((await client.get("/family")).text)
    assert "有一餐没送到" in page and senior.name in page
    banner_page = await client.get("/family")
    notice_ids = [
        int(part.split("/", 1)[0]) for part in banner_page.text.split('action="/notices/')[1:]
    ]
    assert len(notice_ids) == 2
    for notice_id in notice_ids:
        read = await submit(client, "/family", f"/notices/{notice_id}/read", {"back": "/family"})
        assert read.status_code == 303
    assert "有一餐没送到" not in visible_text((await client.get("/family")).text)

    # Their bookings no longer read "coming up, cancel" for the meal that did not arrive.
    await submit(client, "/family", "/family/act", {"senior_id": senior.id, "to": "/bookings"})
    bookings = await client.get("/bookings")
    assert "没送到（无人应答）" in visible_text(bookings.text)
    for booking_id in day.home.booking_ids:
        assert f"/bookings/{booking_id}/cancel" not in bookings.text
