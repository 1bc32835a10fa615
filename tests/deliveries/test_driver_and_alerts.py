"""Drivers see only their own run and act on it once per action; a failed delivery to a senior
at risk raises a welfare alert that reaches staff, family, admins and a real webhook receiver,
and escalates when nobody answers."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from meals.accounts.models import Account, FamilyBinding, StaffSite
from meals.app import create_app
from meals.bookings.models import Booking
from meals.cli import main
from meals.clock import Clock
from meals.deliveries import alerts
from meals.deliveries.models import (
    AlertStatus,
    DeliveryActionRecord,
    RouteRun,
    RouteStop,
    StopKind,
    WebhookAttempt,
    WelfareAlert,
)
from meals.production import day as one_plan
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.words import BookingStatus, Role, Slot
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW, TODAY
from tests.deliveries.receiver import Receiver, webhook_receiver
from tests.meals.helpers import Sessions, login
from tests.pages.helpers import submit

TEST_BACKOFF_SECONDS = 0.01


@dataclasses.dataclass
class DeliveryDay:
    """A stored plan and a van run with a home stop, with that run's driver's login."""

    plan_id: int
    run: RouteRun
    home: RouteStop
    driver_login: str


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(failures_first=1) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, receiver: Receiver) -> Settings:
    return dataclasses.replace(
        settings,
        welfare_webhook_url=receiver.url,
        welfare_webhook_backoff_seconds=TEST_BACKOFF_SECONDS,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
async def day(db: Sessions, settings: Settings, lunches: int) -> DeliveryDay:
    async with db() as session:
        plan = await one_plan.plan_routes(
            session, settings=settings, service_date=TODAY, slot=Slot.LUNCH, actor=None, now=NOW
        )
    async with db() as session:
        home = (
            await session.scalars(
                select(RouteStop)
                .where(RouteStop.plan_id == plan.id, RouteStop.kind == StopKind.HOME)
                .where(RouteStop.run_id.is_not(None))
                .order_by(RouteStop.id)
            )
        ).first()
        assert home is not None, "the demo lunch has a home delivery by van"
        run = await session.get(RouteRun, home.run_id)
        driver = await session.get(Account, run.driver_account_id)
    return DeliveryDay(plan.id, run, home, driver.login)


def _action(stop_id: int, action: str, **extra: object) -> dict:
    return {
        "stop_id": stop_id,
        "action": action,
        "idempotency_key": uuid.uuid4().hex,
        "acted_at": NOW.isoformat(),
        **extra,
    }


async def test_driver_sees_only_their_run_and_only_what_a_stop_needs(
    client: AsyncTestClient, db: Sessions, day: DeliveryDay
) -> None:
    async with db() as session:
        own = list(await session.scalars(select(RouteStop).where(RouteStop.run_id == day.run.id)))
        other = (
            await session.scalars(
                select(RouteStop).where(
                    RouteStop.plan_id == day.plan_id,
                    RouteStop.run_id.is_not(None),
                    RouteStop.run_id != day.run.id,
                    RouteStop.kind == StopKind.HOME,
                )
            )
        ).first()
        senior = await session.get(Senior, day.home.senior_id)
        other_senior = await session.get(Senior, other.senior_id) if other else None
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    page = await client.get("/driver")
    assert page.status_code == 200
    text = page.text
    for stop in own:
        assert f'id="stop-{stop.id}"' in text
    assert senior.name in text and senior.address in text
    if senior.phone:
        assert f'href="tel:{senior.phone}"' in text
    assert f"geo:{day.home.latitude},{day.home.longitude}" in text
    assert senior.card_number not in text
    assert senior.id_card_masked not in text
    assert senior.birth_date.isoformat() not in text
    if other_senior is not None:
        assert other_senior.address not in text
        refused = await client.post(
            "/api/v1/deliveries/actions", json=_action(other.id, "delivered")
        )
        assert refused.status_code == 403
    sheet = await client.get(f"/dispatch/runs/{day.run.id}/sheet?format=pdf")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")


async def test_delivered_marks_the_booking_delivered_once_however_often_it_is_sent(
    client: AsyncTestClient, db: Sessions, day: DeliveryDay
) -> None:
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    arrived = await client.post("/api/v1/deliveries/actions", json=_action(day.home.id, "arrived"))
    assert arrived.status_code == 200, arrived.text
    delivered = _action(day.home.id, "delivered")
    first = await client.post("/api/v1/deliveries/actions", json=delivered)
    again = await client.post("/api/v1/deliveries/actions", json=delivered)
    assert first.json() == {**again.json(), "replayed": False}
    assert again.json()["replayed"] is True and again.json()["status"] == "delivered"
    async with db() as session:
        statuses = set(
            await session.scalars(
                select(Booking.status).where(Booking.id.in_(day.home.booking_ids))
            )
        )
        recorded = await session.scalar(
            select(DeliveryActionRecord.id).where(
                DeliveryActionRecord.idempotency_key == delivered["idempotency_key"]
            )
        )
        actions = list(
            await session.scalars(
                select(DeliveryActionRecord).where(DeliveryActionRecord.stop_id == day.home.id)
            )
        )
    assert statuses == {BookingStatus.DELIVERED}
    assert recorded is not None and len(actions) == 2
    late_failure = await client.post(
        "/api/v1/deliveries/actions", json=_action(day.home.id, "failed", failure_reason="refused")
    )
    assert late_failure.status_code == 409
    for bad in (
        {**_action(day.home.id, "failed")},
        {**_action(day.home.id, "eaten")},
        {**_action(day.home.id, "delivered"), "idempotency_key": "short"},
        {**_action(day.home.id, "delivered"), "stop_id": 0},
        {**_action(day.home.id, "delivered"), "acted_at": "2026-11-23T07:00:00"},
        {"stop_id": day.home.id},
    ):
        response = await client.post("/api/v1/deliveries/actions", json=bad)
        assert response.status_code in (400, 422), (bad, response.text)


async def test_no_answer_for_a_senior_living_alone_raises_an_alert_everyone_sees(
    client: AsyncTestClient,
    db: Sessions,
    day: DeliveryDay,
    receiver: Receiver,
    clock: Clock,
    settings: Settings,
) -> None:
    async with db() as session:
        await session.execute(
            update(Senior).where(Senior.id == day.home.senior_id).values(categories=["lives_alone"])
        )
        senior = await session.get(Senior, day.home.senior_id)
        staff_login = await session.scalar(
            select(Account.login)
            .join(StaffSite, StaffSite.account_id == Account.id)
            .where(StaffSite.site_id == senior.home_site_id)
        )
        family = await session.scalar(select(Account).where(Account.login == "family"))
        session.add(
            FamilyBinding(
                account_id=family.id, senior_id=senior.id, relation="女儿", consented_at=NOW
            )
        )
        await session.commit()
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    failed = await client.post(
        "/api/v1/deliveries/actions",
        json=_action(day.home.id, "failed", failure_reason="no_answer", note="敲门无人应"),
    )
    assert failed.status_code == 200, failed.text
    alert_id = failed.json()["alert_id"]
    assert alert_id is not None

    raised = receiver.events(alerts.RAISED)
    assert len(raised) == 1 and raised[0]["alert_id"] == alert_id
    assert raised[0]["senior"]["name"] == senior.name
    assert raised[0]["emergency_contacts"], "the receiver can call the emergency contact"
    assert any(f["account_id"] == family.id for f in raised[0]["family_accounts"])
    assert receiver.answered == [503, 200], "the first try failed and was retried"
    async with db() as session:
        attempts = await alerts.webhook_attempts(session, alert_id)
    assert [(a.attempt, a.status_code, a.succeeded) for a in attempts] == [
        (1, 503, False),
        (2, 200, True),
    ]

    for account, secret in ((staff_login, "staff"), ("admin", "admin"), ("family", "family")):
        await login(client, account, DEMO_PASSWORDS[secret])
        page = await client.get("/alerts")
        assert page.status_code == 200
        assert f'id="alert-{alert_id}"' in page.text, account
        assert senior.name in page.text
    await login(client, "driver-01", DEMO_PASSWORDS["driver"])
    assert (await client.get("/alerts")).status_code in (403, 401)

    clock.set(NOW + settings.welfare_escalation_after - timedelta(minutes=1))
    await login(client, staff_login, DEMO_PASSWORDS["staff"])
    await client.get("/alerts")
    assert receiver.events(alerts.ESCALATED) == []
    clock.set(NOW + settings.welfare_escalation_after)
    escalated_page = await client.get("/alerts")
    assert escalated_page.status_code == 200
    escalated = receiver.events(alerts.ESCALATED)
    assert len(escalated) == 1 and escalated[0]["alert_id"] == alert_id
    await client.get("/alerts")
    assert len(receiver.events(alerts.ESCALATED)) == 1, "an alert escalates once"

    empty = await submit(client, "/alerts", f"/alerts/{alert_id}/resolve", {"resolution": " "})
    assert empty.status_code == 303
    async with db() as session:
        assert (await session.get(WelfareAlert, alert_id)).status is AlertStatus.OPEN
    closed = await submit(
        client, "/alerts", f"/alerts/{alert_id}/resolve", {"resolution": "邻居开门，老人在医院复诊"}
    )
    assert closed.status_code == 303
    async with db() as session:
        alert = await session.get(WelfareAlert, alert_id)
        count = len(list(await session.scalars(select(WebhookAttempt))))
    assert alert.status is AlertStatus.RESOLVED and alert.resolved_at == clock.now()
    assert alert.escalated_at == NOW + settings.welfare_escalation_after
    assert count == len(receiver.received)


async def test_a_failed_delivery_to_a_senior_not_at_risk_raises_no_alert(
    client: AsyncTestClient, db: Sessions, day: DeliveryDay, receiver: Receiver
) -> None:
    async with db() as session:
        await session.execute(
            update(Senior)
            .where(Senior.id == day.home.senior_id)
            .values(categories=["empty_nest"], birth_date=date(1956, 3, 1))  # 70, not 80+
        )
        await session.commit()
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    failed = await client.post(
        "/api/v1/deliveries/actions",
        json=_action(day.home.id, "failed", failure_reason="not_at_address"),
    )
    assert failed.status_code == 200 and failed.json()["alert_id"] is None
    assert receiver.received == []
    replan = await _replan_refused(client, db)
    assert replan.status_code == 409


async def _replan_refused(client: AsyncTestClient, db: Sessions):
    async with db() as session:
        kitchen = await session.scalar(select(Account.login).where(Account.role == Role.KITCHEN))
    await login(client, kitchen, DEMO_PASSWORDS["kitchen"])
    return await client.post(
        "/api/v1/deliveries/plans", json={"service_date": TODAY.isoformat(), "slot": "lunch"}
    )


async def test_meal_point_staff_walk_their_list_in_routing_order(
    client: AsyncTestClient, db: Sessions, day: DeliveryDay
) -> None:
    async with db() as session:
        walked = list(
            await session.scalars(
                select(RouteStop)
                .where(
                    RouteStop.plan_id == day.plan_id,
                    RouteStop.kind == StopKind.LAST_MILE_HOME,
                    RouteStop.sequence.is_not(None),
                )
                .order_by(RouteStop.carried_by_site_id, RouteStop.sequence)
            )
        )
        assert walked, "the demo lunch has homes within a meal point's radius"
        point_id = walked[0].carried_by_site_id
        on_list = [s for s in walked if s.carried_by_site_id == point_id]
        staff_login = await session.scalar(
            select(Account.login)
            .join(StaffSite, StaffSite.account_id == Account.id)
            .where(StaffSite.site_id == point_id)
        )
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    by_driver = await client.post(
        "/api/v1/deliveries/actions", json=_action(on_list[0].id, "delivered")
    )
    assert by_driver.status_code == 403, "walked homes are the meal point's, not a van's"

    await login(client, staff_login, DEMO_PASSWORDS["staff"])
    page = await client.get(f"/walking?site_id={point_id}")
    assert page.status_code == 200
    positions = [page.text.index(f'id="stop-{stop.id}"') for stop in on_list]
    assert positions == sorted(positions), "the list is in the order routing chose"
    done = await client.post("/api/v1/deliveries/actions", json=_action(on_list[0].id, "delivered"))
    assert done.status_code == 200, done.text
    async with db() as session:
        booked = select(Booking.status).where(Booking.id.in_(on_list[0].booking_ids))
        assert set(await session.scalars(booked)) == {BookingStatus.DELIVERED}
    elsewhere = await client.get(f"/walking?site_id={day.home.site_id + 1000}")
    assert elsewhere.status_code in (403, 404)


async def test_scheduled_escalation_tells_the_webhook_once(
    client: AsyncTestClient,
    db: Sessions,
    day: DeliveryDay,
    receiver: Receiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with db() as session:
        await session.execute(
            update(Senior).where(Senior.id == day.home.senior_id).values(categories=["disabled"])
        )
        await session.commit()
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    failed = await client.post(
        "/api/v1/deliveries/actions", json=_action(day.home.id, "failed", failure_reason="refused")
    )
    alert_id = failed.json()["alert_id"]
    assert alert_id is not None
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "SECRET_KEY": settings.secret_key,
        "WELFARE_WEBHOOK_URL": receiver.url,
        "FROZEN_NOW": (NOW + settings.welfare_escalation_after).isoformat(),
    }.items():
        monkeypatch.setenv(f"WARMMEAL_{name}", value)
    for _ in range(2):
        result = await asyncio.to_thread(CliRunner().invoke, main, ["routes", "escalate"])
        assert result.exit_code == 0, result.output
    [escalated] = receiver.events(alerts.ESCALATED)
    assert escalated["alert_id"] == alert_id and escalated["escalated_at"]
