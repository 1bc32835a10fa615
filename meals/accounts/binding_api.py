"""Family bindings over the API and on pages: ask (family), consent or decline (the senior, or
staff with the senior present), bind at the counter, and end (either side)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.accounts import bindings
from meals.accounts.api import Login, Name, Password
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.web import CurrentActor, DbSession, Now, PathId, RecordId, allow
from meals.words import Role

TEXT = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
Relation = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=TEXT)]
SeniorNumber = Annotated[
    str, msgspec.Meta(min_length=3, max_length=20, pattern=r"^[A-Za-z0-9+-]+$")
]
STATUSES = (bindings.PENDING, bindings.BOUND, bindings.DECLINED, bindings.ENDED)
ALL_PARTIES = (Role.FAMILY, Role.SENIOR, Role.SITE_STAFF, Role.ADMIN)


class AskBody(msgspec.Struct, forbid_unknown_fields=True):
    """The senior's phone or meal-card number, and how the asker is related to them."""

    senior: SeniorNumber
    relation: Relation


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    senior_present: bool = False


class CounterBindBody(msgspec.Struct, forbid_unknown_fields=True):
    senior_id: RecordId
    relation: Relation
    family_login: Login
    senior_present: bool = False
    family_name: Name | None = None
    family_password: Password | None = None


class EndBody(msgspec.Struct, forbid_unknown_fields=True):
    senior_id: RecordId
    family_account_id: RecordId


class RequestView(msgspec.Struct):
    id: int
    family_account_id: int
    family_name: str
    senior_id: int | None
    senior_name: str | None
    relation: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    consent_by: str | None
    ended_at: datetime | None

    @classmethod
    def of(cls, row: bindings.BindingRow, role: Role) -> RequestView:
        r = row.request
        hidden = role is Role.FAMILY and r.status != bindings.BOUND
        return cls(
            id=r.id,
            family_account_id=r.family_account_id,
            family_name=row.family_name,
            senior_id=None if hidden else r.senior_id,
            senior_name=None if hidden else row.senior_name,
            relation=r.relation,
            status=r.status,
            requested_at=r.requested_at,
            decided_at=r.decided_at,
            consent_by=r.consent_by,
            ended_at=r.ended_at,
        )


class Ended(msgspec.Struct):
    senior_id: int
    family_account_id: int
    status: str = bindings.ENDED


def _view(request: bindings.FamilyBindingRequest, actor: CurrentActor) -> RequestView:
    row = bindings.BindingRow(
        request, "", actor.display_name if actor.role is Role.FAMILY else "", ""
    )
    return RequestView.of(row, actor.role)


