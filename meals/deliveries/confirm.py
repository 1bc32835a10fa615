"""What drivers (and meal-point staff on foot) record at a stop: arrived, delivered, failed.

Each action carries a key made by the page, so an action queued offline and sent twice is
kept once and answered the same way. Delivered marks the stop's bookings delivered (when their
month is already closed for settlement, each change is kept as a correction counted in the next
open month); a failed delivery to a senior at risk raises a welfare alert in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings.corrections import record_late_outcomes
from meals.bookings.models import Booking
from meals.clock import within
from meals.db import begin_write
from meals.deliveries.models import (
    DeliveryActionRecord,
    DriverAction,
    FailureReason,
    RoutePlanRecord,
    RouteRun,
    RouteStop,
    StopKind,
    StopStatus,
    WelfareAlert,
)
from meals.deliveries.service import latest_plan
from meals.errors import Conflict, Forbidden, Invalid, NotFound
from meals.notifications.service import NoticeKind, notify_family
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.subsidies.service import age_on, effective_categories
from meals.words import BookingStatus, Role

ALLOWED_FROM = {
    DriverAction.ARRIVED: {StopStatus.PLANNED, StopStatus.ARRIVED},
    DriverAction.DELIVERED: {StopStatus.PLANNED, StopStatus.ARRIVED},
    DriverAction.FAILED: {StopStatus.PLANNED, StopStatus.ARRIVED},
}
RESULTING_STATUS = {
    DriverAction.ARRIVED: StopStatus.ARRIVED,
    DriverAction.DELIVERED: StopStatus.DELIVERED,
    DriverAction.FAILED: StopStatus.FAILED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest:
    stop_id: int
    action: DriverAction
    idempotency_key: str
    acted_at: datetime
    failure_reason: FailureReason | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionOutcome:
    stop: RouteStop
    replayed: bool
    alert_id: int | None


async def _may_act(session: AsyncSession, actor: Actor, stop: RouteStop) -> None:
    """Drivers act on their own van's stops; staff on their meal point's walking list."""
    if actor.is_admin:
        return
    if stop.run_id is not None:
        run = await session.get(RouteRun, stop.run_id)
        drives_it = run is not None and run.driver_account_id == actor.account_id
        if actor.role is Role.DRIVER and drives_it:
            return
    elif actor.role is Role.SITE_STAFF and stop.carried_by_site_id in actor.site_ids:
        return
    raise Forbidden("This stop is not on your run.", code="not_your_stop")


async def _replay(session: AsyncSession, actor: Actor, key: str) -> ActionOutcome | None:
    done = await session.scalar(
        select(DeliveryActionRecord).where(
            DeliveryActionRecord.account_id == actor.account_id,
            DeliveryActionRecord.idempotency_key == key,
        )
    )
    if done is None:
        return None
    stop = await session.get(RouteStop, done.stop_id)
    if stop is None:
        raise NotFound("This stop no longer exists.")
    alert_id = await session.scalar(select(WelfareAlert.id).where(WelfareAlert.stop_id == stop.id))
    return ActionOutcome(stop=stop, replayed=True, alert_id=alert_id)


def _at_risk(senior: Senior, settings: Settings, day: date) -> bool:
    """In a category that raises an alert (a setting; 高龄 follows from the birth date)."""
    categories = effective_categories(
        senior.categories or (), age_on(senior.birth_date, day), settings.advanced_age_years
    )
    return bool(categories & set(settings.welfare_alert_categories))


def _plausible(acted_at: datetime, now: datetime, settings: Settings) -> bool:
    """Within `action_time_window` of now; with the service's clock pinned for a demo, of the
    phone's own (real) time too."""
    window = settings.action_time_window
    if within(acted_at, now, window):
        return True
    return settings.frozen_now is not None and within(acted_at, datetime.now(UTC), window)


LATE_DELIVERY_REASON = "Delivery confirmed after its month was closed for settlement"


async def _mark_delivered(
    session: AsyncSession,
    actor: Actor,
    stop: RouteStop,
    plan: RoutePlanRecord,
    acted_at: datetime,
    now: datetime,
) -> None:
    changed = await session.scalars(
        update(Booking)
        .where(Booking.id.in_(stop.booking_ids), Booking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.DELIVERED, served_at=acted_at, updated_at=now)
        .returning(Booking.id)
        .execution_options(synchronize_session=False)
    )
    await record_late_outcomes(
        session,
        actor=actor,
        booking_ids=list(changed),
        service_date=plan.service_date,
        from_status=BookingStatus.BOOKED,
        to_status=BookingStatus.DELIVERED,
        reason=LATE_DELIVERY_REASON,
        now=now,
    )


