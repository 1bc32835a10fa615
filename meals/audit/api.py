"""The audit log for the operator and civil affairs: a JSON list, a page and a CSV download."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from meals.audit import service
from meals.audit.models import AuditEntry
from meals.audit.service import AUDIT_READERS, AuditQuery
from meals.listing import page_as
from meals.pages.web import render
from meals.web import AppSettings, CurrentActor, DbSession, PageLimit, PageOffset, allow

PAGE = 50
WhoQuery = Annotated[str | None, QueryParameter(max_length=80)]
EntityQuery = Annotated[str | None, QueryParameter(max_length=40)]
DayQuery = Annotated[date | None, QueryParameter()]
ENTITIES = (
    "account",
    "senior",
    "family_binding",
    "site",
    "dish",
    "subsidy_policy",
    "funding_source",
    "ingredient",
    "van",
    "wave",
    "booking",
)


class AuditEntryView(msgspec.Struct):
    id: int
    at: datetime
    account_id: int | None
    account_name: str
    role: str
    action: str
    entity: str
    entity_id: str
    site_id: int | None
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryView:
        return cls(
            id=e.id,
            at=e.at,
            account_id=e.account_id,
            account_name=e.account_name,
            role=e.role,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            site_id=e.site_id,
            summary=e.summary,
            before=e.before,
            after=e.after,
        )


def _query(who: str | None, entity: str | None, first: date | None, last: date | None):
    return AuditQuery(who=who or None, entity=entity or None, first_day=first, last_day=last)


class AuditApi(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]  # noqa: RUF012
    guards = [allow(*AUDIT_READERS)]  # noqa: RUF012

    @get("/", summary="The audit log, newest first; filter by who, record kind and days")
    async def index(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        who: WhoQuery = None,
        entity: EntityQuery = None,
        first_day: DayQuery = None,
        last_day: DayQuery = None,
        limit: PageLimit = PAGE,
        offset: PageOffset = 0,
    ) -> OffsetPagination[AuditEntryView]:
        page = await service.list_entries(
            db_session,
            actor=actor,
            query=_query(who, entity, first_day, last_day),
            zone=settings.district_zone,
            limit=limit,
            offset=offset,
        )
        return page_as(page, AuditEntryView.of)


def _csv(body: str) -> Response[str]:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


class AuditPages(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/", guards=[allow(*AUDIT_READERS)], summary="The audit log page")
    async def log_page(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        who: WhoQuery = None,
        entity: EntityQuery = None,
        first_day: DayQuery = None,
        last_day: DayQuery = None,
        offset: PageOffset = 0,
    ) -> Template:
        query = _query(who, entity, first_day, last_day)
        page = await service.list_entries(
            db_session,
            actor=actor,
            query=query,
            zone=settings.district_zone,
            limit=PAGE,
            offset=offset,
        )
        params = {
            "who": query.who,
            "entity": query.entity,
            "first_day": query.first_day and query.first_day.isoformat(),
            "last_day": query.last_day and query.last_day.isoformat(),
        }
        kept = urlencode({k: v for k, v in params.items() if v})
        return render(
            request,
            "console/audit.html",
            page=page,
            query=query,
            kept=kept,
            entities=ENTITIES,
            zone=settings.district_zone,
        )

    @get("/export.csv", guards=[allow(*AUDIT_READERS)], summary="The audit log as CSV")
    async def export(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        who: WhoQuery = None,
        entity: EntityQuery = None,
        first_day: DayQuery = None,
        last_day: DayQuery = None,
    ) -> Response[str]:
        body = await service.entries_csv(
            db_session,
            actor=actor,
            query=_query(who, entity, first_day, last_day),
            zone=settings.district_zone,
        )
        return _csv(body)
