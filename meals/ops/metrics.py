"""Prometheus metrics (prometheus-client): request latency by route, bookings by outcome,
plan solve times and the planning jobs open.

With several worker processes set PROMETHEUS_MULTIPROC_DIR (an empty folder) before starting,
so /metrics adds up every worker's figures (the client library's multiprocess mode).
"""

from __future__ import annotations

import ipaddress
import os
import secrets

from litestar import Request, Response, get
from litestar.exceptions import PermissionDeniedException
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from meals.settings import Settings

REQUEST_SECONDS = Histogram(
    "warmmeal_request_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BOOKINGS = Counter(
    "warmmeal_bookings",
    "Bookings asked for, by outcome (taken, replayed, refused) and refusal code.",
    ["outcome", "code"],
)
PLAN_SOLVE_SECONDS = Histogram(
    "warmmeal_plan_solve_seconds",
    "Time to solve a delivery plan (routes and walking lists), by meal slot.",
    ["slot"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)
PLANNING_JOBS_OPEN = Gauge(
    "warmmeal_planning_jobs_open",
    "Planning jobs queued or running in this process (the job queue's depth).",
    multiprocess_mode="livesum",
)
LOOPBACK_NAMES = frozenset({"localhost"})


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def may_scrape(request: Request, settings: Settings) -> bool:
    """A scraper shows `WARMMEAL_METRICS_TOKEN` as a bearer token; without one configured,
    only this machine may read the figures."""
    if settings.metrics_token:
        sent = request.headers.get("authorization", "")
        return secrets.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode())
    return _is_loopback(request.client.host if request.client else None)


@get("/metrics", summary="Prometheus metrics (bearer token, or from this machine)", tags=["ops"])
async def metrics(request: Request) -> Response[bytes]:
    if not may_scrape(request, request.app.state.settings):
        raise PermissionDeniedException("Show the metrics token to read the metrics.")
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
