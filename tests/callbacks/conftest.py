"""Callback tests use the district with past days of outcomes, as settlement's do."""

from tests.settlement.conftest import database_url, history  # noqa: F401