async def record_action(
    session: AsyncSession,
    *,
    actor: Actor,
    request: ActionRequest,
    now: datetime,
    settings: Settings,
) -> ActionOutcome:
    """Apply one action once; a second send of the same key returns the first outcome."""
    if request.action is DriverAction.FAILED and request.failure_reason is None:
        raise Invalid("Say why the delivery failed.", code="reason_required")
    reason = request.failure_reason if request.action is DriverAction.FAILED else None
    if not _plausible(request.acted_at, now, settings):
        raise Invalid(
            "The time of this action is too far from now; check the phone's date and time.",
            code="acted_at_out_of_range",
        )
    await begin_write(session)
    replay = await _replay(session, actor, request.idempotency_key)
    if replay is not None:
        return replay
    stop = await session.get(RouteStop, request.stop_id)
    if stop is None:
        raise NotFound("Stop {stop_id} does not exist.", stop_id=request.stop_id)
    await _may_act(session, actor, stop)
    plan = await session.get(RoutePlanRecord, stop.plan_id)
    current = await latest_plan(session, plan.service_date, plan.slot) if plan else None
    if current is None or current.id != stop.plan_id:
        raise Conflict(
            "This run was re-planned. Reload the page to see the new run.", code="replanned"
        )
    if stop.unserved_reason is not None:
        raise Conflict("This stop is not on any run.", code="unserved_stop")
    if stop.status not in ALLOWED_FROM[request.action]:
        raise Conflict(
            "This stop is already {status}.", code="stop_finished", status=stop.status.value
        )
    acted_at = min(request.acted_at, now)
    stop.status = RESULTING_STATUS[request.action]
    if request.action is DriverAction.ARRIVED:
        stop.arrived_at = acted_at
    else:
        stop.completed_at = acted_at
    alert: WelfareAlert | None = None
    if request.action is DriverAction.DELIVERED and stop.kind is not StopKind.SITE_DROP:
        await _mark_delivered(session, actor, stop, plan, acted_at, now)
    if request.action is DriverAction.FAILED:
        stop.failure_reason = request.failure_reason
        stop.failure_note = request.note
        senior = await session.get(Senior, stop.senior_id) if stop.senior_id else None
        told = {
            "day": plan.service_date.isoformat(),
            "slot": plan.slot.value,
            "reason": request.failure_reason.value,
        }
        if senior is not None:
            await notify_family(
                session, senior.id, NoticeKind.FAILED_DELIVERY, now=now, params=told
            )
        if senior is not None and _at_risk(senior, settings, plan.service_date):
            alert = WelfareAlert(
                stop_id=stop.id,
                senior_id=senior.id,
                site_id=senior.home_site_id,
                failure_reason=request.failure_reason,
                raised_at=now,
            )
            session.add(alert)
            await notify_family(session, senior.id, NoticeKind.WELFARE_ALERT, now=now, params=told)
    session.add(
        DeliveryActionRecord(
            stop_id=stop.id,
            account_id=actor.account_id,
            idempotency_key=request.idempotency_key,
            action=request.action,
            failure_reason=reason,
            note=request.note,
            acted_at=acted_at,
            received_at=now,
        )
    )
    try:
        await session.flush()
        alert_id = alert.id if alert else None
        await session.commit()
    except IntegrityError:
        await session.rollback()
        replay = await _replay(session, actor, request.idempotency_key)
        if replay is None:
            raise
        return replay
    return ActionOutcome(stop=stop, replayed=False, alert_id=alert_id)


async def runs_for_driver(
    session: AsyncSession, *, actor: Actor, day: date, slots: tuple
) -> list[tuple[RouteRun, list[RouteStop]]]:
    """The driver's runs today on the current plan of each slot, stops in order."""
    result = []
    for slot in slots:
        plan = await latest_plan(session, day, slot)
        if plan is None:
            continue
        runs = await session.scalars(
            select(RouteRun)
            .where(RouteRun.plan_id == plan.id, RouteRun.driver_account_id == actor.account_id)
            .order_by(RouteRun.trip_number)
        )
        for run in runs:
            stops = await session.scalars(
                select(RouteStop).where(RouteStop.run_id == run.id).order_by(RouteStop.sequence)
            )
            result.append((run, list(stops)))
    return result


def in_van_minutes(stop: RouteStop, packing_lead: timedelta) -> int | None:
    if stop.since_departure_s is None:
        return None
    return int((stop.since_departure_s + packing_lead.total_seconds()) // 60)
