"""Planning in the background: the dispatch page asks, the job queue solves, the page shows
progress until the plan is stored.

A large day takes the router its whole time limit (tens of seconds); a request that waited
for it would hold the dispatcher's browser. So a re-plan is a :class:`PlanningJob` row and a
`solve_plan` task on the job queue (`warmmeal worker` on PostgreSQL, in the web process on
SQLite), stored through the same :func:`meals.production.day.replan_day` as the API and the
CLI use. No web process holds the job: any of them shows it from the row.

The worker beats on the row while it solves; a job running whose heartbeat is older than
`planning_lease` (its worker died) is failed with a sentence, and the dispatcher plans again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals.accounts.service import Actor, load_actor
from meals.clock import Clock
from meals.db import begin_write, session_scope
from meals.deliveries import service
from meals.deliveries.models import PlanningJob, PlanningStatus
from meals.errors import Conflict, DomainError, check_planning_day
from meals.ops.metrics import PLANNING_JOBS_OPEN
from meals.pages.i18n import N_
from meals.production import day as one_plan
from meals.settings import Settings
from meals.words import Slot

logger = logging.getLogger(__name__)
OPEN = (PlanningStatus.QUEUED, PlanningStatus.RUNNING)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobView:
    """What the dispatch page shows of a job."""

    id: int
    status: str
    elapsed_s: int
    expected_s: int
    percent: int
    error: str | None


class SolverPool:
    """One spawned solver process, started on first use: the router is CPU-bound and holds
    the GIL, so the event loop solving beside it (web or worker) keeps answering."""

    def __init__(self) -> None:
        self._executor: Executor | None = None

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def real_now() -> datetime:
    """Heartbeats count in real time, even with the service's clock pinned for a demo: they
    say whether a worker is alive, not what day it is."""
    return datetime.now(UTC)


async def solve_job(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    job_id: int,
    clock: Clock,
    executor: Executor | None = None,
) -> str:
    """Solve one queued planning job (the queue's `solve_plan` task): claim it, beat while
    the plan is made, store the outcome on the row. A job already claimed or failed is left."""
    async with session_scope(sessions) as session:
        await begin_write(session)
        claimed = await session.execute(
            update(PlanningJob)
            .where(PlanningJob.id == job_id, PlanningJob.status == PlanningStatus.QUEUED)
            .values(status=PlanningStatus.RUNNING, started_at=clock.now(), heartbeat_at=real_now())
        )
        await session.commit()
    if claimed.rowcount != 1:
        return f"planning job {job_id} skipped: not queued"
    beating = asyncio.create_task(_beat(sessions, job_id, settings.planning_lease / 3))
    try:
        with PLANNING_JOBS_OPEN.track_inprogress():
            return await _solve(sessions, settings, job_id=job_id, clock=clock, executor=executor)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def _beat(sessions: async_sessionmaker[AsyncSession], job_id: int, every: timedelta) -> None:
    while True:
        await asyncio.sleep(every.total_seconds())
        async with session_scope(sessions) as session:
            await begin_write(session)
            await session.execute(
                update(PlanningJob)
                .where(PlanningJob.id == job_id, PlanningJob.status == PlanningStatus.RUNNING)
                .values(heartbeat_at=real_now())
            )


async def _solve(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    job_id: int,
    clock: Clock,
    executor: Executor | None,
) -> str:
    async with session_scope(sessions) as session:
        job = await session.get(PlanningJob, job_id)
        actor = await _requester(session, job.requested_by_account_id)
        try:
            record = (
                await one_plan.replan_day(
                    session,
                    settings=settings,
                    service_date=job.service_date,
                    slot=job.slot,
                    actor=actor,
                    now=clock.now(),
                    excluded_vans=job.excluded_vans,
                    executor=executor,
                )
            ).route_plan
        except DomainError as refusal:
            await session.rollback()
            await begin_write(session)
            job = await session.get(PlanningJob, job_id)
            job.status, job.error_code = PlanningStatus.FAILED, refusal.code
            job.error = (refusal.text if refusal.params else refusal.message)[:500]
        except Exception:
            logger.exception("planning job %s failed", job_id)
            await session.rollback()
            await begin_write(session)
            job = await session.get(PlanningJob, job_id)
            job.status, job.error_code = PlanningStatus.FAILED, "internal"
        else:
            await begin_write(session)
            job = await session.get(PlanningJob, job_id)
            job.status, job.plan_id = PlanningStatus.DONE, record.id
        job.finished_at = clock.now()
        return f"planning job {job_id}: {job.status.value}"


async def _requester(session: AsyncSession, account_id: int | None) -> Actor | None:
    """Who asked, for the audit log; a requester deactivated since is left unnamed."""
    if account_id is None:
        return None
    try:
        return await load_actor(session, account_id=account_id)
    except DomainError:
        return None


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


STOPPED = N_("The planner stopped; press re-plan again.")
NOT_TAKEN = N_("No planner took up the plan; check that warmmeal worker runs, then re-plan.")


def stale_reason(job: PlanningJob, settings: Settings) -> str | None:
    """Why an open job will never finish, or ``None``: running with a heartbeat older than the
    lease (its worker died), or queued far past its time (no worker is running)."""
    if job.status not in OPEN:
        return None
    age = real_now() - (job.heartbeat_at or datetime.min.replace(tzinfo=UTC))
    if job.status is PlanningStatus.RUNNING:
        return STOPPED if age > settings.planning_lease else None
    return NOT_TAKEN if age > timedelta(seconds=4 * job.time_limit_s + 60) else None


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
    """Queue a plan of the date and slot; refused while one is already being made. A stale
    job in the way is failed with its sentence first (the caller then defers the new one)."""
    check_planning_day(settings.planning_days(now), service_date)
    await begin_write(session)
    current = await latest_job(session, service_date, slot)
    if current is not None and current.status in OPEN:
        reason = stale_reason(current, settings)
        if reason is None:
            raise _in_progress()
        current.status, current.error_code, current.error = PlanningStatus.FAILED, "stale", reason
        current.finished_at = now
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
        heartbeat_at=real_now(),
        time_limit_s=expected_seconds(settings),
        status=PlanningStatus.QUEUED,
    )
    session.add(job)
    try:
        await session.commit()
    except IntegrityError:  # another request queued one between our check and our insert
        await session.rollback()
        raise _in_progress() from None
    return job


def _in_progress() -> Conflict:
    return Conflict(
        "A plan for this day is already being made; wait for it to finish.",
        code="planning_in_progress",
    )


def job_view(job: PlanningJob | None, now: datetime, settings: Settings) -> JobView | None:
    """The job as the page shows it, or ``None`` when there is nothing to show; a stale one
    shows as failed with its sentence (it is marked so by the next request to plan)."""
    if job is None:
        return None
    status, error = job.status.value, job.error
    reason = stale_reason(job, settings)
    if reason is not None:
        status, error = PlanningStatus.FAILED.value, reason
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
        error=error,
    )
