"""Property-based fuzzing of every operation in the OpenAPI schema: no input gives a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.app import create_app
from tests.service.conftest import ADMIN, LiveServer, make_settings

EXAMPLES_PER_OPERATION = 25


def _fuzz(operation, mode: GenerationMode, statuses: dict[str, set[int]]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case):
        # Admin credentials too, so that admin operations get past the token check.
        response = case.call(headers=ADMIN, timeout=30)
        statuses.setdefault(operation.label, set()).add(response.status_code)
        checks = [not_a_server_error]
        if response.status_code < 300:
            checks.append(response_schema_conformance)
        case.validate_response(response, checks=checks)

    call()


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"]
)
def test_no_generated_request_gives_a_server_error(database_url, bundle_root, bundle_v1, mode):
    app = create_app(make_settings(database_url, bundle_root), bootstrap_bundle=bundle_v1)
    statuses: dict[str, set[int]] = {}
    with LiveServer(app) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        fuzzed = 0
        for operation in operations:
            has_input = operation.body or operation.path_parameters or operation.query
            if mode is GenerationMode.POSITIVE or has_input:  # no invalid form of no input
                _fuzz(operation, mode, statuses)
                fuzzed += 1

    print(f"\n{mode.value}: " + "; ".join(f"{k} {sorted(v)}" for k, v in sorted(statuses.items())))
    assert len(statuses) == fuzzed >= 7
    assert all(code < 500 for codes in statuses.values() for code in codes)
