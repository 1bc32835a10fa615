"""A driver's action stamped far from now (year 1, year 9999, a week off) is a 422, never a
500, and nothing is recorded."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from meals.deliveries.models import DeliveryActionRecord
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW
from tests.deliveries.test_driver_and_alerts import (  # noqa: F401 (fixtures)
    DeliveryDay,
    _action,
    client,
    clock,
    day,
    receiver,
    settings,
)
from tests.meals.helpers import Sessions, login

FAR_FROM_NOW = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    (NOW - timedelta(days=7)).isoformat(),
    (NOW + timedelta(days=3)).isoformat(),
]


async def test_an_action_far_from_now_is_refused(
    client: AsyncTestClient,  # noqa: F811 (the fixture imported above)
    db: Sessions,
    day: DeliveryDay,  # noqa: F811
):
    """Every far-off time on one app and database, nothing recorded after each (so none can
    change what the next one sees), every failing time named; then the same action stamped
    yesterday is still taken (it writes, so it comes last)."""
    await login(client, day.driver_login, DEMO_PASSWORDS["driver"])
    failures = []
    for acted_at in FAR_FROM_NOW:
        response = await client.post(
            "/api/v1/deliveries/actions",
            json={**_action(day.home.id, "arrived"), "acted_at": acted_at},
        )
        if response.status_code != 422:
            failures.append(f"{acted_at}: {response.status_code}, not 422: {response.text[:300]}")
        elif "date and time" not in response.json()["detail"]:
            failures.append(f"{acted_at}: detail {response.json()['detail']!r}")
        async with db() as s:
            if recorded := await s.scalar(select(func.count()).select_from(DeliveryActionRecord)):
                failures.append(f"{acted_at}: {recorded} actions recorded")
    assert not failures, "\n".join(failures)
    yesterday = {
        **_action(day.home.id, "arrived"),
        "acted_at": (NOW - timedelta(days=1)).isoformat(),
    }
    assert (await client.post("/api/v1/deliveries/actions", json=yesterday)).status_code == 200
