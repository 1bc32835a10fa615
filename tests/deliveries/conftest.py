"""Delivery-day fixtures: the demo district with today's lunches booked, a quick solver."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from meals.settings import Settings
from tests.conftest import settings_for
from tests.meals.helpers import Sessions
from tests.production.conftest import book_lunches

TEST_SOLVER_SECONDS = 1.0
TEST_LAST_MILE_SOLVER_SECONDS = 0.05


def quick(settings: Settings, **changes: object) -> Settings:
    """Short solver time limits, so the delivery tests stay fast."""
    return dataclasses.replace(
        settings,
        delivery_solver_seconds=TEST_SOLVER_SECONDS,
        last_mile_solver_seconds=TEST_LAST_MILE_SOLVER_SECONDS,
        **changes,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick(settings_for(database_url, tmp_path))


@pytest.fixture
async def lunches(db: Sessions) -> int:
    """Today's lunch bookings on the demo district; returns how many."""
    return await book_lunches(db)
