"""CDS Hooks 2.0 endpoints: ``GET /cds-services`` (discovery) and ``POST /cds-services/<id>``.

Discovery is public: it lists the services and holds no patient data. A service call must
carry ``Authorization: Bearer <JWT>`` signed by an EHR client the clinic registered
(:func:`kratomwatch.clinic.ehr_auth.verify`, audience the service's own URL). The patient is
the one the client's clinic linked to ``context.patientId`` for that client
(:func:`access.ehr_linked_patient`); an unlinked id gets ``{"cards": []}``, the same answer as
a patient with nothing to report, so that nothing is revealed. Every call is audited, a refused
one too (an unknown service id, a token refused, a body not read), with why
(:data:`kratomwatch.clinic.actions.ehr.CDS_REFUSALS`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.ehr import do_audit_cds_call
from kratomwatch.clinic.actions.screening import screen_drafts
from kratomwatch.clinic.ehr_auth import TokenRefused, verify
from kratomwatch.clinic.models import EhrClientKind, FindingStatus, PatientProfile
from kratomwatch.clinic.views.common import client_ip
from kratomwatch.domain.findings import Severity
from kratomwatch.domain.safety import load_knowledge
from kratomwatch.interop import cds_hooks as cds

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
}


def _json(data: dict[str, Any], status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(data, status=status)
    for key, value in {**CORS, **headers}.items():
        response[key] = value
    response["Cache-Control"] = "no-store"
    return response


def _preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    for key, value in CORS.items():
        response[key] = value
    return response


@csrf_exempt
@require_http_methods(["GET", "OPTIONS"])
def discovery(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight()
    return _json(cds.discovery())


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def service(request: HttpRequest, service_id: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight()
    found = cds.SERVICES_BY_ID.get(service_id)
    ip = client_ip(request)
    if found is None:
        do_audit_cds_call(client=None, action="cds.refused", ip=ip, refusal="unknown-service")
        return _json({"error": f"There is no CDS service {service_id!r}."}, 404)
    try:
        client, _claims = verify(
            _bearer(request), kind=EhrClientKind.CDS_HOOKS.value, audience=_audiences(request)
        )
    except TokenRefused as exc:
        do_audit_cds_call(client=None, action="cds.refused", ip=ip, refusal="token")
        return _json(
            {"error": exc.reason},
            401,
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    try:
        call = cds.parse_call(request.body, found)
    except cds.BadHookRequest as exc:
        do_audit_cds_call(client=client, action="cds.refused", ip=ip, refusal="request")
        return _json({"error": str(exc)}, 400)
    patient = access.ehr_linked_patient(client, call.patient_id)
    do_audit_cds_call(client=client, action=f"cds.{call.hook}", patient=patient, ip=ip)
    if patient is None:
        return _json({"cards": []})
    if call.hook == cds.PATIENT_VIEW:
        card = _patient_view_card(patient)
        return _json({"cards": [card] if card else []})
    return _json({"cards": _order_cards(patient, call)})


def _bearer(request: HttpRequest) -> str:
    header = str(request.headers.get("Authorization", ""))
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _audiences(request: HttpRequest) -> list[str]:
    """The service's URL as configured (KRATOMWATCH_BASE_URL): never one built from the
    request's Host header, which the caller chooses."""
    return [settings.KRATOMWATCH_BASE_URL.rstrip("/") + request.path]


def _patient_link(patient: PatientProfile) -> str:
    path = reverse("patient_detail", kwargs={"patient_uuid": patient.uuid})
    return settings.KRATOMWATCH_BASE_URL.rstrip("/") + path


def _patient_view_card(patient: PatientProfile) -> dict[str, Any] | None:
    rows = patient.findings.filter(status=FindingStatus.OPEN).values_list("severity", "title")
    return cds.patient_view_card(
        [cds.OpenFinding(Severity(severity), title) for severity, title in rows],
        _patient_link(patient),
    )


def _order_cards(patient: PatientProfile, call: cds.HookCall) -> list[dict[str, Any]]:
    unscreened = [cds.unscreened_card(d) for d in call.drafts if d.medication is None]
    drafts = [d for d in call.drafts if d.medication is not None]
    if not drafts:
        return unscreened
    screened = screen_drafts(
        patient,
        timezone.now(),
        (*call.prefetched, *call.others),
        [d.medication for d in drafts if d.medication is not None],
    )
    rules = {rule.id: rule for rule in load_knowledge().rules}
    cards = []
    for draft, (before, after) in zip(drafts, screened, strict=True):
        for finding in cds.new_findings(before.findings, after.findings, set(rules)):
            cards.append(
                cds.order_card(
                    finding,
                    draft,
                    after.references,
                    removable=rules[finding.code].order_action == "remove",
                )
            )
    return cards + unscreened
