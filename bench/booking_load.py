"""Booking load benchmark: POST /api/v1/bookings against a running server, beside GET /health.

Creates a fresh demo district (SQLite file or a PostgreSQL database), starts
`warmmeal serve --workers N` in a subprocess, and drives it from this process over
127.0.0.1 with a fixed number of concurrent connections. Every POST books a real
senior at their home site for a real set meal before the cutoff, so each request
runs every booking rule and writes one booking.

    .venv/bin/python bench/booking_load.py --backend sqlite
    .venv/bin/python bench/booking_load.py --backend postgresql \
        --pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from meals import migrate  # noqa: E402
from meals.db import create_engine, create_sessionmaker, session_scope  # noqa: E402
from meals.menus.models import Menu, MenuItem  # noqa: E402
from meals.seniors.models import Senior  # noqa: E402
from meals.settings import Settings  # noqa: E402
from meals.words import Slot  # noqa: E402
from seed import demo  # noqa: E402
from seed.data import DEMO_PASSWORDS  # noqa: E402
from tests.server import free_port, running_process, running_server  # noqa: E402

SECRET = "cd" * 32
DISTRICT_TZ = ZoneInfo("Asia/Shanghai")
BENCH_DB = "warmmeal_bench"
WARMUP_REQUESTS = 200
PERCENTILE_99 = 99


async def _prepare(url: str, seniors: int, now: datetime) -> list[tuple[int, int]]:
    """Seed the district; return (senior, set meal) pairs, one per senior per future day."""
    settings = Settings(database_url=url, secret_key=SECRET)
    await asyncio.to_thread(migrate.upgrade, settings)
    engine = create_engine(settings)
    today = now.astimezone(DISTRICT_TZ).date()
    async with session_scope(create_sessionmaker(engine)) as session:
        await demo.seed_demo(session, seed=11, seniors=seniors, today=today, now=now, menu_days=7)
    async with create_sessionmaker(engine)() as session:
        people = (await session.execute(select(Senior.id, Senior.home_site_id, Senior.halal))).all()
        items = (
            await session.execute(
                select(Menu.site_id, Menu.service_date, MenuItem.code, MenuItem.id)
                .join(MenuItem)
                .where(Menu.slot == Slot.LUNCH, Menu.service_date > today)
            )
        ).all()
    await engine.dispose()
    menu = {(site, day, code): item for site, day, code, item in items}
    days = sorted({day for _, day, _, _ in items})
    return [
        (senior, menu[(site, day, "B" if halal else "A")])
        for day in days
        for senior, site, halal in people
        if (site, day, "A") in menu
    ]


def _fresh_database(backend: str, pg_url: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(False)

    async def recreate() -> None:
        connection = await asyncpg.connect(dsn)
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{BENCH_DB}"')
        await connection.close()

    asyncio.run(recreate())
    return make_url(pg_url).set(database=BENCH_DB).render_as_string(False)


def _baseline_server(url: str, folder: Path, workers: int):
    """The minimal Litestar + SQLAlchemy insert app, served like `warmmeal serve`."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_insert_app:create_app",
        "--factory",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "BASELINE_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    return running_process(args, env, folder / "baseline.log", port, ready_path="/")


async def _drive(
    base: str, requests: list[dict | None], concurrency: int, path: str, *, login: bool = True
):
    """Send every request over `concurrency` keep-alive connections; return latencies and time.

    One client per connection: a single httpx pool shared by many connections spends more CPU
    on its own locking than the server spends answering, and would measure the client.
    """
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for body in requests:
        queue.put_nowait(body)
    clients = [
        httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1), timeout=30)
        for _ in range(concurrency)
    ]
    try:
        if login:
            for client in clients:
                session = await client.post(
                    "/api/v1/auth/login",
                    json={"login": "admin", "password": DEMO_PASSWORDS["admin"]},
                )
                session.raise_for_status()

        async def worker(client: httpx.AsyncClient) -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    if body is None:
                        response = await client.get(path)
                    else:
                        response = await client.post(path, json=body)
                    outcome: int | str = response.status_code
                except httpx.TransportError as error:
                    outcome = type(error).__name__
                latencies.append(time.perf_counter() - started)
                statuses[outcome] = statuses.get(outcome, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return latencies, elapsed, statuses


def _report(
    name: str, latencies: list[float], elapsed: float, statuses: dict[int | str, int]
) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, len(ordered) * PERCENTILE_99 // 100)] * 1000
    print(
        f"{name:<22} {len(latencies):>7} req  {len(latencies) / elapsed:>8.0f} req/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  outcomes {statuses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seniors", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--keep-logs", help="Folder for the database and server logs (kept).")
    args = parser.parse_args()

    now = datetime.now(DISTRICT_TZ).replace(hour=6, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(args.keep_logs or folder_name)
        folder.mkdir(parents=True, exist_ok=True)
        url = _fresh_database(args.backend, args.pg_url, folder)
        pairs = asyncio.run(_prepare(url, args.seniors, now - timedelta(minutes=1)))
        bookings = [
            {"senior_id": senior, "menu_item_id": item, "fulfilment": "dine_in"}
            for senior, item in pairs[WARMUP_REQUESTS : WARMUP_REQUESTS + args.requests]
        ]
        warmup = [
            {"senior_id": senior, "menu_item_id": item} for senior, item in pairs[:WARMUP_REQUESTS]
        ]
        print(
            f"backend {args.backend}, {args.workers} workers, {args.concurrency} connections, "
            f"{args.seniors} seniors"
        )
        baseline_rows = [{"senior_id": s, "menu_item_id": i} for s, i in pairs[: len(bookings)]]
        with _baseline_server(url, folder, args.workers) as base:
            _report(
                "baseline insert",
                *asyncio.run(_drive(base, baseline_rows, args.concurrency, "/insert", login=False)),
            )
        with running_server(url, folder, now=now, secret=SECRET, workers=args.workers) as base:
            asyncio.run(_drive(base, warmup, args.concurrency, "/api/v1/bookings"))
            _report(
                "GET /health",
                *asyncio.run(_drive(base, [None] * len(bookings), args.concurrency, "/health")),
            )
            _report(
                "POST /api/v1/bookings",
                *asyncio.run(_drive(base, bookings, args.concurrency, "/api/v1/bookings")),
            )


if __name__ == "__main__":
    main()
