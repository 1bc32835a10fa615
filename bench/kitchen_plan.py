"""Kitchen production plan benchmark: the whole plan beside the raw SQL GROUP BY it replaces.

Seeds (or reuses) the demo district at 50,000 seniors with lunch bookings on several days
(about 27,500 a day, so four days pass 100,000), then per day times the service's own
path — query, adapt, ``kitchen.plan_production`` — and, on the same database in the same
run, the raw SQL that only counts dish × variant × destination. The kitchen plans for
the routed trips of the plan of the day (``meals.production.day``); routing 27,500
bookings is the router's benchmark (bench/routing_peers.py), so here the stops are put
on trips of ``STOPS_PER_TRIP`` in stop order, a stop every few minutes, and only the
kitchen's share is timed. Prints both and the ratio.
Both sides are timed the same way (best of ``--repeat`` sums over the days), after ANALYZE
so the planner has the statistics a live database has. Results: docs/kitchen-benchmark.md.

    .venv/bin/python bench/kitchen_plan.py
    .venv/bin/python bench/kitchen_plan.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/warmmeal_kbench
    .venv/bin/python bench/kitchen_plan.py --profile   # cProfile of one plan, top 25
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import math
import pstats
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from kitchen import DestinationKind
from meals import migrate
from meals.bookings.models import Booking
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.production import adapter, service
from meals.settings import REPO_ROOT, EquipmentSetting, Settings
from meals.words import BookingStatus, Slot
from seed import demo

START = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DEFAULT_URL = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'bench-kitchen.sqlite3'}"
SEED = 7
STOPS_PER_TRIP = 20
MINUTES_BETWEEN_STOPS = 3
DEPARTS_AT = datetime(2026, 11, 23, 10, 15, tzinfo=ZoneInfo("Asia/Shanghai"))


def bench_trips(demand: service.Demand, day: date) -> list[adapter.RoutedTrip]:
    """Every stop on a trip (timing only: the router's own trips are benchmarked apart)."""
    departs_at = DEPARTS_AT.replace(year=day.year, month=day.month, day=day.day)
    stops = [
        (adapter.site_stop_id(site), DestinationKind.SITE)
        for site in sorted({count.site_id for count in demand.site_counts})
    ] + [
        (adapter.home_stop_id(senior), DestinationKind.HOME)
        for senior in sorted({delivery.senior_id for delivery in demand.deliveries})
    ]
    trips = []
    for number, first in enumerate(range(0, len(stops), STOPS_PER_TRIP), start=1):
        van = f"VAN-{number:03d}"
        trips.append(
            adapter.RoutedTrip(
                departure_id=adapter.departure_label(van, departs_at),
                van=van,
                departs_at=departs_at,
                stops=tuple(
                    adapter.RoutedStop(
                        stop_id=stop_id,
                        kind=kind,
                        name=stop_id,
                        sequence=position,
                        eta=departs_at + timedelta(minutes=MINUTES_BETWEEN_STOPS * position),
                    )
                    for position, (stop_id, kind) in enumerate(
                        stops[first : first + STOPS_PER_TRIP], start=1
                    )
                ),
            )
        )
    return trips


async def kitchen_plan(session, settings: Settings, day: date):
    """The kitchen's share of the plan of the day: query, adapt, plan for the trips."""
    demand = await service.load_demand(session, day, Slot.LUNCH)
    inputs = await service.kitchen_inputs(session, day, Slot.LUNCH)
    return service.plan_for_routes(
        demand,
        inputs,
        bench_trips(demand, day),
        settings,
        not_before=NOW - timedelta(days=1),
        allow_violations=True,
    )


DEMO_DISTRICT_SENIORS = 3000
"""The kitchen settings' defaults are sized for the 3,000-senior demo; scale them up."""

RAW_GROUP_BY = text(
    """
    SELECT d.dish_id, b.variant, b.site_id,
           CASE WHEN b.fulfilment = 'delivery' THEN b.senior_id END AS home, count(*)
    FROM bookings b JOIN menu_item_dishes d ON d.menu_item_id = b.menu_item_id
    WHERE b.service_date = :day AND b.slot = 'lunch' AND b.status <> 'cancelled'
    GROUP BY d.dish_id, b.variant, b.site_id, home
    """
)


def scaled(settings: Settings, seniors: int) -> Settings:
    factor = max(1, math.ceil(seniors / DEMO_DISTRICT_SENIORS))
    return dataclasses.replace(
        settings,
        kitchen_equipment=tuple(
            EquipmentSetting(e.kind, e.units * factor, e.portions_per_batch)
            for e in settings.kitchen_equipment
        ),
    )


async def ensure_district(settings: Settings, seniors: int, days: int) -> None:
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            if not await demo.is_seeded(session):
                started = time.perf_counter()
                await demo.seed_demo(
                    session,
                    seed=SEED,
                    seniors=seniors,
                    today=START,
                    now=NOW,
                    menu_days=max(days, 7),
                    booking_days=days,
                )
                print(f"seeded {seniors} seniors in {time.perf_counter() - started:.1f} s")
        # Planner statistics, as a live database has them (autovacuum may be off here):
        # without them PostgreSQL sorts the raw GROUP BY on disk instead of hashing it.
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


async def bench(settings: Settings, days: int, repeat: int, profile: bool) -> None:
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    dates = [START + timedelta(days=n) for n in range(days)]
    try:
        async with sessions() as session:
            bookings = await session.scalar(
                select(func.count())
                .select_from(Booking)
                .where(
                    Booking.service_date.in_(dates),
                    Booking.slot == Slot.LUNCH,
                    Booking.status != BookingStatus.CANCELLED,
                )
            )
        if profile:
            profiler = cProfile.Profile()
            async with sessions() as session:
                profiler.enable()
                await kitchen_plan(session, settings, dates[0])
                profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        plan_times, sql_times = [], []
        feasible, portions, labels = True, 0, 0
        for _ in range(repeat):
            sql_total = plan_total = 0.0
            portions = labels = 0
            for day in dates:
                async with sessions() as session:
                    started = time.perf_counter()
                    rows = (await session.execute(RAW_GROUP_BY, {"day": day})).all()
                    sql_total += time.perf_counter() - started
                    assert rows
                async with sessions() as session:
                    started = time.perf_counter()
                    plan = await kitchen_plan(session, settings, day)
                    plan_total += time.perf_counter() - started
                feasible = feasible and plan.is_feasible
                portions += plan.total_portions
                labels += len(plan.labels)
            sql_times.append(sql_total)
            plan_times.append(plan_total)
    finally:
        await engine.dispose()
    best_sql, best_plan = min(sql_times), min(plan_times)
    print(f"database        {engine.url.get_backend_name()}")
    print(
        f"days planned    {days} lunches, {bookings} bookings, {portions} dish portions, "
        f"{labels} home-delivery labels, feasible={feasible}"
    )
    print(f"raw SQL GROUP BY {best_sql * 1000:8.0f} ms  (best of {repeat})")
    print(f"whole plan       {best_plan * 1000:8.0f} ms  (best of {repeat}; query + adapt + plan)")
    print(f"ratio            {best_plan / best_sql:8.2f} x  (target <= 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seniors", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    settings = scaled(
        Settings.from_env(database_url=args.database_url, var_dir=REPO_ROOT / "var"),
        args.seniors,
    )
    migrate.upgrade(settings)
    asyncio.run(ensure_district(settings, args.seniors, args.days))
    asyncio.run(bench(settings, args.days, args.repeat, args.profile))


if __name__ == "__main__":
    main()
