"""Shared fixtures: a migrated, seeded database per test on SQLite and (when configured) PostgreSQL.

Set WARMMEAL_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) to run
every database test on PostgreSQL too; without it those cases skip with that reason.

Each test gets a fresh copy of a template seeded once per session (and per pytest-xdist worker:
every worker has its own temporary folder, and every PostgreSQL database a test makes has a
name of its own). Settlement and callback tests copy a second
template with past days of outcomes added (`history_database`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals import migrate
from meals.app import create_app
from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.jobs.queue import ensure_schema
from meals.settings import Settings
from seed import demo

PG_ENV = "WARMMEAL_TEST_DATABASE_URL"
# A fixed but random-looking secret: the service refuses guessable ones (see check_secret).
TEST_SECRET = "3953bb993fd97170ee5de2884416d39ef684b2c5038d08148615ac65d9a202ba"
TODAY = date(2026, 11, 23)  # a Monday
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=SHANGHAI)
SEED = 7
TEST_SENIORS = 150
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def settings_for(url: str, var_dir: Path) -> Settings:
    return Settings(database_url=url, secret_key=TEST_SECRET, var_dir=var_dir, secure_cookies=False)


async def _seed(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await demo.seed_demo(
                session, seed=SEED, seniors=TEST_SENIORS, today=TODAY, now=NOW, menu_days=7
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    settings = settings_for(f"sqlite+aiosqlite:///{path}", folder)
    migrate.upgrade(settings)
    asyncio.run(_seed(settings))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL half skipped: set {PG_ENV} to run it")
    return url


def _asyncpg_dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url, make_url(url).database or "postgres"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    base = _pg_url()
    name = f"warmmeal_tpl_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    settings = settings_for(url, tmp_path_factory.mktemp("pg-template"))
    migrate.upgrade(settings)
    asyncio.run(ensure_schema(settings))  # the job queue's tables: pages defer to it
    asyncio.run(_seed(settings))
    yield base, name
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _add_history(settings: Settings) -> None:
    from seed.history import seed_history

    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await seed_history(session, seed=SEED, today=TODAY, days=HISTORY_DAYS, now=NOW)
    finally:
        await engine.dispose()


# From 2026-09-30 to 2026-11-22: the whole of October, and November up to the tests' today.
HISTORY_DAYS = 54


@pytest.fixture(scope="session")
def sqlite_history_template(sqlite_template: Path, tmp_path_factory) -> Path:
    """The seeded district with its past days filled in (seed demo --history-days)."""
    folder = tmp_path_factory.mktemp("sqlite-history")
    path = folder / "history.sqlite3"
    shutil.copyfile(sqlite_template, path)
    asyncio.run(_add_history(settings_for(f"sqlite+aiosqlite:///{path}", folder)))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def pg_history_template(
    pg_template: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    base, template_name = pg_template
    name = f"warmmeal_hist_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_add_history(settings_for(url, tmp_path_factory.mktemp("pg-history"))))
    yield base, name
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def fresh_database(
    request: pytest.FixtureRequest, backend: str, folder: Path, *, history: bool = False
) -> Iterator[str]:
    """A fresh copy of the seeded demo district on `backend` (with `history`, its past days
    filled in too); dropped afterwards."""
    suffix = "_history_template" if history else "_template"
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite" + suffix)
        path = folder / "warmmeal.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    base, template_name = request.getfixturevalue("pg" + suffix)
    name = f"warmmeal_t_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded demo district for one test."""
    with fresh_database(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def history_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the district with its past days of outcomes, for one test (settlement
    and callback tests use it as their `database_url`)."""
    with fresh_database(request, request.param, tmp_path, history=True) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions for arranging and checking data; keep each one short (SQLite has one writer)."""
    engine = create_engine(settings)
    yield create_sessionmaker(engine)
    await engine.dispose()
