"""The operator's account pages: list and create accounts, change role and sites, reset the
password, deactivate. Each change is effective at once (the account's sessions end)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from meals.accounts import admin
from meals.accounts.api import Login, Name, Password
from meals.accounts.models import Account
from meals.errors import NotFound
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.sites.models import Site
from meals.web import CurrentActor, DbSession, Now, PageOffset, PathId, RecordId, allow
from meals.words import Role

PAGE = 50


class AccountForm(msgspec.Struct):
    login: Login
    display_name: Name
    role: Role
    password: Password
    site_ids: list[RecordId] = msgspec.field(default_factory=list)


class RoleForm(msgspec.Struct):
    role: Role


class SitesForm(msgspec.Struct):
    site_ids: list[RecordId] = msgspec.field(default_factory=list)


class PasswordForm(msgspec.Struct):
    password: Annotated[str, msgspec.Meta(min_length=6, max_length=256)]


async def _sites(db_session: DbSession) -> list[Site]:
    return list(await db_session.scalars(select(Site).order_by(Site.code)))


class AccountConsolePages(Controller):
    path = "/console/accounts"
    include_in_schema = False
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Accounts, with a form to add one")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        role: FromQuery[Role | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        offset: PageOffset = 0,
    ) -> Template:
        page = await admin.list_accounts(
            db_session, actor=actor, role=role, search=q, limit=PAGE, offset=offset
        )
        sites = await _sites(db_session)
        kept = urlencode({k: v for k, v in {"role": role and role.value, "q": q}.items() if v})
        return render(
            request,
            "console/accounts.html",
            page=page,
            kept=kept,
            role_filter=role,
            q=q or "",
            roles=admin.STAFF_ROLES,
            sites=sites,
            site_names={s.id: s.name for s in sites},
        )

    @post("/", summary="Create an account")
    async def create(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, AccountForm, lists=("site_ids",))
        row = await admin.create_account(
            db_session,
            actor=actor,
            login=form.login,
            display_name=form.display_name,
            role=form.role,
            password=form.password,
            site_ids=form.site_ids,
            now=now,
        )
        flash(
            request,
            language_of(request).gettext(
                "Account {login} created; it can log in now.", login=row.account.login
            ),
        )
        return see_other(f"/console/accounts/{row.account.id}")

    @get("/{account_id:int}", summary="One account: role, sites, password, deactivation")
    async def show(
        self, request: Request, db_session: DbSession, actor: CurrentActor, account_id: PathId
    ) -> Template:
        account = await db_session.get(Account, account_id)
        if account is None or account.role not in admin.STAFF_ROLES:
            raise NotFound("There is no account {account_id}.", account_id=account_id)
        site_ids = await admin._site_ids(db_session, [account.id])
        return render(
            request,
            "console/account.html",
            account=account,
            mine=set(site_ids.get(account.id, [])),
            roles=admin.STAFF_ROLES,
            sites=await _sites(db_session),
            is_me=account.id == actor.account_id,
        )

    @post("/{account_id:int}/role", summary="Change the role")
    async def role(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        account_id: PathId,
    ) -> Redirect:
        form = await read_form(request, RoleForm)
        await admin.change_role(
            db_session, actor=actor, account_id=account_id, role=form.role, now=now
        )
        return self._done(request, account_id, N_("Role changed; the account's sessions ended."))

    @post("/{account_id:int}/sites", summary="Set the sites")
    async def sites(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        account_id: PathId,
    ) -> Redirect:
        form = await read_form(request, SitesForm, lists=("site_ids",))
        await admin.set_sites(
            db_session, actor=actor, account_id=account_id, site_ids=form.site_ids, now=now
        )
        return self._done(request, account_id, N_("Sites saved; the account's sessions ended."))

    @post("/{account_id:int}/password", summary="Reset the password")
    async def password(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        account_id: PathId,
    ) -> Redirect:
        form = await read_form(request, PasswordForm)
        await admin.reset_password(
            db_session, actor=actor, account_id=account_id, password=form.password, now=now
        )
        return self._done(request, account_id, N_("Password reset; the account's sessions ended."))

    @post("/{account_id:int}/deactivate", summary="Deactivate")
    async def deactivate(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        account_id: PathId,
    ) -> Redirect:
        await admin.deactivate(db_session, actor=actor, account_id=account_id, now=now)
        return self._done(request, account_id, N_("Account deactivated; it can no longer log in."))

    @staticmethod
    def _done(request: Request, account_id: int, message: str) -> Redirect:
        flash(request, language_of(request).gettext(message))
        return see_other(f"/console/accounts/{account_id}")
