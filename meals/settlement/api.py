"""Settlement over HTTP: the JSON API and the operator's and civil affairs' pages.

Each handler is one service call; the operator may close a month, civil affairs only reads.
"""

from __future__ import annotations

import asyncio
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from meals.callbacks.service import month_summary
from meals.pages.web import flash, language_of, render, see_other
from meals.settings import Settings
from meals.settlement import exports, service
from meals.settlement.months import (
    month_label,
    month_or_last,
    next_month,
    parse_month,
    previous_month,
)
from meals.web import (
    AppSettings,
    CurrentActor,
    DbSession,
    MonthPath,
    MonthQuery,
    Now,
    OptionalQueryId,
    PageLimit,
    PageOffset,
    allow,
)
from meals.words import Fulfilment, Role

SourceQuery = Annotated[str | None, QueryParameter(name="source", max_length=32)]
OutcomeQuery = Annotated[str | None, QueryParameter(name="outcome", max_length=16)]
DRILL_PAGE = 100
READERS = service.SETTLEMENT_READERS


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


MEDIA_TYPES = {
    ExportFormat.JSON: "application/json",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PDF: "application/pdf",
}


class DrillLineView(msgspec.Struct):
    booking_id: int
    correction_id: int | None
    service_date: date
    site: str
    site_name: str
    senior_name: str
    card_number: str
    fulfilment: Fulfilment
    outcome: str
    delta: int
    price_fen: int
    subsidy_fen: int


class DrillPageView(msgspec.Struct):
    month: str
    closed: bool
    total: int
    meals: int
    subsidy_fen: int
    senior_paid_fen: int
    bookings: list[DrillLineView]

    @classmethod
    def of(cls, page: service.DrillPage) -> DrillPageView:
        return cls(
            month=page.month,
            closed=page.closed,
            total=page.total,
            meals=page.meals,
            subsidy_fen=page.subsidy_fen,
            senior_paid_fen=page.senior_paid_fen,
            bookings=[
                DrillLineView(
                    booking_id=line.booking_id,
                    correction_id=line.correction_id,
                    service_date=line.service_date,
                    site=line.site_code,
                    site_name=line.site_name,
                    senior_name=line.senior_name,
                    card_number=line.card_number,
                    fulfilment=line.fulfilment,
                    outcome=line.outcome,
                    delta=line.delta,
                    price_fen=line.price_fen,
                    subsidy_fen=line.subsidy_fen,
                )
                for line in page.lines
            ],
        )


async def export_response(
    request: Request,
    report: service.MonthReport,
    export_format: ExportFormat,
    settings: Settings,
    satisfaction: dict[str, Any] | None = None,
) -> Response[bytes]:
    """The report in one format, as a download (PDF rendered off the event loop)."""
    if export_format is ExportFormat.JSON:
        content = exports.to_json(report)
    elif export_format is ExportFormat.CSV:
        content = (exports.EXCEL_FRIENDLY_BOM + exports.to_csv(report)).encode()
    elif export_format is ExportFormat.XLSX:
        content = exports.to_xlsx(report, satisfaction)
    else:
        engine = request.app.template_engine.engine
        content = await asyncio.to_thread(exports.to_pdf, engine, report, settings)
    disposition = "inline" if export_format is ExportFormat.JSON else "attachment"
    return Response(
        content,
        media_type=MEDIA_TYPES[export_format],
        headers={
            "Content-Disposition": (
                f'{disposition}; filename="{exports.download_name(report, export_format)}"'
            )
        },
    )


def _drill_filter(
    site_id: int | None,
    source: str | None,
    outcome: str | None,
    fulfilment: Fulfilment | None,
    limit: int,
    offset: int,
) -> service.DrillFilter:
    return service.DrillFilter(
        site_id=site_id,
        source=source or None,
        outcome=outcome or None,
        fulfilment=fulfilment,
        limit=limit,
        offset=offset,
    )


