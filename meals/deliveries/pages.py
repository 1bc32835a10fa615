"""Pages of the delivery day: dispatcher summary, driver's run, walking list, alerts, route sheet.

Errors show as pages in the user's language, as everywhere else; actions from the driver's
page go through the JSON API so they can be queued while offline.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select

from meals.deliveries import alerts, confirm, planning, service, views
from meals.deliveries.api import DISPATCH_ROLES, VAN_CODE_MAX, webhook_tasks
from meals.deliveries.models import FailureReason, RouteRun, RouteStop
from meals.errors import DomainError, Forbidden, NotFound
from meals.pages.web import flash, language_of, page_domain_error, page_http_error, render
from meals.pdf import render_pdf
from meals.production import margins, overview
from meals.settings import Settings
from meals.sites.models import Site, Van
from meals.web import (
    STAFF_AND_ADMIN,
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    OptionalQueryId,
    PathId,
    allow,
)
from meals.words import Role, SiteKind, Slot

RESOLUTION_MAX = 500
ALERT_ROLES = (Role.SITE_STAFF, Role.ADMIN, Role.FAMILY)
SHEET_ROLES = (Role.KITCHEN, Role.ADMIN, Role.DRIVER)
FormatQuery = Annotated[str, QueryParameter(name="format", pattern="^(html|pdf)$")]
PAGE_ERRORS = {DomainError: page_domain_error, HTTPException: page_http_error}


class ResolveForm(msgspec.Struct):
    resolution: Annotated[str, msgspec.Meta(max_length=RESOLUTION_MAX)] = ""


async def _dispatch_page(
    request: Request,
    db_session: DbSession,
    settings: Settings,
    *,
    service_date: date,
    slot: Slot,
    status_code: int = 200,
) -> Template:
    plan = await service.latest_plan(db_session, service_date, slot)
    job = planning.job_view(
        await planning.latest_job(db_session, service_date, slot),
        request.app.state.clock.now(),
        settings,
    )
    view = await views.plan_view(db_session, plan, settings) if plan else None
    changes = await service.plan_diff(db_session, plan, settings) if plan else []
    vans = list(await db_session.scalars(select(Van.code).where(Van.active).order_by(Van.code)))
    late = await overview.plan_warnings(db_session, settings, plan) if plan else None
    return render(
        request,
        "deliveries/dispatch.html",
        status_code=status_code,
        service_date=service_date,
        slot=slot.value,
        slots=[s.value for s in Slot],
        view=view,
        changes=changes,
        vans=vans,
        excluded=set(plan.excluded_vans) if plan else set(),
        job=job,
        refresh_seconds=settings.planning_refresh_seconds,
        late=late,
        zone=settings.district_zone,
    )


class DeliveryPages(Controller):
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    @get("/dispatch", guards=[allow(*DISPATCH_ROLES)], summary="Route plan summary")
    async def dispatch(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        now: Now,
        service_date: FromQuery[date | None] = None,
        slot: FromQuery[Slot] = Slot.LUNCH,
    ) -> Template:
        day = service_date or settings.district_today(now)
        return await _dispatch_page(request, db_session, settings, service_date=day, slot=slot)

    @post("/dispatch/plans", guards=[allow(*DISPATCH_ROLES)], summary="Plan or re-plan")
    async def replan(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect | Template:
        form = await request.form()
        try:
            day = date.fromisoformat(str(form.get("service_date", "")))
            slot = Slot(str(form.get("slot", Slot.LUNCH.value)))
        except ValueError as error:
            raise HTTPException(status_code=400, detail="bad date or slot") from error
        excluded = [str(code)[:VAN_CODE_MAX] for code in form.getall("exclude", [])]
        try:
            job = await planning.request_plan(
                db_session,
                settings=settings,
                service_date=day,
                slot=slot,
                actor=actor,
                now=now,
                excluded_vans=excluded,
            )
            await request.app.state.planner.defer_plan(job.id)
        except DomainError as refusal:
            flash(request, language_of(request).error(refusal), "warn")
        return Redirect(
            f"/dispatch?service_date={day.isoformat()}&slot={slot.value}", status_code=303
        )

    @get("/dispatch/runs/{run_id:int}/sheet", guards=[allow(*SHEET_ROLES)], summary="Route sheet")
    async def route_sheet(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        run_id: PathId,
        sheet_format: FormatQuery = "html",
    ) -> Response:
        run = await db_session.get(RouteRun, run_id)
        if run is None:
            raise NotFound("Run {run_id} does not exist.", run_id=run_id)
        if actor.role is Role.DRIVER and run.driver_account_id != actor.account_id:
            raise Forbidden("This stop is not on your run.", code="not_your_stop")
        plan = await service.get_plan(db_session, run.plan_id)
        stops = list(
            await db_session.scalars(
                select(RouteStop).where(RouteStop.run_id == run.id).order_by(RouteStop.sequence)
            )
        )
        stop_views = await views.stop_views(db_session, stops, settings)
        page = render(
            request,
            "deliveries/route_sheet.html",
            plan=plan,
            margins=await margins.trip_margins(db_session, settings, [(run, stops)]),
            run=views.run_view(run, stop_views, settings),
            route_map=await views.run_map(db_session, stop_views),
            for_print=sheet_format == "pdf",
        )
        if sheet_format == "html":
            return page
        html = request.app.template_engine.get_template(page.template_name).render(
            **page.context, request=request, csrf_input=""
        )
        pdf = await asyncio.to_thread(
            render_pdf, html, settings.pdf_cache_dir, settings.pdf_cache_files
        )
        name = (
            f"route-{plan.service_date.isoformat()}-{plan.slot.value}"
            f"-{run.van_code}-{run.trip_number}.pdf"
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    @get("/driver", guards=[allow(Role.DRIVER)], summary="The driver's run today")
    async def driver(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
    ) -> Template:
        day = settings.district_today(now)
        runs = []
        trips = await confirm.runs_for_driver(db_session, actor=actor, day=day, slots=tuple(Slot))
        for run, stops in trips:
            runs.append(
                views.run_view(run, await views.stop_views(db_session, stops, settings), settings)
            )
        return render(
            request,
            "deliveries/driver.html",
            day=day,
            runs=runs,
            margins=await margins.trip_margins(db_session, settings, trips),
            reasons=[r.value for r in FailureReason],
        )

    @get("/walking", guards=[allow(*STAFF_AND_ADMIN)], summary="A meal point's walking list")
    async def walking(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        site_id: OptionalQueryId = None,
    ) -> Template:
        day = settings.district_today(now)
        if site_id is None:
            site_id = min(actor.site_ids) if actor.site_ids else None
        if site_id is not None and not actor.is_admin and site_id not in actor.site_ids:
            raise Forbidden("You work at another site; you cannot open this one.")
        site = await db_session.get(Site, site_id) if site_id else None
        lists = []
        for slot in Slot:
            plan = await service.latest_plan(db_session, day, slot)
            if plan is None or site is None:
                continue
            homes = list(
                await db_session.scalars(
                    select(RouteStop)
                    .where(
                        RouteStop.plan_id == plan.id,
                        RouteStop.carried_by_site_id == site.id,
                        RouteStop.unserved_reason.is_(None),
                    )
                    .order_by(RouteStop.sequence)
                )
            )
            drop = await db_session.scalar(
                select(RouteStop).where(
                    RouteStop.plan_id == plan.id, RouteStop.stop_key == f"site-{site.id}"
                )
            )
            lists.append(
                (
                    slot.value,
                    (await views.stop_views(db_session, [drop], settings))[0] if drop else None,
                    await views.stop_views(db_session, homes, settings),
                )
            )
        meal_points = list(
            await db_session.scalars(
                select(Site)
                .where(Site.kind == SiteKind.MEAL_POINT, Site.last_mile_radius_m.is_not(None))
                .order_by(Site.id)
            )
        )
        return render(
            request,
            "deliveries/walking.html",
            day=day,
            site=site,
            lists=lists,
            meal_points=meal_points if actor.is_admin else [],
            reasons=[r.value for r in FailureReason],
        )

    @get("/alerts", guards=[allow(*ALERT_ROLES)], summary="Welfare alerts")
    async def alert_list(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
    ) -> Response:
        escalated = await alerts.escalate_overdue(db_session, now=now, settings=settings)
        items = await alerts.list_alerts(db_session, actor)
        page = render(request, "deliveries/alerts.html", items=items, zone=settings.district_zone)
        page.background = webhook_tasks(request, settings, escalated, alerts.ESCALATED)
        return page

    @post("/alerts/{alert_id:int}/resolve", guards=[allow(*ALERT_ROLES)], summary="Close alert")
    async def resolve(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        alert_id: PathId,
        data: URLEncodedBody[ResolveForm],
    ) -> Redirect:
        try:
            await alerts.resolve_alert(
                db_session, actor=actor, alert_id=alert_id, resolution=data.resolution, now=now
            )
            flash(request, language_of(request).gettext("Recorded. The alert is closed."))
        except DomainError as refusal:
            flash(request, language_of(request).error(refusal), "warn")
        return Redirect("/alerts", status_code=303)
