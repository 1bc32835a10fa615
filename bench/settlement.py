"""Settlement benchmark: a month's settlement beside the raw SQL GROUP BY of the same totals.

Seeds (or reuses) a district whose October holds about 100,000 bookings with outcomes
(``seed.history``: 6,000 seniors × 31 days × 55 %), then times the service's own path —
``settlement.service.month_report`` on an open month: query, strata, per-site and per-source
tallies — and, on the same database in the same run, the raw SQL that only sums each funding
source's breakdown per site over the served bookings. Checks the two agree to the fen, and
prints both times and the ratio (targets: under 5 s, at most 2× the raw SQL). Best of
``--repeat`` runs each, after ANALYZE.

    .venv/bin/python bench/settlement.py
    .venv/bin/python bench/settlement.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/warmmeal_sbench
    .venv/bin/python bench/settlement.py --seniors 200 --repeat 1   # a quick check that it runs
"""

from __future__ import annotations

import argparse
import asyncio
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


async def time_both(settings: Settings, repeat: int) -> None:
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    raw = text(RAW[engine.dialect.name])
    best_service = best_raw = float("inf")
    try:
        for _ in range(repeat):
            async with sessions() as session:
                started = time.perf_counter()
                report = await service.month_report(
                    session, actor=OPERATOR, month_start=MONTH, settings=settings
                )
                best_service = min(best_service, time.perf_counter() - started)
            async with sessions() as session:
                started = time.perf_counter()
                rows = (await session.execute(raw, {"start": MONTH, "end": TODAY})).all()
                best_raw = min(best_raw, time.perf_counter() - started)
    finally:
        await engine.dispose()
    raw_totals: dict[str, int] = {}
    for _site, source, _meals, fen in rows:
        raw_totals[source] = raw_totals.get(source, 0) + int(fen)
    ours = {s["source"]: s["owed_fen"] for s in report.figures["sources"] if s["owed_fen"]}
    assert ours == raw_totals, f"settlement {ours} != raw SQL {raw_totals}"
    print(f"meals served {report.figures['meals']:,}; totals agree to the fen: {ours}")
    print(f"settlement (service): {best_service:.3f} s")
    print(f"raw SQL GROUP BY:     {best_raw:.3f} s")
    print(f"ratio:                {best_service / best_raw:.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seniors", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = Settings(
        database_url=args.database_url, secret_key="bench", var_dir=REPO_ROOT / "var"
    )
    migrate.upgrade(settings)
    bookings = asyncio.run(ensure_district(settings, args.seniors))
    print(f"{bookings:,} bookings in {MONTH:%Y-%m} on {settings.database_url.split(':')[0]}")
    asyncio.run(time_both(settings, args.repeat))


if __name__ == "__main__":
    main()
