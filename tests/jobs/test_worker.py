"""The worker on the real queue: with the clock four weeks on and no seeding, a freshly started
`warmmeal serve` and `warmmeal worker` publish the coming week's menus for every serving site and
expand standing orders over them; and a periodic tick picked up by two workers runs once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from meals.accounts.models import Account
from meals.accounts.service import load_actor
from meals.bookings.models import Booking
from meals.db import create_engine, create_sessionmaker
from meals.jobs.models import JobRun
from meals.jobs.queue import current_tick, ensure_schema, run_worker
from meals.jobs.tasks import PERIODIC
from meals.menus.cycles import publish_ahead
from meals.menus.models import Menu
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site
from meals.standing_orders.service import StandingOrderTerms, save_standing_order
from meals.words import Fulfilment, Role, SiteKind, Slot
from tests.conftest import BACKENDS, NOW, TEST_SECRET, fresh_database
from tests.server import running_server

LATER = NOW + timedelta(weeks=4)
PUBLISH_WITHIN_SECONDS = 60


async def _standing_order(url: str, var_dir) -> int:
    """A weekday lunch order for one senior, made four weeks before (nothing booked ahead)."""
    settings = Settings(database_url=url, secret_key=TEST_SECRET, var_dir=var_dir)
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as s:
            staff = await s.scalar(
                select(Account).where(Account.role == Role.SITE_STAFF).order_by(Account.id)
            )
            actor = await load_actor(s, account_id=staff.id)
            senior = await s.scalar(
                select(Senior).where(Senior.home_site_id.in_(actor.site_ids)).order_by(Senior.id)
            )
            terms = StandingOrderTerms(
                slot=Slot.LUNCH,
                item_code="A",
                fulfilment=Fulfilment.DINE_IN,
                weekdays=frozenset(range(5)),
            )
            await save_standing_order(
                s, actor=actor, senior_id=senior.id, terms=terms, now=NOW, settings=settings
            )
            return senior.id
    finally:
        await engine.dispose()


async def _published(url: str, senior_id: int) -> tuple[int, int, int]:
    """(serving sites, those with next week's seven lunch menus, the senior's bookings then)."""
    first = LATER.date() + timedelta(days=7 - LATER.date().weekday())
    last = first + timedelta(days=6)
    engine = create_engine(Settings(database_url=url, secret_key=TEST_SECRET))
    try:
        async with create_sessionmaker(engine)() as s:
            sites = int(
                await s.scalar(
                    select(func.count()).select_from(Site).where(Site.kind != SiteKind.KITCHEN)
                )
            )
            covered = await s.scalar(
                select(func.count()).select_from(
                    select(Menu.site_id)
                    .where(
                        Menu.slot == Slot.LUNCH,
                        Menu.service_date >= first,
                        Menu.service_date <= last,
                    )
                    .group_by(Menu.site_id)
                    .having(func.count() == 7)
                    .subquery()
                )
            )
            booked = await s.scalar(
                select(func.count())
                .select_from(Booking)
                .where(
                    Booking.senior_id == senior_id,
                    Booking.service_date >= first,
                    Booking.service_date <= last,
                )
            )
            return sites, int(covered or 0), int(booked or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_serve_and_worker_publish_next_week_four_weeks_on(request, tmp_path, backend):
    with fresh_database(request, backend, tmp_path) as url:
        senior_id = asyncio.run(_standing_order(url, tmp_path))
        assert asyncio.run(_published(url, senior_id))[1:] == (0, 0)
        env = {
            **os.environ,
            "WARMMEAL_DATABASE_URL": url,
            "WARMMEAL_VAR_DIR": str(tmp_path),
            "WARMMEAL_SECRET_KEY": TEST_SECRET,
            "WARMMEAL_FROZEN_NOW": LATER.isoformat(),
            "WARMMEAL_JOB_POLL_SECONDS": "0.5",
        }
        cli = [sys.executable, "-m", "meals.cli"]
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        log = (tmp_path / "worker.log").open("w")
        with running_server(url, tmp_path, now=LATER, secret=TEST_SECRET):
            started = time.monotonic()
            worker = subprocess.Popen([*cli, "worker"], env=env, stdout=log, stderr=log)
            try:
                while True:
                    sites, covered, booked = asyncio.run(_published(url, senior_id))
                    if covered == sites and booked == 5:
                        break
                    assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                    assert time.monotonic() - started < PUBLISH_WITHIN_SECONDS, (
                        f"{covered}/{sites} sites published, {booked} booked:\n"
                        + (tmp_path / "worker.log").read_text()[-3000:]
                    )
                    time.sleep(1)
            finally:
                worker.terminate()
                worker.wait(timeout=15)
                log.close()
        assert sites > 20


async def _two_workers(url: str, var_dir) -> list[tuple[str, str]]:
    settings = Settings(
        database_url=url,
        secret_key=TEST_SECRET,
        var_dir=var_dir,
        job_poll_seconds=0.2,
        frozen_now=NOW,
    )
    await ensure_schema(settings)
    stop = asyncio.Event()
    workers = [asyncio.create_task(run_worker(settings, stop=stop)) for _ in range(2)]
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with sessions() as s:
                done = await s.scalar(
                    select(func.count()).select_from(JobRun).where(JobRun.finished_at.is_not(None))
                )
            if done >= len(PERIODIC):
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(2)  # let the second worker pick up whatever it would run twice
        stop.set()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        async with sessions() as s:
            return [tuple(row) for row in await s.execute(select(JobRun.task, JobRun.run_key))]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_tick_deferred_by_two_workers_runs_once(request, tmp_path, backend):
    with fresh_database(request, backend, tmp_path) as url:
        tick = str(current_tick(Settings(database_url=url, secret_key=TEST_SECRET)))
        runs = asyncio.run(_two_workers(url, tmp_path))
    # Each worker deferred every periodic job for this tick; each ran exactly once.
    assert sorted(runs) == sorted((task, tick) for task in PERIODIC)


async def _publish_twice_at_once(settings: Settings) -> tuple[list[int], int]:
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    later = LATER

    async def publish() -> int:
        async with sessions() as s:
            return await publish_ahead(s, now=later, settings=settings)

    try:
        made = await asyncio.gather(publish(), publish())
        async with sessions() as s:
            duplicates = await s.scalar(
                select(func.count()).select_from(
                    select(Menu.site_id)
                    .group_by(Menu.site_id, Menu.service_date, Menu.slot)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        return list(made), int(duplicates or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_workers_publishing_at_once_publish_each_menu_once(request, tmp_path, backend):
    """PostgreSQL only: SQLite has one writer, so two publishers there simply take turns."""
    with fresh_database(request, backend, tmp_path) as url:
        settings = Settings(database_url=url, secret_key=TEST_SECRET, var_dir=tmp_path)
        made, duplicates = asyncio.run(_publish_twice_at_once(settings))
        again = asyncio.run(_publish_twice_at_once(settings))[0]
    assert sum(made) > 0 and duplicates == 0
    # Every menu of the window was made by one of the two; running again makes none.
    assert again == [0, 0]
