"""Database plumbing: the declarative base, engines and sessions for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import asyncpg
import msgspec
from advanced_alchemy.base import convention
from cachetools import LRUCache, TTLCache
from sqlalchemy import Engine, Executable, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import greenlet_spawn

from meals.settings import Settings

WRITE_INTENT = "warmmeal_write_intent"
_REFERENCE_CACHES: weakref.WeakKeyDictionary[Engine, TTLCache] = weakref.WeakKeyDictionary()
_PROFILE_CACHES: weakref.WeakKeyDictionary[Engine, LRUCache] = weakref.WeakKeyDictionary()
_REFERENCE_LOADS: weakref.WeakKeyDictionary[Engine, dict[Hashable, asyncio.Future]] = (
    weakref.WeakKeyDictionary()
)
_WRITE_BATCHING: weakref.WeakKeyDictionary[Engine, WriteBatching] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class WriteBatching:
    """How a worker groups its busiest writes: statements in flight, and rows per statement."""

    writers: int
    rows: int


class Base(DeclarativeBase):
    """Base of every table; the naming convention keeps constraint names stable across databases."""

    metadata = MetaData(naming_convention=convention)


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine tuned per database, with its own cache of slowly changing reference data."""
    engine = _create_engine(settings)
    if settings.reference_cache_seconds > 0:
        _REFERENCE_CACHES[engine.sync_engine] = TTLCache(
            maxsize=settings.reference_cache_entries, ttl=settings.reference_cache_seconds
        )
    if settings.profile_cache_entries > 0:
        _PROFILE_CACHES[engine.sync_engine] = LRUCache(maxsize=settings.profile_cache_entries)
    if engine.dialect.name == "postgresql" and settings.booking_batch_writers > 0:
        _WRITE_BATCHING[engine.sync_engine] = WriteBatching(
            writers=settings.booking_batch_writers, rows=max(1, settings.booking_batch_rows)
        )
    return engine


def reference_cache(session: AsyncSession) -> TTLCache | None:
    """Per-engine cache for data read on every booking but changed rarely (menus, policy, scopes).

    Entries live `reference_cache_seconds`; counters that guard capacity are never cached.
    """
    return _REFERENCE_CACHES.get(session.get_bind())


def forget_references(session: AsyncSession) -> None:
    """Drop this worker's cached reference data at once, after a change bookings must see now
    (a site closed): other workers see it within `reference_cache_seconds`."""
    cache = reference_cache(session)
    if cache is not None:
        cache.clear()


Loaded = TypeVar("Loaded")
_NOT_CACHED = object()


class _LoadAbandoned(Exception):
    """The request reading a reference entry went away before it had it: read it yourself."""


async def cached_reference(
    session: AsyncSession, key: Hashable, load: Callable[[], Awaitable[Loaded]]
) -> Loaded:
    """`load()`'s result for `key`, from the engine's reference cache, read once however many ask.

    When an entry expires, every request in flight wants it at the same moment: one reads it and
    the others wait for that read, instead of each taking a database connection for the same
    rows (which pushed a busy worker past its pool). A refusal the read raises (say, no such set
    meal) is every waiting request's answer too.
    """
    cache = reference_cache(session)
    if cache is None:
        return await load()
    while True:
        cached = cache.get(key, _NOT_CACHED)
        if cached is not _NOT_CACHED:
            return cached
        loads = _REFERENCE_LOADS.setdefault(session.get_bind(), {})
        loop = asyncio.get_running_loop()
        pending = loads.get(key)
        if pending is None or pending.get_loop() is not loop:
            break
        try:
            return await asyncio.shield(pending)
        except _LoadAbandoned:
            continue
    loading = loads[key] = loop.create_future()
    loading.add_done_callback(_retrieve)
    try:
        value = await load()
    except Exception as error:
        loading.set_exception(error)
        raise
    except BaseException:
        loading.set_exception(_LoadAbandoned())
        raise
    else:
        cache[key] = value
        loading.set_result(value)
        return value
    finally:
        if loads.get(key) is loading:
            del loads[key]


def _retrieve(loading: asyncio.Future) -> None:
    """Marks a failed read as seen, so asyncio does not warn when nobody was waiting for it."""
    if not loading.cancelled():
        loading.exception()


def profile_cache(engine: AsyncEngine) -> LRUCache | None:
    """Per-engine memory of rows that carry a version their writer re-checks (seniors' profiles).

    Never trusted on its own: a write made from a remembered row names the version it saw and
    does nothing if the row has changed since, so the caller reads it again and starts over.
    """
    return _PROFILE_CACHES.get(engine.sync_engine)


