"""Booking load benchmark: POST /api/v1/bookings against a running server, beside GET /health.

Creates a fresh demo district (SQLite file or a PostgreSQL database), then measures, one
after the other and with the same load: a minimal Litestar + SQLAlchemy endpoint inserting
one row (bench/baseline_insert_app.py, the yardstick), `GET /health`, and booking, each
served by uvicorn with N workers. The load comes from wrk (Debian's package; a C load
generator, so the 2 cores go to the server) in a second process over 127.0.0.1, with a fixed
number of keep-alive connections for a fixed time. Every POST books a different senior at
their home site for a set meal their diet allows, before the cutoff, within the free seats:
each request passes every booking rule and writes one booking.

    apt-get install wrk
    .venv/bin/python bench/booking_load.py --backend sqlite
    .venv/bin/python bench/booking_load.py --backend postgresql \
        --pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.baseline_insert_app import rows as baseline_rows  # noqa: E402
from meals import migrate  # noqa: E402
from meals.bookings.diet import choose_variant  # noqa: E402
from meals.bookings.models import Booking  # noqa: E402
from meals.bookings.service import diet_of, offer_of  # noqa: E402
from meals.db import create_engine, create_sessionmaker, session_scope  # noqa: E402
from meals.errors import Conflict  # noqa: E402
from meals.menus.models import Menu, MenuItem  # noqa: E402
from meals.seniors.models import Senior  # noqa: E402
from meals.settings import Settings  # noqa: E402
from meals.words import Slot  # noqa: E402
from seed import demo  # noqa: E402
from seed.data import DEMO_PASSWORDS  # noqa: E402
from tests.server import free_port, running_process, running_server  # noqa: E402

SECRET = "5f0c2a9e7d4b18c6e3a0f5d2b9c7e4a1f8d6b3c0e7a4d1b8f5c2e9a6d3b0c7f4"
DISTRICT_TZ = ZoneInfo("Asia/Shanghai")
BENCH_DB = "warmmeal_bench"
WARMUP_REQUESTS = 200
WRK_TIMEOUT_SECONDS = 10


async def _prepare(url: str, seniors: int, now: datetime) -> list[tuple[int, int]]:
    """Seed the district; return bookable (senior, set meal) pairs for the coming days.

    Each site's menu gets at most as many bookings as it has free seats and portions, and
    the pairs are interleaved across sites and days, as a morning's bookings would be: every
    measured booking passes every rule and writes a row.
    """
    settings = Settings(database_url=url, secret_key=SECRET)
    await asyncio.to_thread(migrate.upgrade, settings)
    engine = create_engine(settings)
    today = now.astimezone(DISTRICT_TZ).date()
    async with session_scope(create_sessionmaker(engine)) as session:
        await demo.seed_demo(session, seed=11, seniors=seniors, today=today, now=now, menu_days=7)
    async with create_sessionmaker(engine)() as session:
        people = list(await session.scalars(select(Senior).order_by(Senior.id)))
        menus = (
            await session.execute(
                select(
                    Menu.id, Menu.site_id, Menu.service_date, Menu.seat_capacity - Menu.seats_booked
                )
                .where(Menu.slot == Slot.LUNCH, Menu.service_date > today)
                .order_by(Menu.service_date, Menu.site_id)
            )
        ).all()
        untouched = list(await session.scalars(select(MenuItem).where(MenuItem.booked_count == 0)))
        booked = set(
            (
                await session.execute(
                    select(Booking.senior_id, Booking.service_date).where(
                        Booking.slot == Slot.LUNCH, Booking.service_date > today
                    )
                )
            ).all()
        )
    async with engine.begin() as connection:
        await connection.run_sync(baseline_rows.metadata.create_all)
    await engine.dispose()
    await _vacuum(url)
    items: dict[int, list[MenuItem]] = {}
    for item in untouched:
        items.setdefault(item.menu_id, []).append(item)
    residents: dict[int, list[Senior]] = {}
    for senior in people:
        residents.setdefault(senior.home_site_id, []).append(senior)
    per_menu = []
    for menu, site, day, free_seats in menus:
        choices = [
            (senior.id, item)
            for senior in residents.get(site, [])
            if (senior.id, day) not in booked
            and (item := _bookable_item(senior, items.get(menu, []))) is not None
        ]
        per_menu.append(choices[:free_seats])
    return [pair for wave in zip_longest(*per_menu) for pair in wave if pair is not None]


def _bookable_item(senior: Senior, items: list[MenuItem]) -> int | None:
    """The first set meal the senior's diet allows (what the booking page would offer)."""
    for item in sorted(items, key=lambda item: item.code):
        try:
            choose_variant(diet_of(senior), offer_of(item))
        except Conflict:
            continue
        return item.id
    return None


