"""Kitchen pages: the day's production (freeze, sheets, what changed, what would be late),
the sheets as HTML, PDF and CSV, and the 留样 page kitchen staff fill in on a phone.

Kitchen staff and operators only. Each handler is one service call and a page, a download
or a redirect; a refused plan is shown with its reasons, never produced.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import Sheet
from meals.errors import DomainError
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.production import after_freeze, overview, samples, service, sheets
from meals.production import day as one_plan
from meals.production.models import ProductionRun
from meals.settings import Settings
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, allow
from meals.words import Role, Slot

KITCHEN_ROLES = (Role.KITCHEN, Role.ADMIN)
VAN_CODE_MAX = 40
FormatQuery = Annotated[sheets.SheetFormat, QueryParameter(name="format")]
VanQuery = Annotated[str | None, QueryParameter(max_length=VAN_CODE_MAX)]


class FreezeForm(msgspec.Struct):
    """The kitchen page's freeze button (its form also carries the CSRF token)."""

    service_date: date
    slot: Slot = Slot.LUNCH


class SampleForm(msgspec.Struct):
    """One batch's sample as typed on the 留样 page."""

    service_date: date
    slot: Slot
    batch_id: Annotated[str, msgspec.Meta(max_length=20)]
    taken_at: time
    grams: int
    fridge_celsius: float


def _print_ready(engine: Any, contexts: list[dict[str, Any]], settings: Settings) -> BackgroundTask:
    """Render every sheet's PDF of a just-frozen run after the answer is sent, so the kitchen's
    first print of each sheet is as quick as a re-print (see meals.pdf)."""

    async def in_a_thread() -> None:
        await after_freeze.ready_sheets(engine, contexts, settings)

    return BackgroundTask(in_a_thread)


async def _kitchen_page(
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    *,
    service_date: date,
    slot: Slot,
    run: ProductionRun | None,
    refused: service.PlanRefused | None = None,
) -> Template:
    view = await overview.kitchen_overview(
        db_session, settings, service_date=service_date, slot=slot, run=run
    )
    return render(
        request,
        "kitchen/index.html",
        status_code=HTTP_409_CONFLICT if refused else 200,
        view=view,
        zone=settings.district_zone,
        slots=[s.value for s in Slot],
        sheets=[(sheet.value, info) for sheet, info in sheets.SHEETS.items()],
        vans=sorted({van.van_id for van in service.plan_of(run).packing}) if run else [],
        refused=refused,
    )