def write_batching(engine: AsyncEngine) -> WriteBatching | None:
    """Whether (and how) this engine's writers send concurrent writes together; None: one by one."""
    return _WRITE_BATCHING.get(engine.sync_engine)


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns (price breakdowns, diet tags) go through msgspec: a fraction of the json
# module's cost on the booking path.
_JSON_CODEC = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def _create_engine(settings: Settings) -> AsyncEngine:
    """SQLite gets one connection, WAL and a busy timeout; PostgreSQL a pool."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=settings.sqlite_busy_timeout_ms / 1000,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
            **_JSON_CODEC,
        )
        _configure_sqlite(engine, settings)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        **_JSON_CODEC,
    )


def _configure_sqlite(engine: AsyncEngine, settings: Settings) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (see _on_begin) instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that will write takes the write lock at BEGIN, so a read-then-write
        # never fails on lock upgrade; reads stay deferred and never block under WAL.
        immediate = connection.get_execution_options().get(WRITE_INTENT, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def begin_write(session: AsyncSession) -> None:
    """Start the session's transaction as a writing one (SQLite: BEGIN IMMEDIATE).

    Call before the first statement of a read-then-write service; a read-only
    transaction already open (e.g. loading the caller's scope) is ended first.
    PostgreSQL needs nothing: its row locks and the guarded UPDATEs suffice.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        await session.commit()
    await session.connection(execution_options={WRITE_INTENT: True})


def writes_in_one_statement(session: AsyncSession) -> bool:
    """Whether the database runs several writes as one statement (PostgreSQL's writing CTEs)."""
    return session.get_bind().dialect.name == "postgresql"


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled PostgreSQL connection's own asyncpg connection, outside any transaction.

    For statements that are atomic on their own (see `DriverStatement`). A connection left
    mid-operation (a cancelled request) is discarded, not returned to the pool.
    """
    pooled = await engine.raw_connection()
    try:
        yield pooled.driver_connection
    except BaseException as error:
        if not isinstance(error, asyncpg.PostgresError):  # else the connection is fine
            await greenlet_spawn(pooled.invalidate)
        raise
    finally:
        await greenlet_spawn(pooled.close)


class DriverStatement:
    """A SQLAlchemy statement compiled once and run straight on the driver connection.

    SQLAlchemy still writes the SQL and converts the values; only its per-execution work is
    skipped. Used where that work costs more than the database does (taking a booking).
    """

    def __init__(self, build: Callable[[], Executable]) -> None:
        # Built on first use, once every model is mapped (a foreign key's type is known then).
        self._build = build
        self._compiled: dict[str, tuple[str, list[tuple[str, Any, Any]]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, list[tuple[str, Any, Any]]]:
        if dialect.name not in self._compiled:
            compiled = self._build().compile(dialect=dialect)
            binds = compiled.binds
            self._compiled[dialect.name] = (
                str(compiled),
                [
                    (name, compiled.params.get(name), binds[name].type.bind_processor(dialect))
                    for name in compiled.positiontup or ()
                ],
            )
        return self._compiled[dialect.name]

    def arguments(self, dialect: Dialect, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its positional arguments for `values` (missing ones take their default)."""
        sql, parameters = self._for(dialect)
        arguments = []
        for name, default, process in parameters:
            value = values.get(name, default)
            arguments.append(process(value) if process is not None and value is not None else value)
        return sql, arguments

    async def fetchrow(self, engine: AsyncEngine, driver: Any, values: dict[str, Any]) -> Any:
        sql, arguments = self.arguments(engine.dialect, values)
        return await driver.fetchrow(sql, *arguments)

    async def fetch(self, engine: AsyncEngine, driver: Any, values: dict[str, Any]) -> list[Any]:
        sql, arguments = self.arguments(engine.dialect, values)
        return await driver.fetch(sql, *arguments)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class _SessionOnDemand:
    """Stands in for an AsyncSession and creates the real one only when something uses it.

    Knows its engine without one, which is all that reading the reference cache needs.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None

    @property
    def bind(self) -> AsyncEngine:
        return self._sessionmaker.kw["bind"]

    def get_bind(self) -> Engine:
        return self.bind.sync_engine

    def in_transaction(self) -> bool:
        return self._session is not None and self._session.in_transaction()

    def __getattr__(self, name: str) -> Any:
        if self._session is None:
            self._session = self._sessionmaker()
        return getattr(self._session, name)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


@asynccontextmanager
async def session_on_demand(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session created only if used, closed at the end.

    For the busiest requests (who is calling, taking a booking), which mostly read the
    reference cache and write through the driver: creating and closing an ORM session for
    each of them cost more than their rules.
    """
    lazy = _SessionOnDemand(sessionmaker)
    try:
        yield cast(AsyncSession, lazy)
    finally:
        await lazy.close()


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on any error (CLI and seed use it)."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
