"""The instruments as FHIR R4 Questionnaires (``application/fhir+json``), read-only.

``GET /fhir/Questionnaire`` answers a ``searchset`` Bundle of every instrument (``?url=``
narrows it to one canonical URL, as a FHIR search by url does); ``GET
/fhir/Questionnaire/{id}`` answers one. Instruments are definitions, not patient data: any
token reads them (``access.instrument_definitions``). Errors are problem documents, as
everywhere in the API.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from kratomwatch.clinic import access
from kratomwatch.interop.fhir_instruments import Resource, instrument_questionnaires

from .auth import read_auth, user_of
from .problems import Problem
from .schemas import ProblemOut

router = Router(tags=["fhir"])

FHIR_JSON = "application/fhir+json"
_ERRORS: dict[int, Any] = {s: ProblemOut for s in (401, 404, 429)}
_DOC = {"responses": {200: {"description": "FHIR JSON", "content": {FHIR_JSON: {}}}}}


def _fhir(resource: Resource) -> HttpResponse:
    return HttpResponse(json.dumps(resource, ensure_ascii=False), content_type=FHIR_JSON)


def _questionnaires(request: HttpRequest) -> list[Resource]:
    return instrument_questionnaires(access.instrument_definitions(user_of(request)).values())


@router.get(
    "/fhir/Questionnaire",
    response={200: dict[str, Any], **_ERRORS},
    auth=read_auth,
    openapi_extra=_DOC,
)
def list_questionnaires(request: HttpRequest, url: str | None = None) -> HttpResponse:
    """Every instrument as a Questionnaire, in a ``searchset`` Bundle; ``url`` keeps the one
    with that canonical URL (none, and no ``entry``, if it is not ours)."""
    found = [q for q in _questionnaires(request) if url is None or q["url"] == url]
    base = request.build_absolute_uri(request.path).rstrip("/")
    bundle: Resource = {"resourceType": "Bundle", "type": "searchset", "total": len(found)}
    if found:  # FHIR JSON has no empty arrays
        bundle["entry"] = [
            {"fullUrl": f"{base}/{q['id']}", "resource": q, "search": {"mode": "match"}}
            for q in found
        ]
    return _fhir(bundle)


@router.get(
    "/fhir/Questionnaire/{questionnaire_id}",
    response={200: dict[str, Any], **_ERRORS},
    auth=read_auth,
    openapi_extra=_DOC,
)
def read_questionnaire(request: HttpRequest, questionnaire_id: str) -> HttpResponse:
    """One Questionnaire by its id (404 if no instrument has it)."""
    for questionnaire in _questionnaires(request):
        if questionnaire["id"] == questionnaire_id:
            return _fhir(questionnaire)
    raise Problem(404, "No questionnaire has this id.")
