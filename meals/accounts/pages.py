"""The operator's page of an account's sessions: where it is logged in, and a button that
ends them all (a lost phone, a shared counter tablet)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from meals.accounts import service
from meals.accounts.models import Account
from meals.pages.web import flash, language_of, render
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, allow
from meals.words import Role

LOGIN_MAX = 64
LoginQuery = Annotated[str | None, QueryParameter(name="login", max_length=LOGIN_MAX)]


class AccountSessionPages(Controller):
    path = "/accounts"
    include_in_schema = False

    @get("/sessions", guards=[allow(Role.ADMIN)], summary="Find an account's sessions")
    async def find(
        self, request: Request, db_session: DbSession, actor: CurrentActor, login: LoginQuery = None
    ) -> Template | Redirect:
        if not login:
            return render(request, "account_sessions.html", account=None, sessions=[])
        account = await service.account_named(db_session, actor=actor, login=login)
        return Redirect(f"/accounts/{account.id}/sessions", status_code=303)

    @get("/{account_id:int}/sessions", guards=[allow(Role.ADMIN)], summary="Its sessions")
    async def list_sessions(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
        account_id: PathId,
    ) -> Template:
        rows = await service.account_sessions(
            db_session, actor=actor, account_id=account_id, now=now
        )
        account = await db_session.get(Account, account_id)
        return render(
            request,
            "account_sessions.html",
            account=account,
            sessions=rows,
            zone=settings.district_zone,
        )

    @post("/{account_id:int}/sessions/end", guards=[allow(Role.ADMIN)], summary="End them")
    async def end_all(
        self, request: Request, db_session: DbSession, actor: CurrentActor, account_id: PathId
    ) -> Redirect:
        ended = await service.end_sessions_of(db_session, actor=actor, account_id=account_id)
        flash(request, language_of(request).gettext("{count} sessions ended.", count=ended), "ok")
        return Redirect(f"/accounts/{account_id}/sessions", status_code=303)