class BindingApi(Controller):
    path = "/api/v1/bindings"
    tags = ["family bindings"]  # noqa: RUF012

    @get("/requests", guards=[allow(*ALL_PARTIES)], summary="Binding requests you may see")
    async def index(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        status: FromQuery[Annotated[str, msgspec.Meta(max_length=10)] | None] = bindings.PENDING,
    ) -> list[RequestView]:
        if status is not None and status not in STATUSES:
            status = None
        rows = await bindings.requests_for(db_session, actor=actor, status=status)
        return [RequestView.of(row, actor.role) for row in rows]

    @post(
        "/requests",
        guards=[allow(Role.FAMILY)],
        status_code=HTTP_201_CREATED,
        summary="Ask to act for a senior (they consent before anything is shown)",
    )
    async def ask(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[AskBody]
    ) -> RequestView:
        request = await bindings.ask(
            db_session, actor=actor, senior_login=data.senior, relation=data.relation, now=now
        )
        return _view(request, actor)

    @post(
        "/requests/{request_id:int}/consent",
        guards=[allow(*bindings.DECIDERS)],
        status_code=HTTP_200_OK,
        summary="Consent to a request (the senior, or staff with the senior present)",
    )
    async def consent(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        request_id: PathId,
        data: JSONBody[DecisionBody],
    ) -> RequestView:
        request = await bindings.decide(
            db_session,
            actor=actor,
            request_id=request_id,
            consent=True,
            senior_present=data.senior_present,
            now=now,
        )
        return _view(request, actor)

    @post(
        "/requests/{request_id:int}/decline",
        guards=[allow(*bindings.DECIDERS)],
        status_code=HTTP_200_OK,
        summary="Decline a request",
    )
    async def decline(
        self, db_session: DbSession, actor: CurrentActor, now: Now, request_id: PathId
    ) -> RequestView:
        request = await bindings.decide(
            db_session, actor=actor, request_id=request_id, consent=False, now=now
        )
        return _view(request, actor)

    @post(
        "/",
        guards=[allow(Role.SITE_STAFF, Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Bind a family member at the counter, with the senior present",
    )
    async def bind(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[CounterBindBody]
    ) -> RequestView:
        request = await bindings.bind_at_counter(
            db_session,
            actor=actor,
            senior_id=data.senior_id,
            relation=data.relation,
            family_login=data.family_login,
            family_name=data.family_name,
            family_password=data.family_password,
            senior_present=data.senior_present,
            now=now,
        )
        return _view(request, actor)

    @post(
        "/end",
        guards=[allow(*ALL_PARTIES)],
        status_code=HTTP_200_OK,
        summary="End a binding (either side)",
    )
    async def end(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[EndBody]
    ) -> Ended:
        await bindings.end(
            db_session,
            actor=actor,
            senior_id=data.senior_id,
            family_account_id=data.family_account_id,
            now=now,
        )
        return Ended(senior_id=data.senior_id, family_account_id=data.family_account_id)


class CounterBindForm(msgspec.Struct):
    relation: Relation
    family_login: Login
    senior_present: bool = False
    family_name: Name | None = None
    family_password: Password | None = None


class DecisionForm(msgspec.Struct):
    senior_present: bool = False


class EndForm(msgspec.Struct):
    senior_id: RecordId
    family_account_id: RecordId


class AskForm(msgspec.Struct):
    senior: SeniorNumber
    relation: Relation


class BindingPages(Controller):
    """The pages: seniors and family on their phones (/family-bindings); staff and the
    operator from a senior's record; the operator's list of every request."""

    path = "/"
    include_in_schema = False

    @get("/family-bindings", guards=[allow(Role.FAMILY, Role.SENIOR)], summary="My bindings")
    async def mine(self, request: Request, db_session: DbSession, actor: CurrentActor) -> Template:
        rows = await bindings.requests_for(db_session, actor=actor, status=None)
        return render(request, "family_bindings.html", rows=rows, actor=actor)

    @post("/family-bindings/ask", guards=[allow(Role.FAMILY)], summary="Ask to be bound")
    async def ask(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, AskForm)
        await bindings.ask(
            db_session, actor=actor, senior_login=form.senior, relation=form.relation, now=now
        )
        return _back(
            request,
            "/family-bindings",
            N_("Asked. The senior must agree before you can book for them."),
        )

    @post(
        "/bindings/{request_id:int}/consent",
        guards=[allow(*bindings.DECIDERS)],
        summary="Consent",
    )
    async def consent(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        request_id: PathId,
    ) -> Redirect:
        form = await read_form(request, DecisionForm)
        done = await bindings.decide(
            db_session,
            actor=actor,
            request_id=request_id,
            consent=True,
            senior_present=form.senior_present,
            now=now,
        )
        return _back(request, _home(actor, done.senior_id), N_("The family member is bound."))

    @post(
        "/bindings/{request_id:int}/decline",
        guards=[allow(*bindings.DECIDERS)],
        summary="Decline",
    )
    async def decline(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        request_id: PathId,
    ) -> Redirect:
        done = await bindings.decide(
            db_session, actor=actor, request_id=request_id, consent=False, now=now
        )
        return _back(request, _home(actor, done.senior_id), N_("The request is declined."))

    @post(
        "/console/seniors/{senior_id:int}/bind",
        guards=[allow(Role.SITE_STAFF, Role.ADMIN)],
        summary="Bind a family member at the counter",
    )
    async def bind(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        senior_id: PathId,
    ) -> Redirect:
        form = await read_form(request, CounterBindForm)
        await bindings.bind_at_counter(
            db_session,
            actor=actor,
            senior_id=senior_id,
            relation=form.relation,
            family_login=form.family_login,
            family_name=form.family_name,
            family_password=form.family_password,
            senior_present=form.senior_present,
            now=now,
        )
        return _back(request, f"/console/seniors/{senior_id}", N_("The family member is bound."))

    @post("/bindings/end", guards=[allow(*ALL_PARTIES)], summary="End a binding")
    async def end(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, EndForm)
        await bindings.end(
            db_session,
            actor=actor,
            senior_id=form.senior_id,
            family_account_id=form.family_account_id,
            now=now,
        )
        return _back(request, _home(actor, form.senior_id), N_("The binding has ended."))

    @get("/console/bindings", guards=[allow(Role.ADMIN)], summary="Every binding request")
    async def every(self, request: Request, db_session: DbSession, actor: CurrentActor) -> Template:
        rows = await bindings.requests_for(db_session, actor=actor, status=None)
        return render(request, "console/bindings.html", rows=rows)


def _home(actor: CurrentActor, senior_id: int) -> str:
    if actor.role in (Role.SENIOR, Role.FAMILY):
        return "/family-bindings"
    return f"/console/seniors/{senior_id}"


def _back(request: Request, path: str, message: str) -> Redirect:
    flash(request, language_of(request).gettext(message))
    return see_other(path)