class SettlementApi(Controller):
    path = "/api/v1/settlement"
    tags = ["settlement"]  # noqa: RUF012

    @get(
        "/{month:str}",
        guards=[allow(*READERS)],
        summary="A month's settlement per funding source and site (json, csv, xlsx or pdf)",
    )
    async def month(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        month: MonthPath,
        export_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.JSON,
    ) -> Response[bytes]:
        month_start = parse_month(month)
        report = await service.month_report(
            db_session, actor=actor, month_start=month_start, settings=settings
        )
        satisfaction = None
        if export_format is ExportFormat.XLSX:
            satisfaction = await month_summary(
                db_session,
                actor=actor,
                month_start=month_start,
                low_rating=settings.callback_low_rating,
            )
        return await export_response(request, report, export_format, settings, satisfaction)

    @get(
        "/{month:str}/bookings",
        guards=[allow(*READERS)],
        summary="The bookings behind a month's figures, filtered by site, source, outcome",
    )
    async def bookings(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        month: MonthPath,
        site_id: OptionalQueryId = None,
        source: SourceQuery = None,
        outcome: OutcomeQuery = None,
        fulfilment: FromQuery[Fulfilment | None] = None,
        limit: PageLimit = DRILL_PAGE,
        offset: PageOffset = 0,
    ) -> DrillPageView:
        page = await service.month_bookings(
            db_session,
            actor=actor,
            month_start=parse_month(month),
            filters=_drill_filter(site_id, source, outcome, fulfilment, limit, offset),
        )
        return DrillPageView.of(page)

    @post(
        "/{month:str}/close",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_200_OK,
        summary="Close a month that has ended: its figures are frozen",
    )
    async def close(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        month: MonthPath,
    ) -> dict[str, Any]:
        report = await service.close_month(
            db_session, actor=actor, month_start=parse_month(month), now=now, settings=settings
        )
        return report.figures


class SettlementPages(Controller):
    path = "/settlement"
    include_in_schema = False

    @get("/", guards=[allow(*READERS)], summary="A month's settlement for the operator")
    async def month_page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
        month: MonthQuery = None,
    ) -> Template:
        month_start = month_or_last(month, settings.district_today(now))
        report = await service.month_report(
            db_session, actor=actor, month_start=month_start, settings=settings
        )
        closed = await service.closed_months(db_session, actor=actor)
        return render(
            request,
            "settlement/month.html",
            report=report,
            figures=report.figures,
            closed_months=[month_label(m.month_start) for m in closed],
            previous=month_label(previous_month(month_start)),
            following=month_label(next_month(month_start)),
            may_close=actor.role is Role.ADMIN and not report.figures["closed"],
        )

    @get(
        "/{month:str}/bookings",
        guards=[allow(*READERS)],
        summary="The bookings behind one of a month's figures",
    )
    async def bookings_page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        month: MonthPath,
        site_id: OptionalQueryId = None,
        source: SourceQuery = None,
        outcome: OutcomeQuery = None,
        fulfilment: FromQuery[Fulfilment | None] = None,
        offset: PageOffset = 0,
    ) -> Template:
        filters = _drill_filter(site_id, source, outcome, fulfilment, DRILL_PAGE, offset)
        page = await service.month_bookings(
            db_session, actor=actor, month_start=parse_month(month), filters=filters
        )
        query = {
            "site_id": site_id,
            "source": filters.source,
            "outcome": filters.outcome,
            "fulfilment": fulfilment and fulfilment.value,
        }
        return render(
            request,
            "settlement/bookings.html",
            page=page,
            filters=filters,
            query={name: value for name, value in query.items() if value},
        )

    @post("/{month:str}/close", guards=[allow(Role.ADMIN)], summary="Close a month")
    async def close(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        month: MonthPath,
    ) -> Redirect:
        report = await service.close_month(
            db_session, actor=actor, month_start=parse_month(month), now=now, settings=settings
        )
        flash(
            request,
            language_of(request).gettext(
                "{month} is closed: its figures are frozen. Corrections of its meals now count "
                "in the next month.",
                month=report.label,
            ),
        )
        return see_other(f"/settlement?month={report.label}")
