"""Kitchen pages (sheets as HTML, PDF, CSV) and the JSON API to freeze and inspect runs.

Kitchen staff and admins only. Handlers are one service call and a view; a refused plan
(infeasible or inconsistent) is shown with its reasons, never produced.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated

import msgspec
from jinja2 import Environment
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_303_SEE_OTHER, HTTP_409_CONFLICT

from kitchen import Sheet
from meals.pdf import render_pdf
from meals.production import after_freeze, service, sheets
from meals.production import day as one_plan
from meals.production.models import ProductionRun
from meals.production.sheets import SheetFormat
from meals.settings import Settings
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, allow
from meals.words import VARIANT_LABELS_ZH, Fulfilment, Role, Slot, Variant

KITCHEN_ROLES = (Role.KITCHEN, Role.ADMIN)
FULFILMENT_NAMES_ZH = {
    Fulfilment.DINE_IN.value: "堂食",
    Fulfilment.PICKUP.value: "自取",
    Fulfilment.DELIVERY.value: "送餐上门",
}
FormatQuery = Annotated[SheetFormat, QueryParameter(name="format")]
EXCEL_FRIENDLY_BOM = "\ufeff"
"""Excel in Chinese locales reads UTF-8 CSV correctly only with a byte-order mark."""


class FreezeRequest(msgspec.Struct, forbid_unknown_fields=True):
    service_date: date
    slot: Slot = Slot.LUNCH


class FreezeForm(msgspec.Struct):
    """The kitchen page's freeze button (its form also carries the CSRF token)."""

    service_date: date
    slot: Slot = Slot.LUNCH


class DishLineView(msgspec.Struct):
    dish_id: str
    dish_name: str
    variant: str
    portions: int


class RunView(msgspec.Struct):
    id: int
    service_date: date
    slot: Slot
    frozen_at: datetime
    total_portions: int
    bookings_counted: int
    dishes: list[DishLineView]

    @classmethod
    def of(cls, run: ProductionRun) -> RunView:
        plan = service.plan_of(run)
        return cls(
            id=run.id,
            service_date=run.service_date,
            slot=run.slot,
            frozen_at=run.frozen_at,
            total_portions=run.total_portions,
            bookings_counted=run.bookings_counted,
            dishes=[
                DishLineView(line.dish_id, line.dish_name, line.variant.value, line.portions)
                for line in plan.dishes
            ],
        )


class DiffLineView(msgspec.Struct):
    site_name: str
    fulfilment: str
    menu_item_name: str
    variant: str
    frozen: int
    now: int
    change: int


class DiffView(msgspec.Struct):
    run_id: int
    frozen_total: int
    current_total: int
    lines: list[DiffLineView]


def _print_ready(engine: Environment, run: ProductionRun, settings: Settings) -> BackgroundTask:
    """Render every sheet's PDF of a just-frozen run after the answer is sent, so the kitchen's
    first print of each sheet is as quick as a re-print (see meals.pdf)."""

    async def in_a_thread() -> None:
        await after_freeze.ready_sheets(engine, run, settings)

    return BackgroundTask(in_a_thread)


async def _overview(
    request: Request,
    db_session: DbSession,
    settings: Settings,
    *,
    service_date: date,
    slot: Slot,
    run: ProductionRun | None,
    refused: service.PlanRefused | None = None,
) -> Template:
    """The kitchen's page for a date and slot: freeze button, sheets, changes since frozen."""
    diff = await service.run_diff(db_session, run) if run else None
    runs = await service.list_runs(db_session, service_date, slot)
    return Template(
        template_name="kitchen/index.html",
        status_code=HTTP_409_CONFLICT if refused else 200,
        context={
            "service_date": service_date,
            "slot": slot.value,
            "slot_zh": sheets.SLOT_NAMES_ZH[slot],
            "slots": [(s.value, f"{sheets.SLOT_NAMES_ZH[s]} {s.value}") for s in Slot],
            "run": run,
            "frozen_at": run.frozen_at.astimezone(settings.district_zone).strftime("%Y-%m-%d %H:%M")
            if run
            else "",
            "runs": runs,
            "diff": diff,
            "sheets": [(sheet.value, info) for sheet, info in sheets.SHEETS.items()],
            "problems": refused.problems if refused else (),
            "problem_title": refused.message.split(":")[0] if refused else "",
            "fulfilments": FULFILMENT_NAMES_ZH,
            "variants": {v.value: VARIANT_LABELS_ZH[v] for v in Variant},
        },
    )


