"""The driver connection used for bookings on PostgreSQL goes back to the pool in good order."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import select

from meals.db import DriverStatement, create_engine, driver_connection
from meals.seniors.models import Senior


@pytest.fixture
async def engine(settings):
    if settings.is_sqlite:
        pytest.skip("the driver connection is PostgreSQL's (SQLite bookings use the session)")
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


FIRST_SENIOR = DriverStatement(
    lambda: select(Senior.id, Senior.categories).order_by(Senior.id).limit(1)
)


async def test_a_statement_runs_outside_any_transaction_with_sqlalchemy_types(engine):
    async with driver_connection(engine) as driver:
        row = await FIRST_SENIOR.fetchrow(engine, driver, {})
        assert not driver.is_in_transaction()
    senior_id, categories = row
    assert senior_id == 1
    assert isinstance(categories, list)  # JSON decoded as SQLAlchemy's JSON type would


async def test_a_database_error_keeps_the_connection_and_other_errors_discard_it(engine):
    async with driver_connection(engine) as driver:
        kept = id(driver)
    with pytest.raises(asyncpg.UndefinedTableError):
        async with driver_connection(engine) as driver:
            assert id(driver) == kept
            await driver.execute("SELECT * FROM no_such_table")
    async with driver_connection(engine) as driver:
        assert id(driver) == kept  # the same connection came back, still usable
        assert await driver.fetchval("SELECT 1") == 1

    with pytest.raises(asyncio.CancelledError):
        async with driver_connection(engine) as driver:
            raise asyncio.CancelledError  # e.g. the client went away mid-request
    assert driver.is_closed()
    async with driver_connection(engine) as fresh:
        assert id(fresh) != kept
        assert await fresh.fetchval("SELECT 1") == 1
    assert engine.pool.checkedout() == 0
