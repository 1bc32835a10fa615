"""The scheduled jobs themselves: plain async functions over the database, run by the queue.

Each reads what is due from the database and does it, so it is idempotent and a restart loses
nothing: the queue only says when to look. `run_once` claims a (task, tick) row first, so a tick
picked up by two workers runs once on PostgreSQL and on SQLite alike. Jobs act as the system,
not as a person: they record their runs in `job_runs`, not in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals.accounts.service import Actor
from meals.clock import Clock
from meals.db import begin_write
from meals.deliveries import alerts, planning
from meals.deliveries.models import AlertStatus, WebhookAttempt, WelfareAlert
from meals.errors import DomainError
from meals.jobs.models import JobRun
from meals.menus.cycles import publish_ahead
from meals.production import after_freeze, sheets
from meals.production import day as one_plan
from meals.settings import Settings
from meals.settlement.months import closed_month, next_month
from meals.settlement.service import close_month
from meals.standing_orders.service import expand_standing_orders
from meals.words import Role

logger = logging.getLogger(__name__)
SYSTEM = Actor(account_id=0, role=Role.ADMIN, display_name="system (scheduled job)")
SUMMARY_MAX = 300


@dataclass(frozen=True)
class JobContext:
    """What every job needs: settings, a session factory and the service's clock (and, for
    solving routes, the solver process to run in; without one, a thread)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    executor: Executor | None = None

    def now(self) -> datetime:
        return self.clock.now()


async def publish_menus(ctx: JobContext) -> str:
    """Publish menus from the cycles up to the configured number of weeks ahead."""
    async with ctx.sessions() as session:
        created = await publish_ahead(session, now=ctx.now(), settings=ctx.settings)
    return f"{created} menus published"


async def expand_orders(ctx: JobContext) -> str:
    """Book what standing orders ask for on every menu published since the last run."""
    async with ctx.sessions() as session:
        report = await expand_standing_orders(session, now=ctx.now(), settings=ctx.settings)
    return f"{len(report.created)} bookings made, {len(report.refused)} refused"


async def escalate_alerts(ctx: JobContext) -> str:
    """Escalate welfare alerts nobody answered in time, and tell the receiver."""
    async with ctx.sessions() as session:
        escalated = await alerts.escalate_overdue(session, now=ctx.now(), settings=ctx.settings)
    for alert_id in escalated:
        await alerts.send_webhook(
            ctx.sessions, ctx.settings, alert_id=alert_id, event=alerts.ESCALATED, now=ctx.now
        )
    return f"{len(escalated)} alerts escalated"


async def retry_webhooks(ctx: JobContext) -> str:
    """Send again each open alert's webhook that failed every try (the receiver was down),
    a few rounds at most; the receiver de-duplicates by the Idempotency-Key."""
    settings = ctx.settings
    if not settings.welfare_webhook_url:
        return "no webhook receiver configured"
    now = ctx.now()
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(
                    WebhookAttempt.alert_id,
                    WebhookAttempt.event,
                    func.count(),
                    func.max(WebhookAttempt.attempted_at),
                    func.max(case((WebhookAttempt.succeeded, 1), else_=0)),
                )
                .join(WelfareAlert, WelfareAlert.id == WebhookAttempt.alert_id)
                .where(WelfareAlert.status == AlertStatus.OPEN)
                .group_by(WebhookAttempt.alert_id, WebhookAttempt.event)
            )
        ).all()
    due = [
        (alert_id, event)
        for alert_id, event, tries, last, succeeded in rows
        if not succeeded
        and tries < settings.welfare_webhook_attempts * (1 + settings.welfare_webhook_retry_rounds)
        and last <= now - settings.welfare_webhook_retry_after
    ]
    sent = 0
    for alert_id, event in due:
        sent += await alerts.send_webhook(
            ctx.sessions, settings, alert_id=alert_id, event=event, now=ctx.now
        )
    return f"{len(due)} webhooks retried, {sent} delivered"


async def close_ended_month(ctx: JobContext) -> str:
    """Close last month once the configured number of days has passed, if nobody has."""
    now = ctx.now()
    today = ctx.settings.district_today(now)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    if (today - next_month(last_month)).days < ctx.settings.settlement_close_after_days:
        return "not yet due"
    async with ctx.sessions() as session:
        if await closed_month(session, last_month) is not None:
            return "already closed"
        try:
            report = await close_month(
                session, actor=SYSTEM, month_start=last_month, now=now, settings=ctx.settings
            )
        except DomainError as refusal:  # closed by the operator at the same moment
            return refusal.text[:SUMMARY_MAX]
    return f"closed {report.label}"


