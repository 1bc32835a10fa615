"""JSON API of the delivery day: make a route plan, read it, and record drivers' actions.

Each handler is one service call and a view. A welfare alert's webhook is sent after the
response, so a driver on a slow connection is never kept waiting for the receiver.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.db import create_sessionmaker
from meals.deliveries import alerts, confirm, service, views
from meals.deliveries.models import DriverAction, FailureReason
from meals.production import day as one_plan
from meals.settings import Settings
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, RecordId, allow
from meals.words import Role, Slot

DISPATCH_ROLES = (Role.KITCHEN, Role.ADMIN)
ACTING_ROLES = (Role.DRIVER, Role.SITE_STAFF, Role.ADMIN)
VAN_CODE_MAX = 32
VANS_MAX = 100
KEY_MAX = 64
NOTE_MAX = 255


class PlanRequest(msgspec.Struct, forbid_unknown_fields=True):
    service_date: date
    slot: Slot = Slot.LUNCH
    exclude_vans: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=VAN_CODE_MAX)]],
        msgspec.Meta(max_length=VANS_MAX),
    ] = []


class ActionBody(msgspec.Struct, forbid_unknown_fields=True):
    stop_id: RecordId
    action: DriverAction
    idempotency_key: Annotated[str, msgspec.Meta(min_length=8, max_length=KEY_MAX)]
    acted_at: Annotated[datetime, msgspec.Meta(tz=True)]
    failure_reason: FailureReason | None = None
    note: Annotated[str, msgspec.Meta(max_length=NOTE_MAX)] | None = None


class ActionResult(msgspec.Struct):
    stop_id: int
    status: str
    replayed: bool
    alert_id: int | None


class StopOut(msgspec.Struct):
    id: int
    sequence: int | None
    kind: str
    eta: str
    boxes: int
    load_before: int | None
    in_van_minutes: int | None
    unserved_reason: str | None
    booking_ids: list[int]
    unserved_remedy: str | None = None
    """What would serve it: one_more_van, later_wave, earlier_wave, wider_window,
    meal_point_drop, hot_holding_van, larger_van or longer_shift."""
    unserved_remedy_at: str = ""
    """The time the remedy names (HH:MM, the kitchen's clock), or empty."""


class RunOut(msgspec.Struct):
    id: int
    van_code: str
    trip_number: int
    departs: str
    km: float
    load_boxes: int
    capacity_boxes: int
    stops: list[StopOut]


class ChangeOut(msgspec.Struct):
    stop_key: str
    before: str
    after: str


class PlanOut(msgspec.Struct):
    id: int
    service_date: date
    slot: Slot
    source: str
    travel_provider: str
    vans_used: int
    km: float
    longest_in_van_minutes: int
    food_safety_limit_minutes: int
    runs: list[RunOut]
    unserved: list[StopOut]
    walking: dict[str, list[StopOut]]
    changes: list[ChangeOut]


def _stop_out(stop: views.StopView) -> StopOut:
    return StopOut(
        stop.id,
        stop.sequence,
        stop.kind,
        stop.eta,
        stop.boxes,
        stop.load_before,
        stop.in_van_minutes,
        stop.unserved_reason,
        list(stop.booking_ids),
        stop.unserved_remedy,
        stop.unserved_remedy_at,
    )


async def plan_out(db_session: DbSession, plan_id: int, settings: Settings) -> PlanOut:
    plan = await service.get_plan(db_session, plan_id)
    view = await views.plan_view(db_session, plan, settings)
    changes = await service.plan_diff(db_session, plan, settings)
    return PlanOut(
        id=plan.id,
        service_date=plan.service_date,
        slot=plan.slot,
        source=plan.source.value,
        travel_provider=plan.travel_provider,
        vans_used=plan.vans_used,
        km=view.km,
        longest_in_van_minutes=view.longest_minutes,
        food_safety_limit_minutes=view.limit_minutes,
        runs=[
            RunOut(
                run.id,
                run.van_code,
                run.trip_number,
                run.departs,
                run.km,
                run.load_boxes,
                run.capacity_boxes,
                [_stop_out(s) for s in run.stops],
            )
            for run in view.runs
        ],
        unserved=[_stop_out(s) for s in view.unserved],
        walking={site: [_stop_out(s) for s in homes] for site, homes in view.walking.items()},
        changes=[ChangeOut(c.stop_key, c.before, c.after) for c in changes],
    )


def webhook_tasks(request: Request, settings: Settings, alert_ids: list[int], event: str):
    """Background webhook sends for ``alert_ids`` (none when no receiver is configured)."""
    if not alert_ids or not settings.welfare_webhook_url:
        return None
    sessions = create_sessionmaker(request.app.state.engine)
    return BackgroundTasks(
        [
            BackgroundTask(
                alerts.send_webhook,
                sessions,
                settings,
                alert_id=alert_id,
                event=event,
                now=request.app.state.clock.now,
            )
            for alert_id in alert_ids
        ]
    )


class DeliveryApi(Controller):
    path = "/api/v1/deliveries"
    tags = ["deliveries"]  # noqa: RUF012

    @post(
        "/plans",
        status_code=HTTP_201_CREATED,
        guards=[allow(*DISPATCH_ROLES)],
        summary="Plan (or re-plan) the routes of a date and slot",
    )
    async def plan(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        data: JSONBody[PlanRequest],
    ) -> PlanOut:
        """Answers with the stored plan; the solve runs in the planner's worker process, so
        the web process keeps serving while it waits."""
        record = (
            await one_plan.replan_day(
                db_session,
                settings=settings,
                service_date=data.service_date,
                slot=data.slot,
                actor=actor,
                now=now,
                excluded_vans=data.exclude_vans,
                executor=request.app.state.planner.executor(),
            )
        ).route_plan
        return await plan_out(db_session, record.id, settings)

    @get(
        "/plans/{plan_id:int}",
        guards=[allow(*DISPATCH_ROLES)],
        summary="A route plan with its runs, unserved stops and changes from the previous",
    )
    async def show(self, db_session: DbSession, settings: AppSettings, plan_id: PathId) -> PlanOut:
        return await plan_out(db_session, plan_id, settings)

    @post(
        "/actions",
        status_code=HTTP_200_OK,
        guards=[allow(*ACTING_ROLES)],
        summary="Record arrived / delivered / failed at a stop (idempotent by key)",
    )
    async def act(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        data: JSONBody[ActionBody],
    ) -> Response[ActionResult]:
        outcome = await confirm.record_action(
            db_session,
            actor=actor,
            request=confirm.ActionRequest(
                stop_id=data.stop_id,
                action=data.action,
                idempotency_key=data.idempotency_key,
                acted_at=data.acted_at,
                failure_reason=data.failure_reason,
                note=data.note,
            ),
            now=now,
            settings=settings,
        )
        fresh_alert = [outcome.alert_id] if outcome.alert_id and not outcome.replayed else []
        return Response(
            ActionResult(
                outcome.stop.id, outcome.stop.status.value, outcome.replayed, outcome.alert_id
            ),
            background=webhook_tasks(request, settings, fresh_alert, alerts.RAISED),
        )
