"""Schemathesis against the live service's own OpenAPI, logged in as each role: no request,
however odd, gets a 5xx, and every answer has a status and a body the document describes."""

from __future__ import annotations

import asyncio
import contextlib
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
REFUSED = {401, 403}
# Fuzzed once, without a login (last): fuzzed as a role they would end its session or make its
# address wait before it could log in again.
AUTH_OPERATIONS = {"POST /api/v1/auth/login", "POST /api/v1/auth/logout"}


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
            sessions[role] = requests.Session()
            _log_in(base, sessions[role], logins[role], role)
        yield base, sessions, logins
        for session in sessions.values():
            session.close()


def _log_in(base: str, session: requests.Session, login: str, role: Role) -> None:
    response = session.post(
        f"{base}/api/v1/auth/login",
        json={"login": login, "password": DEMO_PASSWORDS[DEMO_SECRET_OF_ROLE[role]]},
    )
    assert response.status_code == 200, f"{role} could not log in again: {response.text}"


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
    """Every operation, with generated valid (positive) and invalid (negative) input.

    An operation the role may not call at all (its first call is refused with 401/403) gets
    no more examples: the refusal comes before the input is read, so more would test nothing.
    """
    base, sessions, logins = live_server
    session = sessions[role]
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if operation.label not in AUTH_OPERATIONS
    ]
    assert len(operations) >= 10
    fuzzed: set[tuple[str, GenerationMode]] = set()
    callable_by_role = 0
    for operation, mode in itertools.product(operations, GenerationMode):
        # A generated call may end the role's own session (the operator's "end this account's
        # sessions" on its own id): log in again, or the rest would be fuzzed as a stranger.
        if session.get(f"{base}/api/v1/auth/me").status_code == 401:
            _log_in(base, session, logins[role], role)
        try:
            first = _fuzz(operation, mode, session, examples=1)
            if not first <= REFUSED:
                callable_by_role += 1
                _fuzz(operation, mode, session, examples=EXAMPLES_PER_OPERATION - 1)
        except Unsatisfiable:
            # No invalid input exists for an operation without parameters (e.g. /health).
            assert mode is GenerationMode.NEGATIVE
            continue
        fuzzed.add((operation.label, mode))
    assert len(fuzzed) >= len(operations) + NEGATIVE_MINIMUM
    assert callable_by_role >= 2  # every role can call its own part of the API


def test_logging_in_and_out_with_any_input_never_errors(live_server) -> None:
    base, _sessions, _logins = live_server
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if operation.label in AUTH_OPERATIONS
    ]
    assert len(operations) == len(AUTH_OPERATIONS)
    with requests.Session() as stranger:
        for operation, mode in itertools.product(operations, GenerationMode):
            with contextlib.suppress(Unsatisfiable):  # logout takes no input to get wrong
                _fuzz(operation, mode, stranger, examples=EXAMPLES_PER_OPERATION)


def _fuzz(operation, mode: GenerationMode, session: requests.Session, examples: int) -> set[int]:
    """Call `operation` with `examples` generated cases, checking each; the statuses seen."""
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case) -> None:
        statuses.add(case.call_and_validate(session=session, checks=CHECKS).status_code)

    call()
    return statuses