FREEZE_TASK = "freeze_day"


async def plan_after_cutoff(ctx: JobContext) -> str:
    """Once the last cutoff of a date and slot has passed, freeze its bookings and make the plan
    of the day (routes, cooking waves, packing) as the kitchen's freeze button does, then ready
    the printable sheets of every current run. Each date and slot is frozen once (a claim in
    `job_runs`); one the kitchen froze already is left alone; a refused plan is not retried
    (the kitchen's page shows why when they freeze by hand)."""
    now = ctx.now()
    async with ctx.sessions() as session:
        due = await after_freeze.slots_due(session, now=now, settings=ctx.settings)
    planned = 0
    for slot in due:
        key = f"{slot.service_date.isoformat()}:{slot.slot.value}"
        summary = await claimed(ctx, FREEZE_TASK, key, partial(_freeze, ctx, slot))
        planned += summary is not None and summary.startswith("run ")
    engine = sheets.template_engine(ctx.settings)
    async with ctx.sessions() as session:
        runs = await after_freeze.runs_to_print(session, now=now, settings=ctx.settings)
        printed = [await after_freeze.print_contexts(session, run, ctx.settings) for run in runs]
    rendered = 0
    for contexts in printed:
        rendered += await after_freeze.ready_sheets(engine, contexts, ctx.settings)
    return f"{planned} of {len(due)} due slots planned, {rendered} sheets rendered"


async def _freeze(ctx: JobContext, due: after_freeze.DueSlot) -> str:
    async with ctx.sessions() as session:
        try:
            plan = await one_plan.freeze_day(
                session,
                settings=ctx.settings,
                service_date=due.service_date,
                slot=due.slot,
                actor=None,
                now=ctx.now(),
            )
        except DomainError as refusal:
            await session.rollback()
            return f"refused: {refusal.text}"[:SUMMARY_MAX]
        return f"run {plan.run.id}, route plan {plan.route_plan.id}"


async def solve_plan(ctx: JobContext, planning_job_id: int) -> str:
    """The dispatcher's re-plan, queued by the dispatch page: solve its planning job."""
    return await planning.solve_job(
        ctx.sessions,
        ctx.settings,
        job_id=planning_job_id,
        clock=ctx.clock,
        executor=ctx.executor,
    )


PERIODIC: dict[str, Callable[[JobContext], Awaitable[str]]] = {
    "publish_menus": publish_menus,
    "expand_standing_orders": expand_orders,
    "plan_after_cutoff": plan_after_cutoff,
    "escalate_alerts": escalate_alerts,
    "retry_webhooks": retry_webhooks,
    "close_ended_month": close_ended_month,
}


async def run_once(ctx: JobContext, task: str, run_key: str) -> str | None:
    """Run `task` for tick `run_key` unless a worker already has; None when skipped.

    A failed run gives its claim back, so the next pick-up tries again.
    """
    return await claimed(ctx, task, run_key, partial(PERIODIC[task], ctx))


async def claimed(
    ctx: JobContext, task: str, run_key: str, job: Callable[[], Awaitable[str]]
) -> str | None:
    """Run `job` once for (`task`, `run_key`) across workers; None when already claimed."""
    async with ctx.sessions() as session:
        await begin_write(session)
        claim = JobRun(task=task, run_key=run_key, started_at=ctx.now(), summary="")
        session.add(claim)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return None
        claim_id = claim.id
    try:
        summary = await job()
    except BaseException:
        async with ctx.sessions() as session:
            await begin_write(session)
            await session.execute(
                JobRun.__table__.delete().where(JobRun.__table__.c.id == claim_id)
            )
            await session.commit()
        raise
    async with ctx.sessions() as session:
        await begin_write(session)
        await session.execute(
            update(JobRun)
            .where(JobRun.id == claim_id)
            .values(finished_at=ctx.now(), summary=summary[:SUMMARY_MAX])
        )
        await session.commit()
    logger.info("job %s (%s): %s", task, run_key, summary)
    return summary
