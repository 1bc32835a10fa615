"""Frozen runs: what the kitchen cooks from, later changes as a diff, impossible plans refused."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from meals.accounts.models import Account
from meals.app import create_app
from meals.bookings.models import Booking
from meals.clock import Clock
from meals.production.models import ProductionRun
from meals.settings import EquipmentSetting, Settings
from meals.words import BookingStatus, Fulfilment, Role
from tests.conftest import NOW, TODAY
from tests.meals.helpers import Sessions, login_as

FREEZE_LUNCH = {"service_date": TODAY.isoformat(), "slot": "lunch"}
LATE_CANCELLATIONS = 2


async def test_late_cancellation_shows_as_diff_not_silent_change(
    client: AsyncTestClient, db: Sessions, lunch_booked: list[int]
) -> None:
    await login_as(client, db, Role.KITCHEN)
    frozen = await client.post("/api/v1/kitchen/runs", json=FREEZE_LUNCH)
    assert frozen.status_code == 201, frozen.text
    run = frozen.json()
    clean = (await client.get(f"/api/v1/kitchen/runs/{run['id']}/diff")).json()
    assert clean["lines"] == []
    assert clean["frozen_total"] == clean["current_total"] == run["bookings_counted"]

    async with db() as session:
        late = (
            await session.scalars(
                select(Booking.id)
                .where(
                    Booking.service_date == TODAY,
                    Booking.status == BookingStatus.BOOKED,
                    Booking.fulfilment != Fulfilment.DELIVERY,
                )
                .order_by(Booking.id.desc())
                .limit(LATE_CANCELLATIONS)
            )
        ).all()
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(late))
            .values(status=BookingStatus.CANCELLED, cancelled_at=NOW)
        )
        await session.commit()

    diff = (await client.get(f"/api/v1/kitchen/runs/{run['id']}/diff")).json()
    assert diff["current_total"] == run["bookings_counted"] - LATE_CANCELLATIONS
    assert sum(line["change"] for line in diff["lines"]) == -LATE_CANCELLATIONS
    assert all(line["now"] < line["frozen"] for line in diff["lines"])
    again = (await client.get(f"/api/v1/kitchen/runs/{run['id']}")).json()
    assert again["total_portions"] == run["total_portions"], "a frozen run never changes"
    assert again["dishes"] == run["dishes"]

    page = await client.get(f"/kitchen/runs/{run['id']}")
    assert page.status_code == 200
    changes = page.text.split("锁定后的订单变化")[1]
    assert f"锁定时 {run['bookings_counted']} 单，现在 {diff['current_total']} 单。" in changes


async def test_impossible_wave_plan_is_reported_not_produced(
    settings: Settings, db: Sessions, lunch_booked: list[int]
) -> None:
    tiny_kitchen = dataclasses.replace(
        settings,
        kitchen_equipment=tuple(
            EquipmentSetting(item.kind, units=1, portions_per_batch=1)
            for item in settings.kitchen_equipment
        ),
    )
    app = create_app(tiny_kitchen, clock=Clock(NOW))
    async with AsyncTestClient(app=app) as client:
        await login_as(client, db, Role.KITCHEN)
        refused = await client.post("/api/v1/kitchen/runs", json=FREEZE_LUNCH)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["code"] == "plan_infeasible"
        assert "food-safety limit" in body["detail"] and "min past" in body["detail"]
        page = await client.get(f"/kitchen?service_date={TODAY.isoformat()}")
        assert page.status_code == 200
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(ProductionRun)) == 0


@pytest.mark.parametrize("role", [Role.KITCHEN, Role.ADMIN])
async def test_kitchen_and_admin_may_freeze_and_read(
    client: AsyncTestClient, db: Sessions, role: Role, lunch_booked: list[int]
) -> None:
    await login_as(client, db, role)
    run = await client.post("/api/v1/kitchen/runs", json=FREEZE_LUNCH)
    assert run.status_code == 201
    assert (await client.get("/kitchen")).status_code == 200
    sheet = await client.get(f"/kitchen/runs/{run.json()['id']}/production")
    assert sheet.status_code == 200


async def count_runs(db: Sessions) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(ProductionRun)) or 0


async def test_other_roles_are_refused(client: AsyncTestClient, db: Sessions) -> None:
    """Each role in turn logs in on one app and database (cookies cleared first, as a fresh
    client) and is refused everything; no run is saved; every failing role is named."""
    async with db() as session:
        senior_id = await session.scalar(
            select(Account.senior_id).where(Account.role == Role.SENIOR).limit(1)
        )
    failures = []
    for role in [Role.SENIOR, Role.FAMILY, Role.SITE_STAFF, Role.DRIVER]:
        client.cookies.clear()
        if role is Role.SENIOR:
            await login_as(client, db, role, senior_id=senior_id)
        else:
            await login_as(client, db, role)
        for method, path in [
            ("post", "/api/v1/kitchen/runs"),
            ("get", "/kitchen"),
            ("get", "/kitchen/runs/1/production"),
        ]:
            response = await client.request(
                method, path, json=FREEZE_LUNCH if method == "post" else None
            )
            if response.status_code != 403:
                failures.append(f"{role} {method} {path}: {response.status_code}, not 403")
        if (runs := await count_runs(db)) != 0:
            failures.append(f"{role}: {runs} production runs saved")
    assert not failures, "\n".join(failures)


async def test_anonymous_must_log_in(client: AsyncTestClient) -> None:
    to_login = await client.get("/kitchen", follow_redirects=False)
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/login")
    assert (await client.post("/api/v1/kitchen/runs", json=FREEZE_LUNCH)).status_code == 401


BAD_INPUT = [  # (method, path, body)
    ("get", "/kitchen?service_date=2026-13-45", None),
    ("get", "/kitchen?service_date=tomorrow", None),
    ("get", "/kitchen?slot=brunch", None),
    ("get", "/kitchen/runs/999999", None),
    ("get", "/kitchen/runs/999999/production", None),
    ("get", "/kitchen/runs/0/production", None),
    ("get", "/kitchen/runs/1/menu", None),
    ("get", "/kitchen/runs/1/production?format=docx", None),
    ("get", "/api/v1/kitchen/runs/999999/diff", None),
    ("post", "/api/v1/kitchen/runs", {"service_date": "2026-02-30", "slot": "lunch"}),
    ("post", "/api/v1/kitchen/runs", {"service_date": "2026-11-23", "slot": "brunch"}),
    ("post", "/api/v1/kitchen/runs", {"slot": "lunch"}),
    ("post", "/api/v1/kitchen/runs", {"service_date": "2026-11-23", "extra": 1}),
]


async def test_bad_input_is_4xx_never_500(client: AsyncTestClient, db: Sessions) -> None:
    """Every bad request on one app and database: each a 4xx, no run saved after any (so
    none can change what the next one sees); every failing case is named."""
    await login_as(client, db, Role.KITCHEN)
    failures = []
    for method, path, body in BAD_INPUT:
        if method == "post":
            response = await client.post(path, json=body)
        else:
            response = await client.get(path)
        case = f"{method} {path} {body!r}"
        if not 400 <= response.status_code < 500:
            failures.append(f"{case}: {response.status_code} {response.text[:300]}")
        if (runs := await count_runs(db)) != 0:
            failures.append(f"{case}: {runs} production runs saved")
    assert not failures, "\n".join(failures)


async def test_a_date_without_bookings_freezes_an_empty_plan(
    client: AsyncTestClient, db: Sessions
) -> None:
    await login_as(client, db, Role.KITCHEN)
    empty_day = (TODAY + timedelta(days=3)).isoformat()  # no bookings seeded that far
    run = await client.post("/api/v1/kitchen/runs", json={"service_date": empty_day})
    assert run.status_code == 201
    assert run.json()["total_portions"] == 0