class KitchenPages(Controller):
    path = "/kitchen"
    guards = [allow(*KITCHEN_ROLES)]  # noqa: RUF012
    include_in_schema = False

    @get("/", summary="Production for a date and slot: freeze, sheets, changes, warnings")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        now: Now,
        service_date: FromQuery[date | None] = None,
        slot: FromQuery[Slot] = Slot.LUNCH,
    ) -> Template:
        day = service_date or settings.district_today(now)
        run = await service.latest_run(db_session, day, slot)
        return await _kitchen_page(
            request, db_session, settings, service_date=day, slot=slot, run=run
        )

    @post("/runs", status_code=HTTP_303_SEE_OTHER)
    async def freeze(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect | Template:
        data = await read_form(request, FreezeForm)
        try:
            run = (
                await one_plan.freeze_day(
                    db_session,
                    settings=settings,
                    service_date=data.service_date,
                    slot=data.slot,
                    actor=actor,
                    now=now,
                    executor=request.app.state.planner.executor(),
                )
            ).run
        except service.PlanRefused as refused:
            latest = await service.latest_run(db_session, data.service_date, data.slot)
            return await _kitchen_page(
                request,
                db_session,
                settings,
                service_date=data.service_date,
                slot=data.slot,
                run=latest,
                refused=refused,
            )
        contexts = await after_freeze.print_contexts(
            db_session, run, settings, language_of(request)
        )
        return Redirect(
            f"/kitchen/runs/{run.id}",
            status_code=HTTP_303_SEE_OTHER,
            background=_print_ready(request.app.template_engine.engine, contexts, settings),
        )

    @get("/runs/{run_id:int}", summary="One frozen run")
    async def run_page(
        self, request: Request, db_session: DbSession, settings: AppSettings, run_id: PathId
    ) -> Template:
        run = await service.get_run(db_session, run_id)
        return await _kitchen_page(
            request, db_session, settings, service_date=run.service_date, slot=run.slot, run=run
        )

    @get("/runs/{run_id:int}/{sheet:str}", summary="A sheet of a run as HTML, PDF or CSV")
    async def sheet(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        now: Now,
        run_id: PathId,
        sheet: FromPath[Sheet],
        sheet_format: FormatQuery = sheets.SheetFormat.HTML,
        van: VanQuery = None,
    ) -> Response:
        language = language_of(request)
        keep = f"&van={van}" if van else ""
        nav = (
            f'<a href="/kitchen/runs/{run_id}">← {language.gettext("Back")}</a>'
            f'<a href="?format=pdf{keep}">PDF</a><a href="?format=csv">CSV</a>'
        )
        download = await overview.sheet_download(
            db_session,
            settings,
            request.app.template_engine.engine,
            run_id=run_id,
            sheet=sheet,
            sheet_format=sheet_format,
            van=van,
            nav=nav,
            now=now,
            language=language,
        )
        disposition = "inline" if download.inline else "attachment"
        return Response(
            download.content,
            media_type=download.media_type,
            headers={"Content-Disposition": f'{disposition}; filename="{download.filename}"'},
        )

    @get("/samples", summary="留样: record each batch's sample, see what is missing and due")
    async def sample_page(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        now: Now,
        service_date: FromQuery[date | None] = None,
        slot: FromQuery[Slot] = Slot.LUNCH,
    ) -> Template:
        day = service_date or settings.district_today(now)
        return await _samples_page(request, db_session, settings, day=day, slot=slot, now=now)

    @post("/samples", status_code=HTTP_303_SEE_OTHER, summary="Record one batch's sample")
    async def record_sample(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect | Template:
        form = await request.form()
        day, slot = _day_and_slot(form.get("service_date"), form.get("slot"), settings, now)
        try:
            data = await read_form(request, SampleForm, times=("taken_at",))
            record = await samples.record_sample(
                db_session,
                settings,
                entry=samples.SampleInput(**msgspec.structs.asdict(data)),
                actor=actor,
                now=now,
            )
        except DomainError as refusal:
            await db_session.rollback()
            return await _samples_page(
                request,
                db_session,
                settings,
                day=day,
                slot=slot,
                now=now,
                refusal=language_of(request).error(refusal),
                status_code=refusal.status_code,
            )
        flash(
            request,
            language_of(request).gettext(
                "Sample of {dish} (batch {batch}) recorded.",
                dish=record.dish_name,
                batch=record.batch_id,
            ),
        )
        return see_other(f"/kitchen/samples?service_date={day.isoformat()}&slot={slot.value}")

    @post(
        "/samples/{sample_id:int}/dispose",
        status_code=HTTP_303_SEE_OTHER,
        summary="Mark a sample thrown away after its retention time",
    )
    async def dispose_sample(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        sample_id: PathId,
    ) -> Redirect:
        record = await samples.dispose_sample(
            db_session, settings, sample_id=sample_id, actor=actor, now=now
        )
        flash(
            request,
            language_of(request).gettext(
                "Sample of {dish} (batch {batch}) marked disposed.",
                dish=record.dish_name,
                batch=record.batch_id,
            ),
        )
        return see_other(
            f"/kitchen/samples?service_date={record.service_date.isoformat()}&slot={record.slot}"
        )


def _day_and_slot(day: object, slot: object, settings: Settings, now: Any) -> tuple[date, Slot]:
    """The date and slot a sample form came from, to show its page again (today's lunch when
    unreadable)."""
    try:
        return date.fromisoformat(str(day)), Slot(str(slot))
    except ValueError:
        return settings.district_today(now), Slot.LUNCH


async def _samples_page(
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    *,
    day: date,
    slot: Slot,
    now: Any,
    refusal: str = "",
    status_code: int = 200,
) -> Template:
    view = await samples.sample_day(db_session, settings, service_date=day, slot=slot, now=now)
    return render(
        request,
        "kitchen/samples.html",
        status_code=status_code,
        view=view,
        zone=settings.district_zone,
        slots=[s.value for s in Slot],
        minimum_grams=settings.kitchen_sample_grams,
        fridge=settings.kitchen_sample_fridge_celsius,
        retention_hours=int(settings.kitchen_sample_retention.total_seconds() // 3600),
        now_hm=now.astimezone(settings.district_zone).strftime("%H:%M"),
        refusal=refusal,
    )
