"""Callbacks over HTTP: the JSON API and the page where the list is drawn and calls recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.callbacks import service
from meals.callbacks.models import REMARKS_MAX, SCORE_MAX, SCORE_MIN
from meals.pages.web import flash, language_of, render, see_other
from meals.settlement.months import month_label, month_or_last, parse_month
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
    PathId,
    allow,
)
from meals.words import Role

RECORDERS = (Role.ADMIN, Role.SITE_STAFF)
API_PAGE = 100
PAGE_LINES = 50


class CallRecord(msgspec.Struct, forbid_unknown_fields=True):
    reached: bool
    score: Annotated[int, msgspec.Meta(ge=SCORE_MIN, le=SCORE_MAX)] | None = None
    remarks: Annotated[str, msgspec.Meta(max_length=REMARKS_MAX)] | None = None


class CallForm(msgspec.Struct):
    reached: str = ""
    score: str = ""
    remarks: Annotated[str, msgspec.Meta(max_length=REMARKS_MAX)] = ""
    month: str = ""
    site: str = ""
    offset: str = ""


class CallbackView(msgspec.Struct):
    id: int
    month: str
    senior_id: int
    senior_name: str
    phone: str | None
    site_id: int
    site_name: str
    stratum: str
    reasons: list[str]
    reached: bool | None
    score: int | None
    remarks: str | None
    called_at: datetime | None

    @classmethod
    def of(cls, line: service.CallbackLine) -> CallbackView:
        callback = line.callback
        return cls(
            id=callback.id,
            month=month_label(callback.month_start),
            senior_id=callback.senior_id,
            senior_name=line.senior_name,
            phone=line.phone,
            site_id=callback.site_id,
            site_name=line.site_name,
            stratum=callback.stratum,
            reasons=list(callback.reasons),
            reached=callback.reached,
            score=callback.score,
            remarks=callback.remarks,
            called_at=callback.called_at and callback.called_at.astimezone(UTC),
        )


class CallbackListOut(msgspec.Struct):
    """One page of a month's list, with the totals of the whole list."""

    month: str
    total: int
    called: int
    reached: int
    limit: int
    offset: int
    callbacks: list[CallbackView]


class CallbackApi(Controller):
    path = "/api/v1/callbacks"
    tags = ["callbacks"]  # noqa: RUF012

    @post(
        "/{month:str}/draw",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Draw a month's callback list (once)",
    )
    async def draw(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        month: MonthPath,
    ) -> dict[str, int]:
        rows = await service.draw_callbacks(
            db_session, actor=actor, month_start=parse_month(month), now=now, settings=settings
        )
        return {"drawn": len(rows)}

    @get(
        "/{month:str}",
        guards=[allow(*service.READERS)],
        summary="A month's callback list, a page at a time (staff: their sites only)",
    )
    async def month(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        month: MonthPath,
        site_id: OptionalQueryId = None,
        limit: PageLimit = API_PAGE,
        offset: PageOffset = 0,
    ) -> CallbackListOut:
        month_start = parse_month(month)
        page = await service.callback_page(
            db_session,
            actor=actor,
            month_start=month_start,
            site_id=site_id,
            limit=limit,
            offset=offset,
        )
        return CallbackListOut(
            month=month_label(month_start),
            total=page.total,
            called=page.called,
            reached=page.reached,
            limit=page.limit,
            offset=page.offset,
            callbacks=[CallbackView.of(line) for line in page.lines],
        )

    @get(
        "/{month:str}/summary",
        guards=[allow(*service.READERS)],
        summary="Ratings and callback scores per site, ratings per dish",
    )
    async def summary(
        self, db_session: DbSession, actor: CurrentActor, settings: AppSettings, month: MonthPath
    ) -> dict[str, Any]:
        return await service.month_summary(
            db_session,
            actor=actor,
            month_start=parse_month(month),
            low_rating=settings.callback_low_rating,
        )

    @post(
        "/calls/{callback_id:int}",
        guards=[allow(*RECORDERS)],
        status_code=HTTP_200_OK,
        summary="Record one call: reached (with a score 1–5) or not",
    )
    async def record(
        self,
        data: JSONBody[CallRecord],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        callback_id: PathId,
    ) -> dict[str, Any]:
        callback = await service.record_call(
            db_session,
            actor=actor,
            callback_id=callback_id,
            reached=data.reached,
            score=data.score,
            remarks=data.remarks,
            now=now,
        )
        return {"id": callback.id, "reached": callback.reached, "score": callback.score}


def _back_to_list(form: CallForm) -> str | None:
    """The list page the call was recorded from: its month, site and page."""
    if not form.month:
        return None
    query = {"month": month_label(parse_month(form.month))}
    if form.site.isdigit():
        query["site"] = form.site
    if form.offset.isdigit() and int(form.offset) > 0:
        query["offset"] = form.offset
    return f"/callbacks?{urlencode(query)}"


class CallbackPages(Controller):
    path = "/callbacks"
    include_in_schema = False

    @get("/", guards=[allow(*service.READERS)], summary="The month's callbacks and satisfaction")
    async def page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        month: MonthQuery = None,
        site: OptionalQueryId = None,
        offset: PageOffset = 0,
    ) -> Template:
        month_start = month_or_last(month, settings.district_today(now))
        page = await service.callback_page(
            db_session,
            actor=actor,
            month_start=month_start,
            site_id=site,
            limit=PAGE_LINES,
            offset=offset,
        )
        summary = await service.month_summary(
            db_session,
            actor=actor,
            month_start=month_start,
            low_rating=settings.callback_low_rating,
        )
        return render(
            request,
            "callbacks.html",
            month=month_label(month_start),
            page=page,
            query={"month": month_label(month_start), **({"site": site} if site else {})},
            summary=summary,
            site=site,
            may_draw=actor.role is Role.ADMIN and page.total == 0 and site is None,
            may_record=actor.role in RECORDERS,
            share_percent=round(settings.callback_share * 100),
            low_rating=settings.callback_low_rating,
            scores=range(SCORE_MIN, SCORE_MAX + 1),
        )

    @post("/{month:str}/draw", guards=[allow(Role.ADMIN)], summary="Draw the callback list")
    async def draw(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        month: MonthPath,
    ) -> Redirect:
        rows = await service.draw_callbacks(
            db_session, actor=actor, month_start=parse_month(month), now=now, settings=settings
        )
        flash(
            request,
            language_of(request).gettext(
                "{count} seniors to call back for {month}.", count=len(rows), month=month
            ),
        )
        return see_other(f"/callbacks?month={month}")

    @post("/calls/{callback_id:int}", guards=[allow(*RECORDERS)], summary="Record a call")
    async def record(
        self,
        request: Request,
        data: URLEncodedBody[CallForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        callback_id: PathId,
    ) -> Redirect:
        back = _back_to_list(data)
        reached = data.reached == "yes"
        score = int(data.score) if data.score.isdigit() else None
        await service.record_call(
            db_session,
            actor=actor,
            callback_id=callback_id,
            reached=reached,
            score=score,
            remarks=data.remarks,
            now=now,
        )
        flash(request, language_of(request).gettext("The call is recorded."))
        return see_other(back or "/callbacks")
