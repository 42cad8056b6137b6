"""Results through the API: clinicians record, the patient and their clinicians read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import AuditEvent, LabResult

from .conftest import Triangle

WHO = ["patient", "other_patient", "clinician", "colleague", "outsider", "admin"]


def body(**changes: Any) -> dict[str, Any]:
    taken = (timezone.now() - timedelta(days=1)).isoformat(timespec="seconds")
    return {
        "taken_at": taken,
        "values": [
            {"analyte": "alt", "value": "310", "unit": "U/L", "upper_limit": "40"},
            {"analyte": "bilirubin", "value": "34.2", "unit": "µmol/L"},
        ],
        "screens": [{"item": "benzodiazepines", "outcome": "positive"}],
        "specimen": "urine",
        **changes,
    }


def url(t: Triangle) -> str:
    return f"/api/patients/{t.patient.uuid}/results"


@pytest.mark.parametrize("who", WHO)
def test_only_the_patients_clinician_records_results(
    api_as: Callable[..., Any], tri: Triangle, who: str
) -> None:
    response = api_as(who).post(url(tri), body(), key="r-1")
    if who == "clinician":
        assert response.status_code == 201
    else:
        assert response.status_code == (403 if who == "patient" else 404)
        assert not LabResult.objects.exists()


@pytest.mark.parametrize("who", WHO)
def test_only_the_patient_and_their_clinician_read_results(
    api_as: Callable[..., Any], tri: Triangle, who: str
) -> None:
    assert api_as("clinician").post(url(tri), body(), key="r-1").status_code == 201
    response = api_as(who, scope="read").get(url(tri))
    if who in ("patient", "clinician"):
        assert response.status_code == 200
        assert len(response.json()["items"]) == 3
    else:
        assert response.status_code == 404


def test_results_are_converted_audited_and_recorded_once(
    api_as: Callable[..., Any], tri: Triangle
) -> None:
    api = api_as("clinician")
    sent = body()  # the same body again: its time is made once
    first = api.post(url(tri), sent, key="r-1")
    assert first.status_code == 201
    items = {i["analyte"]: i for i in first.json()["items"]}
    assert items["bilirubin"]["value"] == "2" and items["bilirubin"]["unit"] == "mg/dL"
    assert items["bilirubin"]["value_entered"] == "34.2"
    assert items["bilirubin"]["unit_entered"] == "µmol/L"
    assert items["alt"]["upper_limit"] == "40"
    assert items["benzodiazepines"]["outcome"] == "positive"
    assert {i["source"] for i in items.values()} == {"api"}
    again = api.post(url(tri), sent, key="r-1")
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert api.post(url(tri), body(note="changed"), key="r-1").status_code == 409
    assert LabResult.objects.count() == 3
    assert AuditEvent.objects.filter(action="result.create", patient=tri.patient).count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"values": [{"analyte": "alt", "value": "50", "unit": "mg"}]}, "values.alt.unit"),
        ({"values": [{"analyte": "qtc", "value": "5000", "unit": "ms"}]}, "values.qtc.value"),
        ({"values": [{"analyte": "ggt", "value": "5", "unit": "U/L"}]}, "values.ggt.analyte"),
        ({"screens": [{"item": "cocaine", "outcome": "maybe"}]}, "screens.cocaine.outcome"),
        ({"taken_at": "2026-01-05T08:30"}, "taken_at"),
        ({"taken_at": "2999-01-05T08:30+00:00"}, "taken_at"),
        ({"values": [], "screens": []}, "results"),
        (
            {"values": [{"analyte": "alt", "value": "5", "unit": "U/L"}] * 2},
            "values.alt",
        ),
    ],
)
def test_bad_results_are_refused_with_the_field_named(
    api_as: Callable[..., Any], tri: Triangle, changes: dict[str, Any], field: str
) -> None:
    response = api_as("clinician").post(url(tri), body(**changes), key="bad")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert any(e["field"] == field for e in response.json()["errors"]), response.json()
    assert not LabResult.objects.exists()


def test_a_value_that_is_not_a_number_is_refused(api_as: Callable[..., Any], tri: Triangle) -> None:
    changes = {"values": [{"analyte": "alt", "value": "high", "unit": "U/L"}]}
    response = api_as("clinician").post(url(tri), body(**changes), key="bad")
    assert response.status_code == 422
    assert not LabResult.objects.exists()


@pytest.mark.parametrize("raw", ["1e400", "9" * 300, "-1e400", "0.00001"])
def test_huge_or_tiny_numbers_in_a_value_are_refused_not_a_server_error(
    api_as: Callable[..., Any], tri: Triangle, raw: str
) -> None:
    for field in ("value", "upper_limit"):
        text = (
            '{"taken_at": "2026-01-05T08:30:00+00:00", "values": [{"analyte": "alt", '
            f'"value": {raw if field == "value" else "80"}, "unit": "U/L", '
            f'"upper_limit": {raw if field == "upper_limit" else "null"}}}]}}'
        )
        api = api_as("clinician")
        response = api.client.generic(
            "POST",
            url(tri),
            text.encode(),
            content_type="application/json",
            headers={"Authorization": f"Bearer {api.secret}", "Idempotency-Key": f"n-{field}"},
        )
        assert response.status_code == 422, (field, raw, response.content)
    assert not LabResult.objects.exists()
