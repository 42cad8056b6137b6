"""GET /api/fhir/Questionnaire: the instruments as FHIR Questionnaires, to any token."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from kratomwatch.clinic.models import TokenScope
from kratomwatch.domain.questionnaires import load_instruments
from kratomwatch.interop.fhir_instruments import questionnaire_id, questionnaire_url

from .conftest import Api, Triangle

WHO = ["patient", "other_patient", "clinician", "colleague", "outsider", "admin", "other_admin"]
LIST = "/api/fhir/Questionnaire"


@pytest.mark.parametrize("who", WHO)
def test_every_token_reads_every_questionnaire(
    api_as: Callable[..., Api], tri: Triangle, who: str
) -> None:
    response = api_as(who, TokenScope.READ).get(LIST)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    catalogue = load_instruments()
    assert bundle["total"] == len(catalogue)
    urls = {e["resource"]["url"] for e in bundle["entry"]}
    assert urls == {questionnaire_url(i) for i in catalogue}


def test_one_questionnaire_by_id_and_by_url(api_as: Callable[..., Api], tri: Triangle) -> None:
    api = api_as("patient", TokenScope.READ)
    phq9 = load_instruments()["phq9"]
    qid = questionnaire_id(phq9.id, phq9.version)
    response = api.get(f"{LIST}/{qid}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    resource = json.loads(response.content)
    Questionnaire.model_validate(resource)
    assert resource["id"] == qid and "Pfizer" in resource["copyright"]
    found = json.loads(api.get(LIST, url=questionnaire_url("phq9")).content)
    assert [e["resource"]["id"] for e in found["entry"]] == [qid]
    none = json.loads(api.get(LIST, url="http://example.org/Questionnaire/phq9").content)
    Bundle.model_validate(none)
    assert none["total"] == 0 and "entry" not in none  # FHIR JSON has no empty arrays


def test_an_unknown_id_is_404_and_no_token_is_401(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    response = api_as("clinician", TokenScope.READ).get(f"{LIST}/phq9")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert api_as("anonymous").get(LIST).status_code == 401
