"""Text in request documents: control characters are refused with the field's error (422),
anything else is stored as sent. The rule is kratomwatch.domain.text's, as on the web."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .conftest import Api, Triangle
from .test_api_access import dose

REFUSED = ["a\x00b", "\x07", "line\x1bbreak", "\x7f", "c1\x85", "\ud800"]


def post_raw(api: Api, path: str, body: dict[str, object], key: str = "k1") -> object:
    """JSON as a client would send it: lone surrogates escaped (\\ud800), not encoded."""
    return api.client.post(
        path, json.dumps(body), content_type="application/json", headers=api._headers(key)
    )


@pytest.mark.parametrize("text", REFUSED)
def test_an_acknowledgement_reason_with_a_control_character_is_refused(
    api_as: Callable[..., Api], tri: Triangle, text: str
) -> None:
    api = api_as("clinician")
    path = f"/api/findings/{tri.finding.uuid}/acknowledge"
    response = post_raw(api, path, {"reason": f"seen {text}"})
    assert response.status_code == 422, response.content
    (error,) = response.json()["errors"]
    assert error["field"] == "reason"
    # A lone surrogate is not text at all: the JSON parser refuses it before our rule does.
    assert "control character" in error["message"] or text == "\ud800"
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open" and tri.finding.acknowledged_reason == ""


@pytest.mark.parametrize("field", ["unit", "taken_at", "confirm"])
def test_a_dose_with_a_control_character_in_any_text_field_is_refused(
    api_as: Callable[..., Api], tri: Triangle, field: str
) -> None:
    body = dose(tri)
    body[field] = ["x\x00"] if field == "confirm" else f"{body[field]}\x00"
    response = post_raw(api_as("patient"), f"/api/patients/{tri.patient.uuid}/doses", body)
    assert response.status_code == 422, response.content
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == ({"confirm.0"} if field == "confirm" else {field})
    assert not tri.patient.doses.exists()


def test_a_questionnaire_id_with_a_nul_is_refused(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    path = f"/api/patients/{tri.patient.uuid}/responses"
    response = post_raw(api_as("patient"), path, {"instrument_id": "gad2\x00", "answers": [0, 1]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["instrument_id"]


def test_any_other_unicode_is_stored_as_sent(api_as: Callable[..., Api], tri: Triangle) -> None:
    reason = "Gesehen 👍 — مراجعة\tnext visit\r\n$5 co-pay, 中文"
    path = f"/api/findings/{tri.finding.uuid}/acknowledge"
    response = post_raw(api_as("clinician"), path, {"reason": reason})
    assert response.status_code == 200, response.content
    tri.finding.refresh_from_db()
    assert tri.finding.acknowledged_reason == reason
