"""Generated requests against every operation of the OpenAPI document, with valid tokens.

For each operation schemathesis generates requests from the document; each is sent once as
generated and once with the path pointing at a record the token's user may see. Every reply
must be free of server errors and conform to the document (status, content type, body).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kratomwatch.api.auth import create_token
from kratomwatch.clinic.models import TokenScope

from .conftest import Triangle

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[WSGIHandler]:
    """Django's WSGI app, without closing the test's database connection after each request
    (as Django's own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_survives_generated_requests(
    tri: Triangle, wsgi_in_test_transaction: WSGIHandler, settings: Any
) -> None:
    settings.KRATOMWATCH_API_RATE_LIMIT = 100_000
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_in_test_transaction)
    clinician = create_token(tri.clinician, "fuzz", scope=TokenScope.WRITE).secret
    patient = create_token(tri.patient.user, "fuzz", scope=TokenScope.WRITE).secret
    real = {"patient_uuid": str(tri.patient.uuid), "finding_uuid": str(tri.finding.uuid)}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    seen: set[tuple[str, int]] = set()
    for operation in operations:
        is_dose_post = operation.method.upper() == "POST" and "doses" in operation.path
        fuzz(operation, patient if is_dose_post else clinician, real, seen)
    # The requests reached the operations, not only the authentication in front of them.
    assert {status for _, status in seen} >= {200, 404, 422}
    assert all(status < 500 for _, status in seen)


def fuzz(operation: Any, secret: str, real: dict[str, str], seen: set[tuple[str, int]]) -> None:
    headers = {"Authorization": f"Bearer {secret}"}

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen.add((operation.label, response.status_code))
        if case.path_parameters:
            case.path_parameters = {k: real.get(k, v) for k, v in case.path_parameters.items()}
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            seen.add((operation.label, response.status_code))

    run()
