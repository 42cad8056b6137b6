"""Generated requests against every operation of the OpenAPI document, with valid tokens.

For each operation schemathesis generates requests from the document; each is sent once as
generated and once with the path pointing at a record the token's user may see. Every reply
must be free of server errors and conform to the document (status, content type, body).
A second property test sends each operation's parameters and fields, one at a time, with the
values that once caused server errors (tests/nasty.py): NUL and other control characters,
arbitrary Unicode, JSON numbers such as 1e400 or 300 digits. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kratomwatch.api import api
from kratomwatch.api.auth import create_token
from kratomwatch.clinic.models import TokenScope
from kratomwatch.domain.questionnaires import get_instrument
from kratomwatch.interop.fhir_instruments import questionnaire_id
from tests.nasty import CONTROL_TEXTS, NASTY, RAW_NUMBER_TEXTS, RAW_NUMBERS

from .conftest import Triangle
from .test_api_access import dose
from .test_api_checkins import RATINGS

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
    real = {
        "patient_uuid": str(tri.patient.uuid),
        "finding_uuid": str(tri.finding.uuid),
        "product_uuid": str(tri.product.uuid),
        "checkin_uuid": str(tri.checkin.uuid),
    }
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    seen: set[tuple[str, int]] = set()
    for operation in operations:
        is_patient_post = operation.method.upper() == "POST" and any(
            part in operation.path for part in PATIENT_PATHS
        )
        fuzz(operation, patient if is_patient_post else clinician, real, seen)
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


# The operations the patient posts to (clinicians post to the others).
PATIENT_PATHS = ("doses", "products", "symptoms", "checkins", "responses")

# A valid body for each request document: one field at a time is replaced by a nasty value.
VALID_BODIES: dict[str, Callable[[Triangle], dict[str, Any]]] = {
    "DoseIn": lambda t: dose(t),
    "LotIn": lambda t: {"lot_number": "A1", "unit": "mg/g", "mitragynine": "15"},
    "AcknowledgeIn": lambda t: {"reason": "Reviewed with the patient"},
    "ResponseIn": lambda t: {"instrument_id": "gad2", "answers": [0, 1]},
    "ProductIn": lambda t: {"name": "Green Malay", "form": "leaf_powder"},
    "SymptomIn": lambda t: {"symptom": "nausea", "severity": 2},
    "CheckInIn": lambda t: {
        "ratings": RATINGS,
        "doses": [dose(t)],
        "side_effects": {"nausea": 1},
        "red_flags": [],
        "note": "ok",
    },
    "ResultsIn": lambda t: {
        "taken_at": "2026-01-05T08:30:00+00:00",
        "values": [{"analyte": "alt", "value": "80", "unit": "U/L"}],
        "screens": [{"item": "cocaine", "outcome": "negative"}],
    },
}
# the patient records these; clinicians the rest
PATIENT_POSTS = {"DoseIn", "ResponseIn", "ProductIn", "SymptomIn", "CheckInIn", "LotIn"}


def nasty_json(value: str | None, raw: str | None, as_list: bool) -> str:
    """A JSON value: a string (as a one-item list for list fields), or a raw number."""
    if raw is not None:
        return raw
    return json.dumps([value] if as_list else value)


def test_every_operation_survives_control_characters_and_huge_numbers(
    tri: Triangle, client: Client, settings: Any
) -> None:
    """Every query parameter and body field of every operation, one at a time, gets NUL and
    other control characters, arbitrary Unicode, or numbers too large for any calculation
    (1e400, 300 digits) written into the JSON as they are: always an answer below 500."""
    settings.KRATOMWATCH_API_RATE_LIMIT = 100_000
    document = api.get_openapi_schema()
    components = document["components"]["schemas"]
    secrets = {
        "clinician": create_token(tri.clinician, "fuzz", scope=TokenScope.WRITE).secret,
        "patient": create_token(tri.patient.user, "fuzz", scope=TokenScope.WRITE).secret,
    }
    real = {
        "patient_uuid": str(tri.patient.uuid),
        "finding_uuid": str(tri.finding.uuid),
        "product_uuid": str(tri.product.uuid),
        "checkin_uuid": str(tri.checkin.uuid),
        "questionnaire_id": questionnaire_id("phq9", get_instrument("phq9").version),
    }
    keys = itertools.count()
    operations = 0
    for template, methods in document["paths"].items():
        path = template.format(**real)
        for method, operation in methods.items():
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            ref = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref", "")
            )
            body_name = ref.rsplit("/", 1)[-1]
            properties = components[body_name]["properties"] if body_name else {}
            targets = [("query", q) for q in query] + [("body", f) for f in properties]
            if not targets:
                continue
            operations += 1
            who = "patient" if body_name in PATIENT_POSTS else "clinician"
            headers = {"Authorization": f"Bearer {secrets[who]}"}
            arrays = {name for name, spec in properties.items() if spec.get("type") == "array"}
            fuzz_fields(client, tri, method, path, body_name, targets, arrays, headers, keys)
    assert operations >= 10


def fuzz_fields(
    client: Client,
    tri: Triangle,
    method: str,
    path: str,
    body_name: str,
    targets: list[tuple[str, str]],
    array_fields: set[str],
    headers: dict[str, str],
    keys: Iterator[int],
) -> None:
    """One operation: each of ``targets`` in turn gets every control character and huge
    number of tests/nasty.py, then hypothesis draws more (one target at a time)."""

    def send(target: tuple[str, str], value: str | None, raw: str | None) -> None:
        where, name = target
        if where == "query":
            response = client.get(path, {name: raw or value or ""}, headers=headers)
        else:
            body = VALID_BODIES[body_name](tri)
            body[name] = "__NASTY__"
            text = json.dumps(body).replace(
                '"__NASTY__"', nasty_json(value, raw, name in array_fields)
            )
            response = client.generic(
                method.upper(),
                path,
                text.encode("utf-8", "surrogatepass"),
                content_type="application/json",
                headers={**headers, "Idempotency-Key": f"fuzz-{next(keys)}"},
            )
        assert response.status_code < 500, (target, value, raw, response.content)
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"

    for target in targets:
        for raw in RAW_NUMBER_TEXTS:
            send(target, None, raw)
        for value in CONTROL_TEXTS:
            send(target, value, None)

    @given(target=st.sampled_from(targets), value=NASTY, raw=st.one_of(st.none(), RAW_NUMBERS))
    @hypothesis_settings(
        max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(target: tuple[str, str], value: str, raw: str | None) -> None:
        send(target, value, raw)

    run()
