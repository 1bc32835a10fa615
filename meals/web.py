"""HTTP plumbing shared by every area: role guards, the actor and clock dependencies, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from advanced_alchemy.exceptions import RepositoryError
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter, QueryParameter
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from msgspec import Meta
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor, load_actor
from meals.accounts.sessions import SESSION_ROLE, session_account
from meals.db import session_on_demand
from meals.errors import DomainError
from meals.settings import Settings
from meals.words import Role

MAX_DB_INT = 2_147_483_647
MAX_PAGE = 500
RecordId = Annotated[int, Meta(ge=1, le=MAX_DB_INT)]
PathId = Annotated[int, PathParameter(ge=1, le=MAX_DB_INT)]
QueryId = Annotated[int, QueryParameter(ge=1, le=MAX_DB_INT)]
OptionalQueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_DB_INT)]
PageLimit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
PageOffset = Annotated[int, QueryParameter(ge=0, le=MAX_DB_INT)]
MonthPath = Annotated[str, PathParameter(description="The month, YYYY-MM", max_length=7)]
MonthQuery = Annotated[str | None, QueryParameter(name="month", max_length=7)]
DbSession = NamedDependency[AsyncSession]
CurrentActor = NamedDependency[Actor]
Now = NamedDependency[datetime]
AppSettings = NamedDependency[Settings]
DATA_EXCEPTION_CLASS = "22"  # SQLSTATE class: data exception
TRANSACTION_ROLLBACK_CLASS = "40"  # SQLSTATE class: deadlock, serialization failure

ALL_ROLES = tuple(Role)
BOOKERS = (Role.SENIOR, Role.FAMILY, Role.SITE_STAFF, Role.ADMIN)
STAFF_AND_ADMIN = (Role.SITE_STAFF, Role.ADMIN)


def allow(*roles: Role) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    """A guard admitting only logged-in accounts with one of `roles` (stated on every route).

    The role is the account's as the database holds it at this request (the session backend
    reads it with the session row), never one remembered from login. A coroutine, because
    Litestar runs a plain-function guard in a worker thread.
    """
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        session = connection.scope.get("session") or {}
        role = session.get(SESSION_ROLE)
        if role is None:
            raise NotAuthorizedException("Please log in first.")
        if Role(role) not in allowed:
            raise PermissionDeniedException(f"Your account ({role}) may not use this.")

    guard.roles = allowed  # type: ignore[attr-defined]
    return guard


async def provide_actor(request: Request, state: State) -> Actor:
    """The logged-in account's actor, from the reference cache when it is there (no session).

    Remembered under the account's current role and security stamp, so a change of role,
    sites or bindings is never answered from what was remembered before it.
    """
    account = session_account(request)
    if account is None:
        raise NotAuthorizedException("Please log in first.")
    async with session_on_demand(state.sessionmaker) as session:
        return await load_actor(
            session,
            account_id=account.account_id,
            version=(account.role.value, account.security_stamp),
        )


def provide_now(state: State) -> datetime:
    return state.clock.now()


def provide_settings(state: State) -> Settings:
    return state.settings


def domain_error_handler(_request: Request, exc: DomainError) -> Response[dict[str, Any]]:
    """Every refusal is JSON with a stable code and a sentence a person can act on."""
    return Response(
        {"status_code": exc.status_code, "code": exc.code, "detail": exc.text},
        status_code=exc.status_code,
    )


def is_unstorable_value(exc: DBAPIError) -> bool:
    """The database refused a value itself (SQLSTATE class 22, e.g. NUL in text): the
    caller's input to correct, not a fault of the service."""
    return isinstance(exc, DataError) or _sqlstate(exc).startswith(DATA_EXCEPTION_CLASS)


def is_transient_conflict(exc: DBAPIError) -> bool:
    """The database undid the work because of a simultaneous change (deadlock, serialization):
    nothing was saved, and the same request will most likely succeed if sent again."""
    return _sqlstate(exc).startswith(TRANSACTION_ROLLBACK_CLASS)


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", "") or "")


def repository_error_handler(request: Request, exc: RepositoryError) -> Response[dict[str, Any]]:
    """advanced-alchemy's services wrap the database's error in their own: answer as for the
    database's (a NUL in a search is a 400 whichever way the list was read)."""
    cause = exc.__cause__
    if isinstance(cause, DBAPIError):
        return data_error_handler(request, cause)
    request.logger.exception("repository error")
    return Response(
        {"status_code": HTTP_500_INTERNAL_SERVER_ERROR, "detail": "Internal Server Error"},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


def data_error_handler(request: Request, exc: DBAPIError) -> Response[dict[str, Any]]:
    """A value the database cannot store (SQLSTATE class 22, e.g. NUL in text) is a 400; a
    change undone because of a simultaneous one (class 40) is a 409 to retry.

    Any other database failure stays a 500, logged with its traceback.
    """
    if is_transient_conflict(exc):
        return Response(
            {
                "status_code": HTTP_409_CONFLICT,
                "code": "retry",
                "detail": "Someone changed the same data at the same moment and nothing was "
                "saved; please try again.",
            },
            status_code=HTTP_409_CONFLICT,
        )
    if is_unstorable_value(exc):
        return Response(
            {
                "status_code": HTTP_400_BAD_REQUEST,
                "code": "unstorable_value",
                "detail": "A value in the request cannot be stored (for example a NUL character "
                "in text); please correct it and try again.",
            },
            status_code=HTTP_400_BAD_REQUEST,
        )
    request.logger.exception("database error")
    return Response(
        {"status_code": HTTP_500_INTERNAL_SERVER_ERROR, "detail": "Internal Server Error"},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )
