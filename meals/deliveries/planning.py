"""Planning in the background: the dispatch page asks, a worker process solves, the page
shows progress until the plan is stored.

A large day takes the router its whole time limit (tens of seconds); a request that
waited for it would hold the dispatcher's browser and, solving in the web process, slow
every other request. So a re-plan is a :class:`PlanningJob` row, solved by a task of the
serving process in a separate process (the solver is CPU-bound and holds the GIL), and
stored through the same :func:`meals.production.day.replan_day` as the API and the CLI use.

A job left running by a server that stopped is reported as interrupted once it is well
past its time limit, and the dispatcher can plan again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals.accounts.service import Actor
from meals.clock import Clock
from meals.db import session_scope
from meals.deliveries import service
from meals.deliveries.models import PlanningJob, PlanningStatus
from meals.errors import Conflict, DomainError, check_planning_day
from meals.ops.metrics import PLANNING_JOBS_OPEN
from meals.production import day as one_plan
from meals.settings import Settings
from meals.words import Slot

logger = logging.getLogger(__name__)
OPEN = (PlanningStatus.QUEUED, PlanningStatus.RUNNING)
INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobView:
    """What the dispatch page shows of a job."""

    id: int
    status: str
    elapsed_s: int
    expected_s: int
    percent: int
    error: str | None


class BackgroundPlanner:
    """The serving process's planning tasks and the worker process they solve in."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._executor: Executor | None = None
        self._tasks: set[asyncio.Task] = set()

    def executor(self) -> Executor:
        """One worker process, started on first use (spawned: no copy of the event loop)."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    def start(self, job_id: int, clock: Clock, actor: Actor | None) -> None:
        task = asyncio.create_task(self._run(job_id, clock, actor))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, job_id: int, clock: Clock, actor: Actor | None) -> None:
        with PLANNING_JOBS_OPEN.track_inprogress():
            await self._solve_job(job_id, clock, actor)

    async def _solve_job(self, job_id: int, clock: Clock, actor: Actor | None) -> None:
        async with session_scope(self.sessionmaker) as session:
            job = await session.get(PlanningJob, job_id)
            if job is None:
                return
            job.status, job.started_at = PlanningStatus.RUNNING, clock.now()
            await session.commit()
            try:
                record = (
                    await one_plan.replan_day(
                        session,
                        settings=self.settings,
                        service_date=job.service_date,
                        slot=job.slot,
                        actor=actor,
                        now=clock.now(),
                        excluded_vans=job.excluded_vans,
                        executor=self.executor(),
                    )
                ).route_plan
            except DomainError as refusal:
                await session.rollback()
                job = await session.get(PlanningJob, job_id)
                job.status, job.error_code = PlanningStatus.FAILED, refusal.code
                job.error = (refusal.text if refusal.params else refusal.message)[:500]
            except Exception:
                logger.exception("planning job %s failed", job_id)
                await session.rollback()
                job = await session.get(PlanningJob, job_id)
                job.status, job.error_code = PlanningStatus.FAILED, "internal"
            else:
                job = await session.get(PlanningJob, job_id)
                job.status, job.plan_id = PlanningStatus.DONE, record.id
            job.finished_at = clock.now()


def expected_seconds(settings: Settings) -> float:
    """How long a plan should take: the router's limits, the walking lists' and start-up."""
    return settings.delivery_solver_seconds + settings.planning_overhead.total_seconds()


async def latest_job(session: AsyncSession, service_date: date, slot: Slot) -> PlanningJob | None:
    return await session.scalar(
        select(PlanningJob)
        .where(PlanningJob.service_date == service_date, PlanningJob.slot == slot)
        .order_by(PlanningJob.id.desc())
        .limit(1)
    )


def _interrupted(job: PlanningJob, now: datetime) -> bool:
    """Open far past its time: the server that ran it stopped."""
    since = job.started_at or job.requested_at
    return job.status in OPEN and now - since > timedelta(seconds=4 * job.time_limit_s + 60)


async def request_plan(
    session: AsyncSession,
    *,
    settings: Settings,
    service_date: date,
    slot: Slot,
    actor: Actor | None,
    now: datetime,
    excluded_vans: list[str],
) -> PlanningJob:
    """Queue a plan of the date and slot; refused while one is already being made."""
    check_planning_day(settings.planning_days(now), service_date)
    current = await latest_job(session, service_date, slot)
    if current is not None and current.status in OPEN and not _interrupted(current, now):
        raise Conflict(
            "A plan for this day is already being made; wait for it to finish.",
            code="planning_in_progress",
        )
    previous = await service.latest_plan(session, service_date, slot)
    if previous is not None and await service.deliveries_started(session, previous):
        raise Conflict(
            "Deliveries have started on the current plan; it can no longer be re-planned.",
            code="deliveries_started",
        )
    job = PlanningJob(
        service_date=service_date,
        slot=slot,
        excluded_vans=sorted(excluded_vans),
        requested_by_account_id=actor.account_id if actor else None,
        requested_at=now,
        time_limit_s=expected_seconds(settings),
        status=PlanningStatus.QUEUED,
    )
    session.add(job)
    await session.commit()
    return job


def job_view(job: PlanningJob | None, now: datetime) -> JobView | None:
    """The job as the page shows it, or ``None`` when there is nothing to show."""
    if job is None:
        return None
    status = job.status.value
    if _interrupted(job, now):
        status = INTERRUPTED
    end = job.finished_at if job.finished_at is not None else now
    elapsed = max(0, int((end - (job.started_at or job.requested_at)).total_seconds()))
    expected = max(1, round(job.time_limit_s))
    percent = 100 if job.status is PlanningStatus.DONE else min(99, elapsed * 100 // expected)
    return JobView(
        id=job.id,
        status=status,
        elapsed_s=elapsed,
        expected_s=expected,
        percent=percent,
        error=job.error,
    )
