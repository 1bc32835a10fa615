"""Settlement benchmark: a month's settlement beside the raw SQL GROUP BY of the same totals.

Seeds (or reuses) a district whose October holds about 100,000 bookings with outcomes
(``seed.history``: 6,000 seniors × 31 days × 55 %), then times the service's own path —
``settlement.service.month_report`` on an open month: query, strata, per-site and per-source
tallies — and, on the same database in the same run, the raw SQL that only sums each funding
source's breakdown per site over the served bookings. Checks the two agree to the fen, and
prints both times and their ratio round by round (targets: under 5 s, at most 2× the raw SQL):
``--repeat`` rounds after one warm-up and ANALYZE, each timing the two back to back in
alternating order, so a shared machine's load weighs on both alike; the range is printed.

    .venv/bin/python bench/settlement.py
    .venv/bin/python bench/settlement.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/warmmeal_sbench
    .venv/bin/python bench/settlement.py --seniors 200 --repeat 1   # a quick check that it runs
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from meals import migrate
from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.settings import REPO_ROOT, Settings
from meals.settlement import service
from meals.words import Role
from seed import demo
from seed.history import seed_history

MONTH = date(2026, 10, 1)
TODAY = date(2026, 11, 1)  # history covers the 31 days before: all of October
NOW = datetime(2026, 11, 1, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SEED = 7
DEFAULT_URL = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'bench-settlement.sqlite3'}"
OPERATOR = Actor(account_id=0, role=Role.ADMIN, display_name="bench")
SERVED = "('served', 'delivered')"
RAW = {
    "sqlite": f"""
        SELECT b.site_id, json_extract(line.value, '$.source') AS source, count(*),
               sum(json_extract(line.value, '$.amount_fen'))
        FROM bookings b, json_each(b.subsidy_breakdown) AS line
        WHERE b.service_date >= :start AND b.service_date < :end AND b.status IN {SERVED}
          AND json_extract(line.value, '$.amount_fen') > 0
        GROUP BY b.site_id, source
    """,
    "postgresql": f"""
        SELECT b.site_id, line ->> 'source' AS source, count(*),
               sum((line ->> 'amount_fen')::int)
        FROM bookings b, json_array_elements(b.subsidy_breakdown) AS line
        WHERE b.service_date >= :start AND b.service_date < :end AND b.status IN {SERVED}
          AND (line ->> 'amount_fen')::int > 0
        GROUP BY b.site_id, source
    """,
}


async def ensure_district(settings: Settings, seniors: int) -> int:
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            if not await demo.is_seeded(session):
                await demo.seed_demo(
                    session, seed=SEED, seniors=seniors, today=TODAY, now=NOW, menu_days=1
                )
                await seed_history(session, seed=SEED, today=TODAY, days=31, now=NOW)
        async with create_sessionmaker(engine)() as session:
            await session.execute(text("ANALYZE"))
            await session.commit()
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(Booking)
                    .where(Booking.service_date >= MONTH, Booking.service_date < TODAY)
                )
                or 0
            )
    finally:
        await engine.dispose()


CPU = {"service": 0.0, "raw": 0.0}
"""This process's CPU seconds on each path: on SQLite the whole work (the database runs in
this process), a figure the machine's other load hardly changes."""


async def _time_service(sessions, settings: Settings) -> tuple[float, service.MonthReport]:
    async with sessions() as session:
        started, cpu = time.perf_counter(), time.process_time()
        report = await service.month_report(
            session, actor=OPERATOR, month_start=MONTH, settings=settings
        )
        CPU["service"] += time.process_time() - cpu
        return time.perf_counter() - started, report


async def _time_raw(sessions, raw) -> tuple[float, list]:
    async with sessions() as session:
        started, cpu = time.perf_counter(), time.process_time()
        rows = (await session.execute(raw, {"start": MONTH, "end": TODAY})).all()
        CPU["raw"] += time.process_time() - cpu
        return time.perf_counter() - started, rows


async def time_both(settings: Settings, repeat: int) -> None:
    """`repeat` rounds, each timing the service and the raw SQL back to back (their order
    alternating), so the ratio is taken under the same load, round by round."""
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    raw = text(RAW[engine.dialect.name])
    rounds: list[tuple[float, float]] = []
    try:
        await _time_service(sessions, settings)  # warm caches and the statement cache
        await _time_raw(sessions, raw)
        CPU.update(service=0.0, raw=0.0)
        for number in range(repeat):
            if number % 2:
                raw_s, rows = await _time_raw(sessions, raw)
                service_s, report = await _time_service(sessions, settings)
            else:
                service_s, report = await _time_service(sessions, settings)
                raw_s, rows = await _time_raw(sessions, raw)
            rounds.append((service_s, raw_s))
            print(
                f"round {number + 1}: settlement {service_s:.3f} s, raw SQL {raw_s:.3f} s, "
                f"ratio {service_s / raw_s:.2f}×",
                flush=True,
            )
    finally:
        await engine.dispose()
    raw_totals: dict[str, int] = {}
    for _site, source, _meals, fen in rows:
        raw_totals[source] = raw_totals.get(source, 0) + int(fen)
    ours = {s["source"]: s["owed_fen"] for s in report.figures["sources"] if s["owed_fen"]}
    assert ours == raw_totals, f"settlement {ours} != raw SQL {raw_totals}"
    ratios = sorted(service_s / raw_s for service_s, raw_s in rounds)
    services = sorted(service_s for service_s, _ in rounds)
    print(f"meals served {report.figures['meals']:,}; totals agree to the fen: {ours}")
    print(
        f"settlement (service): {services[0]:.3f}–{services[-1]:.3f} s "
        f"(median {statistics.median(services):.3f} s)"
    )
    raws = sorted(raw_s for _, raw_s in rounds)
    print(f"raw SQL GROUP BY:     {raws[0]:.3f}–{raws[-1]:.3f} s")
    print(
        f"ratio per round:      {ratios[0]:.2f}–{ratios[-1]:.2f}× "
        f"(median {statistics.median(ratios):.2f}×)"
    )
    print(
        f"ratio of the medians {statistics.median(services) / statistics.median(raws):.2f}×, "
        f"of the bests {services[0] / raws[0]:.2f}×"
    )
    print(
        f"CPU of this process per round: settlement {CPU['service'] / len(rounds):.3f} s, "
        f"raw SQL {CPU['raw'] / len(rounds):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seniors", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    settings = Settings(
        database_url=args.database_url, secret_key=secrets.token_hex(32), var_dir=REPO_ROOT / "var"
    )
    migrate.upgrade(settings)
    bookings = asyncio.run(ensure_district(settings, args.seniors))
    print(f"{bookings:,} bookings in {MONTH:%Y-%m} on {settings.database_url.split(':')[0]}")
    asyncio.run(time_both(settings, args.repeat))


if __name__ == "__main__":
    main()
