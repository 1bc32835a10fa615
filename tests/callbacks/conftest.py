"""Callback tests use the district with past days of outcomes, as settlement's do."""

from tests.settlement.conftest import history  # noqa: F401