async def _vacuum(url: str) -> None:
    """Fresh statistics and no pending autovacuum, so neither server is measured against it."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(False)
    )
    await connection.execute("VACUUM ANALYZE")
    await connection.close()


def _driver_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def _fresh_database(backend: str, pg_url: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    dsn = _driver_dsn(pg_url)

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
    pool = Settings(database_url=url, secret_key=SECRET)
    env = {
        **os.environ,
        "BASELINE_DATABASE_URL": url,
        "BASELINE_POOL_SIZE": str(pool.db_pool_size),
        "BASELINE_MAX_OVERFLOW": str(pool.db_max_overflow),
        "PYTHONPATH": str(REPO),
    }
    return running_process(args, env, folder / "baseline.log", port, ready_path="/")


def _login_cookie(base: str) -> str:
    """The session cookie of the demo admin, as a Cookie header value for wrk."""
    with httpx.Client(base_url=base) as client:
        response = client.post(
            "/api/v1/auth/login", json={"login": "admin", "password": DEMO_PASSWORDS["admin"]}
        )
        response.raise_for_status()
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: dict[str, int]
    cpu_seconds: dict[str, float]
    connections_opened: int | None = None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        cpu = ", ".join(
            f"{kind} {seconds / self.requests * 1e6:.0f} µs"
            for kind, seconds in sorted(self.cpu_seconds.items())
        )
        opened = (
            ""
            if self.connections_opened is None
            else f"; database connections opened: {self.connections_opened}"
        )
        return (
            f"{self.name:<22} {self.requests:>7} req  {self.per_second:>8.0f} req/s  "
            f"p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  failures {self.failures}\n"
            f"{'':<22} CPU per request: {cpu}{opened}"
        )


def _cpu_by_kind() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each server process (this script's descendants) and of PostgreSQL.

    Read from /proc (Linux): where the 2 cores go is what explains a difference in throughput.
    """
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick

    def kind(pid: int) -> str | None:
        if commands[pid].startswith("postgres"):
            return "database"
        ancestor = parents.get(pid)
        while ancestor:
            if ancestor == os.getpid():
                return None if Path(commands[pid]).name == "wrk" else "server"
            ancestor = parents.get(ancestor)
        return None

    return {pid: (found, seconds[pid]) for pid in seconds if (found := kind(pid))}


def _cpu_used(before: dict[int, tuple[str, float]]) -> dict[str, float]:
    used: dict[str, float] = {}
    for pid, (kind, seconds) in _cpu_by_kind().items():
        used[kind] = used.get(kind, 0.0) + seconds - before.get(pid, (kind, 0.0))[1]
    return used


def _connections_so_far(database_url: str | None) -> int | None:
    """PostgreSQL's count of connections ever opened to the bench database (None on SQLite).

    A server whose pool is too small opens and closes connections under load, which costs the
    database a process start each time: the figure shows that neither server does.
    """
    if database_url is None or make_url(database_url).get_backend_name() != "postgresql":
        return None

    async def read() -> int:
        connection = await asyncpg.connect(_driver_dsn(database_url))
        try:
            await connection.execute("SELECT pg_stat_force_next_flush()")
            return await connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
        finally:
            await connection.close()

    return asyncio.run(read())


def _drive(
    name: str,
    url: str,
    bodies: list[dict] | None,
    args: argparse.Namespace,
    folder: Path,
    *,
    cookie: str | None = None,
    seconds: int | None = None,
    database_url: str | None = None,
) -> LoadResult:
    """Run wrk against `url`, POSTing each of `bodies` at most once (GETs when None).

    wrk is a C load generator: on a 2-core machine a Python client spends about as much CPU
    as the server it measures, and the figures would be the client's.
    """
    bodies_file = "-"
    if bodies is not None:
        bodies_path = folder / ("".join(c if c.isalnum() else "_" for c in name) + ".jsonl")
        bodies_path.write_text("".join(json.dumps(body) + "\n" for body in bodies))
        bodies_file = str(bodies_path)
    command = [
        args.wrk,
        f"--threads={args.threads}",
        f"--connections={args.concurrency}",
        f"--duration={seconds or args.seconds}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        f"--script={REPO / 'bench' / 'wrk_load.lua'}",
    ]
    if cookie:
        command.append(f"--header=Cookie: {cookie}")
    command += [url, "--", bodies_file, str(args.threads)]
    connections_before = _connections_so_far(database_url)
    cpu_before = _cpu_by_kind()
    finished = subprocess.run(command, capture_output=True, text=True)
    cpu_seconds = _cpu_used(cpu_before)
    connections_after = _connections_so_far(database_url)
    if finished.returncode or "WRK " not in finished.stdout:
        sys.exit(f"wrk failed for {name}:\n{finished.stdout}{finished.stderr}")
    output = finished.stdout
    summary = dict(field.split("=") for field in output.split("WRK ", 1)[1].split())
    failures = {
        key: int(summary[key])
        for key in ("non2xx", "connect", "read", "write", "timeout")
        if int(summary[key])
    }
    return LoadResult(
        name,
        requests=int(summary["requests"]),
        seconds=int(summary["duration_us"]) / 1e6,
        p50_ms=int(summary["p50_us"]) / 1000,
        p99_ms=int(summary["p99_us"]) / 1000,
        failures=failures,
        cpu_seconds=cpu_seconds,
        connections_opened=None
        if connections_before is None or connections_after is None
        else connections_after - connections_before - 1,  # less the one that counted them
    )


