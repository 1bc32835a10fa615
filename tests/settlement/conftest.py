"""Settlement tests run on a copy of the district with past days of outcomes (seed demo
--history-days), made once per session (see `history_database` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(history_database: str) -> str:
    return history_database


@pytest.fixture
def history(database_url: str) -> None:
    """The test's copy of the district has its past days filled in (it was copied so)."""