class KitchenPages(Controller):
    path = "/kitchen"
    guards = [allow(*KITCHEN_ROLES)]  # noqa: RUF012
    include_in_schema = False

    @get("/", summary="Production for a date and slot: freeze, sheets, changes")
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
        return await _overview(request, db_session, settings, service_date=day, slot=slot, run=run)

    @post("/runs", status_code=HTTP_303_SEE_OTHER)
    async def freeze(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        data: URLEncodedBody[FreezeForm],
    ) -> Redirect | Template:
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
            return await _overview(
                request,
                db_session,
                settings,
                service_date=data.service_date,
                slot=data.slot,
                run=latest,
                refused=refused,
            )
        return Redirect(
            f"/kitchen/runs/{run.id}",
            status_code=HTTP_303_SEE_OTHER,
            background=_print_ready(request.app.template_engine.engine, run, settings),
        )

    @get("/runs/{run_id:int}", summary="One frozen run")
    async def run_page(
        self, request: Request, db_session: DbSession, settings: AppSettings, run_id: PathId
    ) -> Template:
        run = await service.get_run(db_session, run_id)
        return await _overview(
            request,
            db_session,
            settings,
            service_date=run.service_date,
            slot=run.slot,
            run=run,
        )

    @get("/runs/{run_id:int}/{sheet:str}", summary="A sheet of a run as HTML, PDF or CSV")
    async def sheet(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        run_id: PathId,
        sheet: FromPath[Sheet],
        sheet_format: FormatQuery = SheetFormat.HTML,
    ) -> Response:
        run = await service.get_run(db_session, run_id)
        plan = service.plan_of(run)
        header = after_freeze.sheet_header(run, settings)
        filename = sheets.download_name(header, sheet, sheet_format)
        if sheet_format is SheetFormat.CSV:
            return Response(
                EXCEL_FRIENDLY_BOM + sheets.render_csv(plan, sheet),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        engine = request.app.template_engine.engine
        if sheet_format is SheetFormat.HTML:
            nav = (
                f'<a href="/kitchen/runs/{run.id}">← 返回 Back</a>'
                f'<a href="?format=pdf">PDF</a><a href="?format=csv">CSV</a>'
            )
            html = sheets.sheet_html(engine, plan, header, [sheet], nav=nav)
            return Response(html, media_type="text/html; charset=utf-8")
        pdf = await asyncio.to_thread(
            render_pdf,
            sheets.sheet_html(engine, plan, header, [sheet]),
            settings.pdf_cache_dir,
            settings.pdf_cache_files,
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )


class KitchenApi(Controller):
    path = "/api/v1/kitchen"
    tags = ["kitchen"]  # noqa: RUF012
    guards = [allow(*KITCHEN_ROLES)]  # noqa: RUF012

    @post(
        "/runs",
        status_code=HTTP_201_CREATED,
        summary="Freeze the production plan of a date and slot from its current bookings",
    )
    async def freeze(
        self,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        data: JSONBody[FreezeRequest],
    ) -> RunView:
        run = (
            await one_plan.freeze_day(
                db_session,
                settings=settings,
                service_date=data.service_date,
                slot=data.slot,
                actor=actor,
                now=now,
            )
        ).run
        return RunView.of(run)

    @get("/runs/{run_id:int}", summary="A frozen production run")
    async def show(self, db_session: DbSession, run_id: PathId) -> RunView:
        return RunView.of(await service.get_run(db_session, run_id))

    @get("/runs/{run_id:int}/diff", summary="Bookings now against the frozen run")
    async def diff(self, db_session: DbSession, run_id: PathId) -> DiffView:
        run = await service.get_run(db_session, run_id)
        diff = await service.run_diff(db_session, run)
        return DiffView(
            run_id=run.id,
            frozen_total=diff.frozen_total,
            current_total=diff.current_total,
            lines=[
                DiffLineView(
                    line.site_name,
                    line.fulfilment,
                    line.menu_item_name,
                    line.variant,
                    line.frozen,
                    line.now,
                    line.change,
                )
                for line in diff.lines
            ],
        )
