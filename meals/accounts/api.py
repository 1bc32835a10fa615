"""Login, logout and "who am I" for the JSON API; pages share the same cookie session."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from meals.accounts import admin, service
from meals.accounts.models import Account
from meals.accounts.sessions import SESSION_ACCOUNT, SESSION_ROLE
from meals.pages.web import bind_csrf
from meals.web import (
    ALL_ROLES,
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    PageLimit,
    PageOffset,
    PathId,
    RecordId,
    allow,
)
from meals.words import Role

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class LoginForm(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=PRINTABLE)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class AccountView(msgspec.Struct):
    account_id: int
    role: Role
    display_name: str
    senior_id: int | None = None
    site_ids: list[int] = msgspec.field(default_factory=list)
    senior_ids: list[int] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, actor: CurrentActor) -> AccountView:
        return cls(
            account_id=actor.account_id,
            role=actor.role,
            display_name=actor.display_name,
            senior_id=actor.senior_id,
            site_ids=sorted(actor.site_ids),
            senior_ids=sorted(actor.senior_ids),
        )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["accounts"]  # noqa: RUF012

    @post(
        "/login", status_code=HTTP_200_OK, summary="Log in with phone / login and password or PIN"
    )
    async def login(
        self,
        request: Request,
        data: JSONBody[LoginForm],
        db_session: DbSession,
        now: Now,
        settings: AppSettings,
    ) -> AccountView:
        account = await service.authenticate(
            db_session,
            login=data.login.strip(),
            password=data.password,
            now=now,
            settings=settings,
            client_ip=request.client.host if request.client else None,
        )
        session = {SESSION_ACCOUNT: account.id, SESSION_ROLE: account.role.value}
        bind_csrf(request, session)
        request.set_session(session)
        return AccountView.of(
            await service.load_actor(
                db_session,
                account_id=account.id,
                version=(account.role.value, account.security_stamp),
            )
        )

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End the session")
    async def logout(self, request: Request) -> None:
        request.clear_session()

    @get("/me", guards=[allow(*ALL_ROLES)], summary="The logged-in account and its scope")
    async def me(self, actor: CurrentActor) -> AccountView:
        return AccountView.of(actor)


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class SitesChange(msgspec.Struct, forbid_unknown_fields=True):
    site_ids: Annotated[list[RecordId], msgspec.Meta(max_length=100)]


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(min_length=6, max_length=256)]


class AccountState(msgspec.Struct):
    account_id: int
    role: Role
    active: bool


class SessionView(msgspec.Struct):
    """A live session, without anything that would let a reader use it."""

    started_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_ip: str | None


class SessionsEnded(msgspec.Struct):
    ended: int


LOGIN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
Login = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=LOGIN)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=PRINTABLE)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    """A staff, kitchen, driver, operator or civil-affairs account."""

    login: Login
    display_name: Name
    role: Role
    password: Password
    site_ids: Annotated[list[RecordId], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )


class AccountListView(msgspec.Struct):
    id: int
    login: str
    display_name: str
    role: Role
    active: bool
    site_ids: list[int]

    @classmethod
    def of(cls, row: admin.AccountRow) -> AccountListView:
        a = row.account
        return cls(a.id, a.login, a.display_name, a.role, a.active, list(row.site_ids))


def _state(account: Account) -> AccountState:
    return AccountState(account_id=account.id, role=account.role, active=account.active)


class AccountAdminController(Controller):
    """The operator's changes to accounts; each one ends the account's sessions at once."""

    path = "/api/v1/accounts"
    tags = ["accounts"]  # noqa: RUF012
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Staff, kitchen, driver, operator and viewer accounts (paged)")
    async def index(
        self,
        actor: CurrentActor,
        db_session: DbSession,
        role: FromQuery[Role | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        active: FromQuery[bool | None] = None,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> OffsetPagination[AccountListView]:
        page = await admin.list_accounts(
            db_session, actor=actor, role=role, search=q, active=active, limit=limit, offset=offset
        )
        return OffsetPagination(
            items=[AccountListView.of(row) for row in page.items],
            limit=page.limit,
            offset=page.offset,
            total=page.total,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="Create an account; it can log in at once")
    async def create(
        self, data: JSONBody[NewAccount], actor: CurrentActor, db_session: DbSession, now: Now
    ) -> AccountListView:
        row = await admin.create_account(
            db_session,
            actor=actor,
            login=data.login,
            display_name=data.display_name.strip(),
            role=data.role,
            password=data.password,
            site_ids=data.site_ids,
            now=now,
        )
        return AccountListView.of(row)

    @post("/{account_id:int}/deactivate", status_code=HTTP_200_OK, summary="Deactivate")
    async def deactivate(
        self, account_id: PathId, actor: CurrentActor, db_session: DbSession, now: Now
    ) -> AccountState:
        return _state(
            await admin.deactivate(db_session, actor=actor, account_id=account_id, now=now)
        )

    @put("/{account_id:int}/role", summary="Change the account's role")
    async def change_role(
        self,
        account_id: PathId,
        data: JSONBody[RoleChange],
        actor: CurrentActor,
        db_session: DbSession,
        now: Now,
    ) -> AccountState:
        return _state(
            await admin.change_role(
                db_session, actor=actor, account_id=account_id, role=data.role, now=now
            )
        )

    @put("/{account_id:int}/sites", summary="Set the sites a staff account works at")
    async def set_sites(
        self,
        account_id: PathId,
        data: JSONBody[SitesChange],
        actor: CurrentActor,
        db_session: DbSession,
        now: Now,
    ) -> AccountState:
        return _state(
            await admin.set_sites(
                db_session, actor=actor, account_id=account_id, site_ids=data.site_ids, now=now
            )
        )

    @put("/{account_id:int}/password", summary="Reset the password or PIN")
    async def reset_password(
        self,
        account_id: PathId,
        data: JSONBody[PasswordReset],
        actor: CurrentActor,
        db_session: DbSession,
        now: Now,
    ) -> AccountState:
        return _state(
            await admin.reset_password(
                db_session, actor=actor, account_id=account_id, password=data.password, now=now
            )
        )

    @get("/{account_id:int}/sessions", summary="The account's live sessions")
    async def sessions(
        self, account_id: PathId, actor: CurrentActor, db_session: DbSession, now: Now
    ) -> list[SessionView]:
        rows = await service.account_sessions(
            db_session, actor=actor, account_id=account_id, now=now
        )
        return [
            SessionView(
                started_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                client_ip=row.client_ip,
            )
            for row in rows
        ]

    @delete("/{account_id:int}/sessions", status_code=HTTP_200_OK, summary="End its sessions")
    async def end_sessions(
        self, account_id: PathId, actor: CurrentActor, db_session: DbSession
    ) -> SessionsEnded:
        return SessionsEnded(
            ended=await service.end_sessions_of(db_session, actor=actor, account_id=account_id)
        )
