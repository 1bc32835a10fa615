"""A session on demand touches the database only when a rule needs it, and is closed after."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from meals.accounts.service import load_actor
from meals.db import create_engine, create_sessionmaker, reference_cache, session_on_demand
from meals.words import Role


@pytest.fixture
async def engine(settings):
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def checkouts(engine) -> list[object]:
    """Every connection the engine's pool hands out."""
    taken: list[object] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *args: taken.append(args))
    return taken


async def test_reading_the_reference_cache_takes_no_connection(engine, checkouts):
    sessions = create_sessionmaker(engine)
    async with session_on_demand(sessions) as session:
        first = await load_actor(session, account_id=1)  # a miss: read from the database
    assert len(checkouts) == 1
    assert reference_cache(session) is not None
    async with session_on_demand(sessions) as session:
        again = await load_actor(session, account_id=1)  # a hit
        assert not session.in_transaction()
    assert len(checkouts) == 1
    assert again == first
    assert first.role is Role.ADMIN


async def test_a_used_session_is_real_and_closed_at_the_end(engine, checkouts):
    async with session_on_demand(create_sessionmaker(engine)) as session:
        assert (await session.execute(select(1))).scalar_one() == 1
        assert session.in_transaction()
    assert len(checkouts) == 1
    assert engine.sync_engine.pool.checkedout() == 0
