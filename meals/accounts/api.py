"""Login, logout and "who am I" for the JSON API; pages share the same cookie session."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from meals.accounts import service
from meals.web import (
    ALL_ROLES,
    SESSION_ACCOUNT,
    SESSION_ROLE,
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
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
        request.set_session({SESSION_ACCOUNT: account.id, SESSION_ROLE: account.role.value})
        return AccountView.of(await service.load_actor(db_session, account_id=account.id))

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End the session")
    async def logout(self, request: Request) -> None:
        request.clear_session()

    @get("/me", guards=[allow(*ALL_ROLES)], summary="The logged-in account and its scope")
    async def me(self, actor: CurrentActor) -> AccountView:
        return AccountView.of(actor)
