"""Schemathesis against the live service's own OpenAPI: no request, however odd, gets a 5xx."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.conftest import BACKENDS, NOW, TEST_SECRET, fresh_database
from tests.server import running_server

EXAMPLES_PER_OPERATION = 25
NEGATIVE_MINIMUM = 8  # operations that take parameters, fuzzed with invalid input


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with (
        fresh_database(request, request.param, folder) as url,
        running_server(url, folder, now=NOW, secret=TEST_SECRET) as base,
    ):
        yield base


@pytest.fixture(scope="module")
def admin_session(live_server: str) -> Iterator[requests.Session]:
    session = requests.Session()
    response = session.post(
        f"{live_server}/api/v1/auth/login", json={"login": "admin", "password": "warmmeal-admin"}
    )
    assert response.status_code == 200
    yield session
    session.close()


def test_no_server_errors(live_server: str, admin_session: requests.Session) -> None:
    """Every operation, with generated valid (positive) and invalid (negative) input, as admin."""
    schema = schemathesis.openapi.from_url(f"{live_server}/schema/openapi.json")
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
            response = case.call(session=admin_session)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
            )

        try:
            call()
        except Unsatisfiable:
            # No invalid input exists for an operation without parameters (e.g. /health).
            assert mode is GenerationMode.NEGATIVE
            continue
        fuzzed.add((operation.label, mode))
    assert len(fuzzed) >= len(operations) + NEGATIVE_MINIMUM