def _summary(name: str, runs: list[LoadResult]) -> str:
    """All rounds of one server together: throughput and the worst round's p99."""
    requests = sum(run.requests for run in runs)
    seconds = sum(run.seconds for run in runs)
    return (
        f"{name:<22} {requests:>7} req  {requests / seconds:>8.0f} req/s  "
        f"p99 {max(run.p99_ms for run in runs):6.1f} ms (worst round)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--seniors",
        type=int,
        default=40000,
        help="Seniors seeded; each can be booked about five times, so enough for every round.",
    )
    parser.add_argument("--seconds", type=int, default=10, help="Length of each measured run.")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="Rounds of baseline insert then booking, one after the other: on a shared machine "
        "the speed drifts by more than the difference being measured, so the two are compared "
        "round by round.",
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    parser.add_argument("--keep-logs", help="Folder for the database and server logs (kept).")
    args = parser.parse_args()
    if not shutil.which(args.wrk):
        parser.error("wrk is not installed: apt-get install wrk (Debian's package)")

    now = datetime.now(DISTRICT_TZ).replace(hour=6, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(args.keep_logs or folder_name)
        folder.mkdir(parents=True, exist_ok=True)
        url = _fresh_database(args.backend, args.pg_url, folder)
        pairs = asyncio.run(_prepare(url, args.seniors, now - timedelta(minutes=1)))
        warmup, measured = pairs[:WARMUP_REQUESTS], pairs[WARMUP_REQUESTS:]
        bookings = [
            {"senior_id": senior, "menu_item_id": item, "fulfilment": "dine_in"}
            for senior, item in measured
        ]
        print(
            f"backend {args.backend}, {args.workers} workers, {args.concurrency} connections, "
            f"{args.seniors} seniors, {len(bookings)} distinct bookings available, "
            f"{args.rounds} rounds of {args.seconds:g} s per server, load from wrk"
        )
        rows = [{"senior_id": senior, "menu_item_id": item} for senior, item in pairs]
        warm = [{"senior_id": s, "menu_item_id": i} for s, i in warmup]
        with (
            _baseline_server(url, folder, args.workers) as baseline,
            running_server(url, folder, now=now, secret=SECRET, workers=args.workers) as base,
        ):
            cookie = _login_cookie(base)
            _drive("warm-up", f"{baseline}/insert", rows[:WARMUP_REQUESTS], args, folder, seconds=2)
            _drive(
                "warm-up", f"{base}/api/v1/bookings", warm, args, folder, cookie=cookie, seconds=2
            )
            print(_drive("GET /health", f"{base}/health", None, args, folder).line())
            inserts: list[LoadResult] = []
            booked: list[LoadResult] = []
            sent = 0
            for round_number in range(1, args.rounds + 1):
                insert = _drive(
                    "baseline insert", f"{baseline}/insert", rows, args, folder, database_url=url
                )
                booking = _drive(
                    "POST /api/v1/bookings",
                    f"{base}/api/v1/bookings",
                    bookings[sent:],
                    args,
                    folder,
                    cookie=cookie,
                    database_url=url,
                )
                # Requests still in flight when wrk stopped were sent but not counted.
                sent += booking.requests + args.concurrency
                inserts.append(insert)
                booked.append(booking)
                print(
                    f"round {round_number}: booking at {booking.per_second / insert.per_second:.0%}"
                )
                print(insert.line())
                print(booking.line())
            if sent > len(bookings):
                print(
                    f"warning: {sent - len(bookings)} requests repeated a booking already made "
                    "(answered 409): seed more --seniors"
                )
            ratios = sorted(
                b.per_second / i.per_second for b, i in zip(booked, inserts, strict=True)
            )
            print("all rounds:")
            print(_summary("baseline insert", inserts))
            print(_summary("POST /api/v1/bookings", booked))
            print(
                f"booking throughput / baseline insert: median {ratios[len(ratios) // 2]:.0%} "
                f"(rounds {ratios[0]:.0%}–{ratios[-1]:.0%})"
            )


if __name__ == "__main__":
    main()
