"""Schemathesis against the live service's own OpenAPI, logged in as each role: no request,
however odd, gets a 5xx, and every answer has a status and a body the document describes."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from meals.accounts.models import Account
from meals.db import create_engine, create_sessionmaker
from meals.settings import Settings
from meals.words import Role
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW, PG_ENV, TEST_SECRET, fresh_database
from tests.meals.helpers import DEMO_SECRET_OF_ROLE
from tests.server import running_server

EXAMPLES_PER_OPERATION = 5
NEGATIVE_MINIMUM = 8  # operations that take parameters, fuzzed with invalid input


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# The operator last: its generated calls may deactivate or demote the other accounts.
ROLES = [Role.SENIOR, Role.FAMILY, Role.SITE_STAFF, Role.KITCHEN, Role.DRIVER, Role.ADMIN]


def _one_backend() -> str:
    """One pass per role is enough: on PostgreSQL (what a deployment runs) when the suite has
    it, else on SQLite. The API and its document are the same on both."""
    return "postgresql" if os.environ.get(PG_ENV) else "sqlite"


@pytest.fixture(scope="module")
def live_server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[tuple[str, dict]]:
    backend = _one_backend()
    folder = tmp_path_factory.mktemp(f"fuzz-{backend}")
    with (
        fresh_database(request, backend, folder) as url,
        running_server(url, folder, now=NOW, secret=TEST_SECRET) as base,
    ):
        logins = asyncio.run(_logins(url))
        sessions = {}
        # Every role logs in before any fuzzing: the fuzzed logins soon make this address wait.
        for role in ROLES:
            session = sessions[role] = requests.Session()
            response = session.post(
                f"{base}/api/v1/auth/login",
                json={"login": logins[role], "password": DEMO_PASSWORDS[DEMO_SECRET_OF_ROLE[role]]},
            )
            assert response.status_code == 200, response.text
        yield base, sessions
        for session in sessions.values():
            session.close()


async def _logins(url: str) -> dict[Role, str]:
    """One demo login per role, read before the fuzzing changes anything."""
    engine = create_engine(Settings(database_url=url, secret_key=TEST_SECRET))
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Account.role, func.min(Account.login))
                .where(Account.active)
                .group_by(Account.role)
            )
            return {Role(role): login for role, login in rows}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors_and_answers_as_documented(live_server, role: Role) -> None:
    """Every operation, with generated valid (positive) and invalid (negative) input."""
    base, sessions = live_server
    session = sessions[role]
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    fuzzed: set[tuple[str, GenerationMode]] = set()
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case) -> None:
            case.call_and_validate(session=session, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            # No invalid input exists for an operation without parameters (e.g. /health).
            assert mode is GenerationMode.NEGATIVE
            continue
        fuzzed.add((operation.label, mode))
    assert len(fuzzed) >= len(operations) + NEGATIVE_MINIMUM
