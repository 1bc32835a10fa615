"""Operations: every request has an id and one JSON log line; an unhandled error is logged
once as JSON with its traceback and that id; /metrics serves Prometheus figures to a scraper."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import httpx
import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from meals.app import create_app
from meals.ops.logs import JsonFormatter
from meals.words import Role
from tests.conftest import NOW, TEST_SECRET, TODAY
from tests.meals.helpers import canteen, login_as, meal, senior_at
from tests.server import running_server

TOKEN = "scraper-token-for-the-tests"


@get("/api/v1/boom", include_in_schema=False)
async def boom() -> None:
    raise RuntimeError("forced for the test")


@pytest.fixture
def observed(settings, clock):
    app = create_app(replace(settings, metrics_token=TOKEN), clock=clock)
    app.register(boom)
    return app


async def test_a_forced_500_is_one_json_log_line_with_traceback_and_request_id(observed, caplog):
    caplog.set_level(logging.INFO)
    async with AsyncTestClient(app=observed) as client:
        response = await client.get("/api/v1/boom")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json()["request_id"] == request_id
    assert "forced for the test" not in response.text  # no internals to the caller

    errors = [r for r in caplog.records if r.name == "meals.errors"]
    assert len(errors) == 1
    line = JsonFormatter().format(errors[0])
    assert "\n" not in line
    logged = json.loads(line)
    assert logged["level"] == "ERROR" and logged["request_id"] == request_id
    assert "RuntimeError: forced for the test" in logged["traceback"]
    assert "in boom" in logged["traceback"]
    access = [r for r in caplog.records if r.name == "meals.access"]
    assert [json.loads(JsonFormatter().format(r))["status"] for r in access] == [500]


async def test_every_request_has_an_id_and_keeps_a_proxys(client):
    first = await client.get("/health")
    second = await client.get("/nowhere")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = await client.get("/health", headers={"x-request-id": "proxy-id-0001"})
    assert kept.headers["x-request-id"] == "proxy-id-0001"
    odd = await client.get("/health", headers={"x-request-id": "bad id\twith tab"})
    assert odd.headers["x-request-id"] != "bad id\twith tab"


async def test_metrics_need_the_token_and_count_requests_and_bookings(observed, db):
    site = await canteen(db)
    ref = await meal(db, site.id, TODAY)
    senior = await senior_at(db, site.id, 0)
    async with AsyncTestClient(app=observed) as client:
        assert (await client.get("/metrics")).status_code == 403  # not from this machine
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 403
        await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
        booking = {"senior_id": senior.id, "menu_item_id": ref.item_id, "fulfilment": "dine_in"}
        assert (await client.post("/api/v1/bookings", json=booking)).status_code == 201
        assert (await client.post("/api/v1/bookings", json=booking)).status_code == 409

        scraped = await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert (
        'warmmeal_request_seconds_count{method="POST",route="/api/v1/bookings",status="201"}'
        in (text)
    )
    assert 'warmmeal_bookings_total{code="",outcome="taken"}' in text
    assert 'outcome="refused"' in text


def test_the_served_service_logs_each_request_as_json(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}"
    from meals import migrate
    from tests.conftest import settings_for

    migrate.upgrade(settings_for(url, tmp_path))
    with running_server(url, tmp_path, now=NOW, secret=TEST_SECRET) as base:
        response = httpx.get(f"{base}/health", headers={"x-request-id": "served-check-01"})
        assert response.status_code == 200
        scraped = httpx.get(f"{base}/metrics")  # from this machine: no token needed
        assert scraped.status_code == 200 and "warmmeal_request_seconds" in scraped.text
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()]
    mine = [line for line in lines if line.get("request_id") == "served-check-01"]
    assert len(mine) == 1
    assert mine[0]["logger"] == "meals.access" and mine[0]["status"] == 200
    assert mine[0]["route"] == "/health" and mine[0]["duration_ms"] >= 0
