"""A district with past days of outcomes (seed demo --history-days), for settlement tests."""

from __future__ import annotations

from datetime import datetime

import pytest

from meals.db import create_engine, create_sessionmaker, session_scope
from seed.history import seed_history
from tests.conftest import NOW, SEED, TODAY

# From 2026-09-30 to 2026-11-22: the whole of October, and November up to the test's today.
HISTORY_DAYS = 54


async def add_history(settings, now: datetime = NOW) -> None:
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await seed_history(session, seed=SEED, today=TODAY, days=HISTORY_DAYS, now=now)
    finally:
        await engine.dispose()


@pytest.fixture
async def history(settings) -> None:
    """The test's copy of the district, with its past days filled in."""
    await add_history(settings)
