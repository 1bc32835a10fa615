"""A session on demand touches the database only when a rule needs it, and is closed after."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from sqlalchemy import event, select

from meals.accounts.service import load_actor
from meals.bookings.service import load_meal_context
from meals.db import (
    cached_reference,
    create_engine,
    create_sessionmaker,
    reference_cache,
    session_on_demand,
)
from meals.errors import NotFound
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


async def _actor_in_own_session(sessions):
    async with session_on_demand(sessions) as session:
        return await load_actor(session, account_id=1)


async def test_an_entry_many_requests_want_at_once_is_read_once(engine, checkouts):
    sessions = create_sessionmaker(engine)

    actors = await asyncio.gather(*(_actor_in_own_session(sessions) for _ in range(20)))

    assert len(checkouts) == 1
    assert all(actor == actors[0] for actor in actors)


async def test_a_refusal_read_once_answers_every_request_waiting_for_it(engine, checkouts):
    sessions = create_sessionmaker(engine)

    async def missing_meal():
        async with session_on_demand(sessions) as session:
            try:
                return await load_meal_context(session, 999_999)
            except NotFound as refusal:
                return refusal

    answers = await asyncio.gather(*(missing_meal() for _ in range(5)))

    assert len(checkouts) == 1
    assert all(isinstance(answer, NotFound) for answer in answers)
    assert "999999" in str(answers[0])


async def test_requests_waiting_on_a_reader_that_went_away_read_it_themselves(engine):
    sessions = create_sessionmaker(engine)
    reading, reads = asyncio.Event(), []

    async def read(session):
        reads.append(session)
        if len(reads) == 1:  # the first reader never finishes: its request goes away
            await asyncio.Event().wait()
        reading.set()
        return len(reads)

    async def ask():
        async with session_on_demand(sessions) as session:
            return await cached_reference(session, "slow entry", partial(read, session))

    reader = asyncio.create_task(ask())
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(ask()) for _ in range(3)]
    await asyncio.sleep(0)
    assert len(reads) == 1 and not any(task.done() for task in waiting)
    reader.cancel()

    answers = await asyncio.gather(*waiting)

    assert reader.cancelled()
    assert answers == [2, 2, 2]  # one of them read it again, for all
