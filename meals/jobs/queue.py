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
import logging
import signal
import time
from concurrent.futures import Executor

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate.testing import InMemoryConnector
from procrastinate.worker import Worker
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker
from meals.deliveries.planning import SolverPool
from meals.jobs.tasks import PERIODIC, JobContext, run_once, solve_plan
from meals.settings import Settings

logger = logging.getLogger(__name__)
QUEUE = "warmmeal"
PLANNING_QUEUE = "planning"
"""The dispatcher's re-plans: a worker of their own, so a solve never waits behind a tick."""
SOLVE_PLAN = "solve_plan"
STOP_GRACE_SECONDS = 10.0
"""A stopping worker lets its job finish this long, then cancels it (a plan left running is
failed by its lease; a tick's claim is given back)."""


def libpq_url(database_url: str) -> str:
    """The service's SQLAlchemy URL as psycopg (procrastinate) takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def create_queue(
    settings: Settings, ctx: JobContext | None = None, *, periodic: bool = True
) -> procrastinate.App:
    """The procrastinate app with `solve_plan` and (unless `periodic` is off: the web
    process's own queue on SQLite) every periodic job registered (`ctx` None: only to defer)."""
    if settings.is_sqlite:
        connector: procrastinate.BaseConnector = InMemoryConnector()
    else:
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(settings.database_url), min_size=1, max_size=6
        )
    app = procrastinate.App(connector=connector)

    async def solve(planning_job_id: int) -> None:
        if ctx is None:
            raise RuntimeError("this queue only defers jobs")
        logger.info("job %s: %s", SOLVE_PLAN, await solve_plan(ctx, planning_job_id))

    app.task(name=SOLVE_PLAN, queue=PLANNING_QUEUE, pass_context=False)(solve)
    cron = f"*/{settings.job_interval_minutes} * * * *"
    for name in PERIODIC if periodic else ():

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


def _worker_options(settings: Settings) -> dict[str, object]:
    return {
        "concurrency": 1,
        "fetch_job_polling_interval": settings.job_poll_seconds,
        "listen_notify": True,  # PostgreSQL's NOTIFY; the in-memory queue's own call on SQLite
        "install_signal_handlers": False,
        "delete_jobs": "successful" if settings.is_sqlite else None,
        "shutdown_graceful_timeout": STOP_GRACE_SECONDS,
    }


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run the queue until stopped (a signal, or `stop` when given): the periodic jobs on one
    worker, the dispatcher's re-plans on another, so neither waits behind the other."""
    engine = create_engine(settings)
    solvers = SolverPool()
    ctx = JobContext(
        settings=settings,
        sessions=create_sessionmaker(engine),
        clock=Clock(settings.frozen_now),
        executor=solvers.executor(),
    )
    app = create_queue(settings, ctx)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with app.open_async():
            await defer_now(app, settings)
            options = _worker_options(settings)
            workers = [
                Worker(app=app, queues=[queue], **options) for queue in (QUEUE, PLANNING_QUEUE)
            ]
            running = {asyncio.create_task(worker.run()) for worker in workers}
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({*running, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            for worker in workers:  # each finishes its job (at most the grace), then returns
                worker.stop()
            await asyncio.gather(*running, return_exceptions=True)
    finally:
        solvers.close()
        await engine.dispose()


class WebQueue:
    """The web process's side of the queue: the dispatch page defers a re-plan's `solve_plan`.

    On PostgreSQL `warmmeal worker` takes it up, so a web process can die or be one of many.
    On SQLite no queue is shared between processes, so an in-memory queue and its worker in
    this process run the same task (in a spawned solver process, like the API's own plans).
    Opened on the first re-plan, so a web process that never plans holds nothing open.
    """

    def __init__(
        self, settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        self.settings, self.sessions, self.clock = settings, sessions, clock
        self.solvers = SolverPool()
        self._app: procrastinate.App | None = None
        self._worker: asyncio.Task | None = None
        self._opening = asyncio.Lock()

    def executor(self) -> Executor:
        """The solver process the API's and the kitchen's waited-for plans run in."""
        return self.solvers.executor()

    async def defer_plan(self, planning_job_id: int) -> None:
        app = await self._opened()
        await app.configure_task(SOLVE_PLAN).defer_async(planning_job_id=planning_job_id)

    async def _opened(self) -> procrastinate.App:
        async with self._opening:
            if self._app is not None:
                return self._app
            if not self.settings.is_sqlite:
                app = create_queue(self.settings)
                await app.open_async()
            else:
                ctx = JobContext(
                    settings=self.settings,
                    sessions=self.sessions,
                    clock=self.clock,
                    executor=self.executor(),
                )
                app = create_queue(self.settings, ctx, periodic=False)
                await app.open_async()
                self._worker = asyncio.create_task(
                    app.run_worker_async(queues=[PLANNING_QUEUE], **_worker_options(self.settings))
                )
            self._app = app
            return app

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._app is not None:
            await self._app.close_async()
        self.solvers.close()


async def run_planning_jobs(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    """Solve every re-plan queued on PostgreSQL now, then return (tests drive the queue so)."""
    ctx = JobContext(settings=settings, sessions=sessions, clock=clock)
    app = create_queue(settings, ctx, periodic=False)
    async with app.open_async():
        await app.run_worker_async(
            queues=[PLANNING_QUEUE], **{**_worker_options(settings), "wait": False}
        )
