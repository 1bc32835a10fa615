"""The job queue: procrastinate on PostgreSQL, the same jobs in-process on SQLite.

On PostgreSQL the jobs live in procrastinate's tables: any number of `warmmeal worker`
processes on any machines share them, a periodic tick is deferred once (procrastinate's
periodic-defer table), a job is queued once at a time (`queueing_lock`), and each tick runs
once (`job_runs`). On SQLite, procrastinate's in-memory connector runs the same jobs on the same
schedule inside the worker process; `job_runs` in the database keeps a tick to one run even if
two workers were started.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate.testing import InMemoryConnector
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker
from meals.jobs.tasks import PERIODIC, JobContext, run_once
from meals.settings import Settings

QUEUE = "warmmeal"


def libpq_url(database_url: str) -> str:
    """The service's SQLAlchemy URL as psycopg (procrastinate) takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def create_queue(settings: Settings, ctx: JobContext | None = None) -> procrastinate.App:
    """The procrastinate app with every periodic job registered (`ctx` None: only to defer)."""
    if settings.is_sqlite:
        connector: procrastinate.BaseConnector = InMemoryConnector()
    else:
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(settings.database_url), min_size=1, max_size=4
        )
    app = procrastinate.App(connector=connector)
    cron = f"*/{settings.job_interval_minutes} * * * *"
    for name in PERIODIC:

        async def body(timestamp: int, _name: str = name) -> None:
            if ctx is None:
                raise RuntimeError("this queue only defers jobs")
            await run_once(ctx, _name, str(timestamp))

        task = app.task(name=name, queue=QUEUE, queueing_lock=name, pass_context=False)(body)
        app.periodic(cron=cron, periodic_id=name)(task)
    return app


def current_tick(settings: Settings, at: float | None = None) -> int:
    """The latest scheduled tick (a Unix time on the job interval), the periodic jobs' key."""
    step = settings.job_interval_minutes * 60
    now = time.time() if at is None else at
    return int(now // step * step)


async def ensure_schema(settings: Settings) -> bool:
    """Apply procrastinate's schema to PostgreSQL once (from `warmmeal db upgrade`)."""
    if settings.is_sqlite:
        return False
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            present = await connection.run_sync(
                lambda sync: inspect(sync).has_table("procrastinate_jobs")
            )
    finally:
        await engine.dispose()
    if present:
        return False
    app = create_queue(settings)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
    return True


async def defer_now(app: procrastinate.App, settings: Settings) -> None:
    """Queue every periodic job for the current tick, so a fresh worker acts at once."""
    tick = current_tick(settings)
    for name in PERIODIC:
        with contextlib.suppress(queue_errors.AlreadyEnqueued):
            await app.configure_task(name, queueing_lock=name).defer_async(timestamp=tick)


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run the queue until stopped (a signal, or `stop` when given)."""
    engine = create_engine(settings)
    ctx = JobContext(
        settings=settings, sessions=create_sessionmaker(engine), clock=Clock(settings.frozen_now)
    )
    app = create_queue(settings, ctx)
    try:
        async with app.open_async():
            await defer_now(app, settings)
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=1,
                    fetch_job_polling_interval=settings.job_poll_seconds,
                    listen_notify=not settings.is_sqlite,
                    install_signal_handlers=stop is None,
                    delete_jobs="successful" if settings.is_sqlite else None,
                )
            )
            if stop is None:
                await worker
            else:
                waiter = asyncio.create_task(stop.wait())
                await asyncio.wait({worker, waiter}, return_when=asyncio.FIRST_COMPLETED)
                worker.cancel()
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
    finally:
        await engine.dispose()
