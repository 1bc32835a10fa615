"""Login sessions kept in the service's database, on Litestar's server-side session backend.

The cookie carries only a random id; the session row (its SHA-256, the account, when it began
and was last used) lives in `web_sessions`. So ending a session takes effect on the very next
request in every worker: logout deletes the row, and deactivation or a change of role, sites or
PIN deletes all the account's rows (`end_account_sessions`). The account's current role and
security stamp are read with the row, in the same statement, on every request: a guard never
trusts a role remembered from login.

A session ends after `session_idle_timeout` unused and `session_absolute_lifetime` after login
at most. An unchanged session is neither written back nor re-sent as a cookie; its last use is
written at most every `session_touch_interval`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, Scope, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from meals.accounts.models import Account, WebSession
from meals.clock import Clock
from meals.words import Role

SESSION_ACCOUNT = "account_id"
SESSION_ROLE = "role"
SESSION_ID_BYTES = 32
SESSION_ID_PATTERN = re.compile(rf"^[0-9a-f]{{{SESSION_ID_BYTES * 2}}}$")
STORE_NAME = "web_sessions"
_LOADED = "warmmeal.session"


@dataclass(frozen=True, slots=True)
class SessionAccount:
    """The account a session belongs to, as the database holds it at this request."""

    account_id: int
    role: Role
    security_stamp: int


@dataclass(frozen=True, slots=True)
class _Loaded:
    id_hash: str
    data: dict[str, Any]
    account: SessionAccount | None


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class DatabaseSessionStore(Store):
    """Litestar's `Store` over the `web_sessions` table, plus what sessions need beyond it.

    Keys are session ids (stored hashed); values the backend's serialised session. `set`
    takes the account from the value's `account_id`.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        idle_timeout: timedelta,
        absolute_lifetime: timedelta,
        touch_interval: timedelta,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.absolute_lifetime = absolute_lifetime
        self.touch_interval = touch_interval

    def _live(self, now: datetime) -> tuple[Any, ...]:
        return (
            WebSession.expires_at > now,
            WebSession.created_at > now - self.absolute_lifetime,
        )

    async def load(self, session_id: str) -> tuple[bytes, SessionAccount | None] | None:
        """The session's data and its account (None if the session is anonymous), or None
        when the session has ended or its account was deactivated. One round trip, plus a
        write of its last use at most every `touch_interval`."""
        now = self.clock.now()
        key = id_hash(session_id)
        query = (
            select(
                WebSession.data,
                WebSession.account_id,
                WebSession.created_at,
                WebSession.last_seen_at,
                Account.role,
                Account.active,
                Account.security_stamp,
            )
            .outerjoin(Account, Account.id == WebSession.account_id)
            .where(WebSession.id_hash == key, *self._live(now))
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
            if row is None:
                return None
            if row.account_id is not None and not row.active:
                return None
            if now - row.last_seen_at >= self.touch_interval:
                await connection.execute(
                    update(WebSession)
                    .where(WebSession.id_hash == key)
                    .values(last_seen_at=now, expires_at=self._expiry(now, row.created_at))
                )
                await connection.commit()
        account = (
            SessionAccount(row.account_id, Role(row.role), row.security_stamp)
            if row.account_id is not None
            else None
        )
        return row.data, account

    def _expiry(self, now: datetime, created_at: datetime) -> datetime:
        return min(now + self.idle_timeout, created_at + self.absolute_lifetime)

    async def save(
        self, session_id: str, value: bytes, *, account_id: int | None, client_ip: str | None
    ) -> None:
        """Create or replace a session (a new one starts its absolute lifetime now)."""
        now = self.clock.now()
        values = {
            "id_hash": id_hash(session_id),
            "account_id": account_id,
            "data": value,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": now + min(self.idle_timeout, self.absolute_lifetime),
            "client_ip": client_ip,
        }
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(WebSession).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[WebSession.id_hash],
            set_={"data": statement.excluded.data, "account_id": statement.excluded.account_id},
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        raw = value.encode() if isinstance(value, str) else value
        account_id = msgspec.json.decode(raw).get(SESSION_ACCOUNT) if raw else None
        await self.save(key, raw, account_id=account_id, client_ip=None)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        loaded = await self.load(key)
        return loaded[0] if loaded else None

    async def delete(self, key: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(WebSession).where(WebSession.id_hash == id_hash(key)))

    async def delete_all(self) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(WebSession))

    async def delete_expired(self) -> None:
        """Forget sessions that have ended (called at each login, so the table stays small)."""
        now = self.clock.now()
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(WebSession).where(
                    (WebSession.expires_at <= now)
                    | (WebSession.created_at <= now - self.absolute_lifetime)
                )
            )

    async def exists(self, key: str) -> bool:
        return await self.load(key) is not None

    async def expires_in(self, key: str) -> int | None:
        now = self.clock.now()
        async with self.engine.connect() as connection:
            expires_at = await connection.scalar(
                select(func.min(WebSession.expires_at)).where(
                    WebSession.id_hash == id_hash(key), *self._live(now)
                )
            )
        return int((expires_at - now).total_seconds()) if expires_at else None


class DatabaseSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, for sessions whose account is re-read every request.

    Beyond the stock backend: a cookie that is not a well-formed id, or names no live session,
    is simply no session (never an error); a session is given a fresh id whenever it is bound
    to another account (login), so an id planted before login is worthless; and an unchanged
    session is not written back.
    """

    config: DatabaseSessionConfig

    def _store(self, connection: ASGIConnection) -> DatabaseSessionStore:
        store = self.config.get_store_from_app(connection.scope["app"])
        assert isinstance(store, DatabaseSessionStore)
        return store

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key, "")
        if not SESSION_ID_PATTERN.match(session_id):
            return {}
        loaded = await self._store(connection).load(session_id)
        if loaded is None:
            return {}
        raw, account = loaded
        data = self.deserialize_data(raw)
        if account is not None:
            data[SESSION_ACCOUNT] = account.account_id
            data[SESSION_ROLE] = account.role.value
        connection.scope[_LOADED] = _Loaded(id_hash(session_id), dict(data), account)  # type: ignore[literal-required]
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        loaded: _Loaded | None = connection.scope.get(_LOADED)  # type: ignore[assignment]
        if loaded is not None and scope_session == loaded.data:
            return
        store = self._store(connection)
        if self.config.release_request_connection is not None:
            await self.config.release_request_connection(connection.scope)
        headers = MutableScopeHeaders.from_message(message)
        params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        session_id = connection.cookies.get(self.config.key, "")
        if scope_session is Empty or not scope_session:
            if loaded is not None:
                await store.delete(session_id)
            if loaded is not None or session_id:
                headers.add(
                    "Set-Cookie",
                    Cookie(value="null", key=self.config.key, expires=0, **params).to_header(
                        header=""
                    ),
                )
            return
        data = {k: v for k, v in scope_session.items() if k != SESSION_ROLE}
        account_id = data.get(SESSION_ACCOUNT)
        previous = loaded.account.account_id if loaded and loaded.account else None
        if loaded is None or account_id != previous:
            if loaded is not None:
                await store.delete(session_id)
            if account_id is not None:
                await store.delete_expired()
            session_id = secrets.token_hex(SESSION_ID_BYTES)
            client = connection.client
            await store.save(
                session_id,
                self.serialize_data(data, connection.scope),
                account_id=account_id,
                client_ip=client.host if client else None,
            )
            headers.add(
                "Set-Cookie",
                Cookie(value=session_id, key=self.config.key, **params).to_header(header=""),
            )
            return
        await store.save(
            session_id,
            self.serialize_data(data, connection.scope),
            account_id=account_id,
            client_ip=None,
        )


def session_account(connection: ASGIConnection) -> SessionAccount | None:
    """The account of this request's session, as read from the database for this request."""
    loaded: _Loaded | None = connection.scope.get(_LOADED)  # type: ignore[assignment]
    return loaded.account if loaded else None


@dataclass
class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = DatabaseSessionBackend  # type: ignore[assignment]

    store: str = STORE_NAME
    session_id_bytes: int = field(default=SESSION_ID_BYTES)
    release_request_connection: Callable[[Scope], Awaitable[None]] | None = None
    """Gives back the request's own database connection before the session is written (the
    handler is done; on SQLite the worker has only one connection)."""
