"""Every page x every member of the triangle: allowed users get 200, everyone else 404/403.

The table below must name every URL of the app; a test fails when a route is missing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kratomwatch.clinic.actions.admin import invitation_uid
from kratomwatch.clinic.actions.tokens import create_token
from kratomwatch.clinic.models import BulkExportJob

from .conftest import Triangle
from .test_ehr_clients import make_ehr_client
from .test_lots import make_lot
from .test_trials import make_trial

# url name -> (kwargs builder, users who may GET it). Everyone else is denied.
ROUTES: dict[str, tuple[Callable[[Triangle], dict[str, object]], set[str]]] = {
    "home": (
        lambda t: {},
        {"patient", "other_patient", "clinician", "colleague", "outsider", "admin", "other_admin"},
    ),
    "patient_home": (lambda t: {}, {"patient", "other_patient"}),
    "checkin": (lambda t: {}, {"patient", "other_patient"}),
    "checkin_done": (lambda t: {"checkin_uuid": t.checkin.uuid}, {"patient"}),
    "questionnaire": (lambda t: {"instrument_id": "phq9"}, {"patient"}),  # scheduled for Paul
    "questionnaire_done": (lambda t: {"response_uuid": t.response.uuid}, {"patient"}),
    "my_products": (lambda t: {}, {"patient", "other_patient"}),
    "product_add": (lambda t: {}, {"patient", "other_patient"}),
    "lot_add": (lambda t: {"product_uuid": t.product.uuid}, {"patient"}),
    "lot_lab_result": (
        lambda t: {"patient_uuid": t.patient.uuid, "lot_uuid": make_lot(t).uuid},
        {"clinician"},
    ),
    "certificate": (
        lambda t: {"certificate_uuid": make_lot(t).certificate.uuid},  # type: ignore[union-attr]
        {"patient", "clinician"},
    ),
    "my_plan": (lambda t: {}, {"patient", "other_patient"}),
    "trends": (lambda t: {}, {"patient", "other_patient"}),
    "my_dose_response": (lambda t: {}, {"patient", "other_patient"}),
    "my_trial": (lambda t: {}, {"patient", "other_patient"}),
    # POST only: checked by test_trials.py (test_only_the_patient_answers_for_their_trial).
    "trial_adherence": (lambda t: {}, set()),
    "my_data": (lambda t: {}, {"patient", "other_patient"}),
    "my_data_csv": (lambda t: {}, {"patient", "other_patient"}),
    "my_data_pdf": (lambda t: {}, {"patient", "other_patient"}),
    "record_views": (lambda t: {}, {"patient", "other_patient"}),
    "request_deletion": (lambda t: {}, set()),  # POST only, below
    # POST only (JSON): checked by tests/web/test_push_views.py (test_who_may_subscribe).
    "push_subscribe": (lambda t: {}, set()),
    "push_unsubscribe": (lambda t: {}, set()),
    "alert_settings": (lambda t: {}, {"clinician", "colleague", "outsider"}),
    "set_language": (lambda t: {}, set()),  # POST only: tests/web/test_languages.py
    "staff_language": (lambda t: {}, set()),  # POST only: tests/web/test_languages.py
    # Each person's own API tokens (tests/web/test_tokens_page.py).
    "api_tokens": (
        lambda t: {},
        {"patient", "other_patient", "clinician", "colleague", "outsider", "admin", "other_admin"},
    ),
    "api_token_revoke": (
        lambda t: {"token_uuid": create_token(t.patient.user, "matrix").token.uuid},
        {"patient"},
    ),
    "patient_list": (lambda t: {}, {"clinician", "colleague", "outsider"}),
    "patient_detail": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    "visit_report_pdf": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    "visit_report": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    "patient_dose_response": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    # POST only: checked by test_analysis_release.py (test_only_the_patients_clinician_shares).
    "release_dose_response": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "trial_design": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    "trial_detail": (
        lambda t: {"patient_uuid": t.patient.uuid, "trial_uuid": make_trial(t).uuid},
        {"clinician"},
    ),
    # POST only: checked by test_trials.py (test_only_the_patients_clinician_confirms_or_stops).
    "trial_confirm": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "trial_stop": (
        lambda t: {"patient_uuid": t.patient.uuid, "trial_uuid": make_trial(t).uuid},
        set(),
    ),
    "clinic_users": (lambda t: {}, {"admin", "other_admin"}),
    "clinic_invite": (lambda t: {}, {"admin", "other_admin"}),
    "clinic_settings": (lambda t: {}, {"admin", "other_admin"}),
    "clinic_user": (lambda t: {"user_uuid": t.patient.user.uuid}, {"admin"}),
    # POST only: checked by test_account_changes_are_for_the_clinics_admin_only.
    "clinic_care_team": (lambda t: {"user_uuid": t.patient.user.uuid}, set()),
    "clinic_user_active": (lambda t: {"user_uuid": t.patient.user.uuid}, set()),
    "clinic_reinvite": (lambda t: {"user_uuid": t.patient.user.uuid}, set()),
    # Public: an invitation's one-time link; a wrong token shows "this link does not work".
    "invite_accept": (
        lambda t: {"uidb64": invitation_uid(t.patient.user), "token": "not-a-token"},
        set(),
    ),
    "findings_inbox": (lambda t: {}, {"clinician", "colleague", "outsider"}),
    "plan_edit": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    "induction": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    # POST only: checked by tests/web/test_induction.py (test_only_the_care_team_writes).
    "induction_log": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "induction_end": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    # Also POSTed by test_record_edits_are_for_the_patients_clinician_only.
    "results_new": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    # POST only: checked by test_record_edits_are_for_the_patients_clinician_only.
    "medication_add": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "medication_stop": (lambda t: {"patient_uuid": t.patient.uuid, "med_uuid": t.med.uuid}, set()),
    "condition_set": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "pharmacogenomic_set": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "note_add": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "bulk_acknowledge": (lambda t: {}, set()),
    # POST only: checked by test_finding_actions_are_for_the_patients_clinician_only.
    "finding_action": (
        lambda t: {"patient_uuid": t.patient.uuid, "finding_uuid": t.finding.uuid},
        set(),
    ),
    "evidence": (lambda t: {}, set()),
    "evidence_claims": (lambda t: {}, set()),
    "evidence_rules": (lambda t: {}, set()),
    "deletion_requests": (lambda t: {}, {"admin", "other_admin"}),
    # EHR clients: the clinic admin's (tests/web/test_ehr_clients.py).
    "ehr_clients": (lambda t: {}, {"admin", "other_admin"}),
    "ehr_client_add": (lambda t: {}, {"admin", "other_admin"}),
    "ehr_client": (lambda t: {"client_uuid": make_ehr_client(t).uuid}, {"admin"}),
    # POST only: tests/web/test_ehr_clients.py (test_only_the_clinics_admin_deactivates).
    "ehr_client_deactivate": (lambda t: {"client_uuid": make_ehr_client(t).uuid}, set()),
    # A patient's EHR ids: their clinicians only (never the admin, who holds client keys).
    "ehr_links": (lambda t: {"patient_uuid": t.patient.uuid}, {"clinician"}),
    # POST only: tests/web/test_ehr_clients.py (test_only_the_care_team_links_or_unlinks).
    "ehr_link_remove": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    # CDS Hooks: discovery is public; a service takes signed POSTs only
    # (tests/interop/test_cds_hooks.py, which also checks that clinics stay apart).
    "cds_discovery": (lambda t: {}, set()),
    "cds_service": (lambda t: {"service_id": "kratomwatch-patient-view"}, set()),
    # POST only: tests/web/test_erasure.py::test_only_the_clinics_admin_handles_a_request
    "handle_deletion": (lambda t: {"request_uuid": "00000000-0000-0000-0000-000000000000"}, set()),
    "login": (lambda t: {}, set()),  # public; signed-in users are redirected
    # Public: the password reset by e-mail (tests/web/test_password_reset.py).
    "password_reset": (lambda t: {}, set()),
    "password_reset_done": (lambda t: {}, set()),
    "password_reset_confirm": (
        lambda t: {"uidb64": invitation_uid(t.patient.user), "token": "not-a-token"},
        set(),
    ),
    # The code step after a password: see tests/web/test_two_factor.py.
    "two_factor": (lambda t: {}, set()),
    "logout": (lambda t: {}, set()),  # POST only
    # The installable app's files and the pages it keeps for offline use: public, no
    # patient data (tests/web/test_pwa.py).
    "manifest": (lambda t: {}, set()),
    "service_worker": (lambda t: {}, set()),
    "offline": (lambda t: {}, set()),
    "urgent_guidance": (lambda t: {}, set()),
    # The API's own pages: public, and carrying no patient data.
    "api:health": (lambda t: {}, set()),
    "api:openapi-json": (lambda t: {}, set()),
    "api:openapi-view": (lambda t: {}, set()),
    "api:api-root": (lambda t: {}, set()),
    # Token-only API operations: a session is not accepted (401 below); the triangle with
    # tokens is in tests/api/test_api_access.py.
    "api:me": (lambda t: {}, set()),
    "api:list_patients": (lambda t: {}, set()),
    "api:get_patient": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:list_products": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    # Token access: tests/api/test_api_lots.py.
    "api:list_lots": (
        lambda t: {"patient_uuid": t.patient.uuid, "product_uuid": t.product.uuid},
        set(),
    ),
    "api:add_lot": (
        lambda t: {"patient_uuid": t.patient.uuid, "product_uuid": t.product.uuid},
        set(),
    ),
    "api:list_doses": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:record_dose": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:list_findings": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:list_notes": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:acknowledge_finding": (lambda t: {"finding_uuid": t.finding.uuid}, set()),
    # Token access to these is tested in tests/api/test_api_records.py.
    "api:list_checkins": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:list_responses": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:record_response": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:list_symptoms": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:list_plans": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    # Token access: tests/api/test_api_products.py, test_api_symptoms.py, test_api_checkins.py.
    "api:add_product": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:archive_product": (
        lambda t: {"patient_uuid": t.patient.uuid, "product_uuid": t.product.uuid},
        set(),
    ),
    "api:list_symptom_terms": (lambda t: {}, set()),
    "api:report_symptom": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:get_checkin": (
        lambda t: {"patient_uuid": t.patient.uuid, "checkin_uuid": t.checkin.uuid},
        set(),
    ),
    "api:submit_checkin": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    # Token access to these is tested in tests/api/test_api_results.py.
    "api:list_results": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    "api:record_results": (lambda t: {"patient_uuid": t.patient.uuid}, set()),
    # Instrument definitions, to every token: tests/api/test_api_fhir_questionnaires.py.
    "api:list_questionnaires": (lambda t: {}, set()),
    "api:read_questionnaire": (lambda t: {"questionnaire_id": "x"}, set()),
    # FHIR Bulk Data export: SMART Backend Services access tokens only, never a session
    # (test_bulk_export_needs_a_client_token_not_a_session below); which client sees which
    # clinic and job: tests/interop/test_fhir_bulk.py.
    "fhir_smart_configuration": (lambda t: {}, set()),
    "oauth_token": (lambda t: {}, set()),
    "fhir_export": (lambda t: {}, set()),
    "fhir_patient_export": (lambda t: {}, set()),
    "fhir_group_export": (lambda t: {"group_uuid": t.clinic.uuid}, set()),
    "fhir_bulk_status": (lambda t: {"job_uuid": t.patient.uuid}, set()),
    "fhir_bulk_file": (lambda t: {"job_uuid": t.patient.uuid, "file_uuid": t.patient.uuid}, set()),
}
BULK_TOKEN_ONLY = {
    "oauth_token",
    "fhir_export",
    "fhir_patient_export",
    "fhir_group_export",
    "fhir_bulk_status",
    "fhir_bulk_file",
}
API_TOKEN_ONLY = {name for name in ROUTES if name.startswith("api:")} - {
    "api:health",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
}
PUBLIC = {
    "login",
    "fhir_smart_configuration",
    "manifest",
    "service_worker",
    "offline",
    "urgent_guidance",
    "api:health",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
    "evidence",
    "evidence_claims",
    "evidence_rules",
    "invite_accept",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "cds_discovery",
}
POST_ONLY = {
    "ehr_client_deactivate",
    "ehr_link_remove",
    "cds_service",
    "logout",
    "handle_deletion",
    "two_factor",  # needs a password step first: tests/web/test_two_factor.py
    "finding_action",
    "request_deletion",
    "set_language",
    "staff_language",
    "medication_add",
    "medication_stop",
    "condition_set",
    "pharmacogenomic_set",
    "note_add",
    "bulk_acknowledge",
    "trial_confirm",
    "trial_stop",
    "trial_adherence",
    "release_dose_response",
    "clinic_care_team",
    "clinic_user_active",
    "clinic_reinvite",
    "push_subscribe",
    "push_unsubscribe",
    "induction_log",
    "induction_end",
}


def all_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, inner)
            elif p.name:
                names.add(f"{namespace}{p.name}")
            else:
                raise AssertionError(f"unnamed route {p.pattern}")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_route_is_in_the_table() -> None:
    assert all_route_names() == set(ROUTES)


@pytest.mark.parametrize(
    "name", sorted(set(ROUTES) - PUBLIC - POST_ONLY - API_TOKEN_ONLY - BULK_TOKEN_ONLY)
)
def test_anonymous_is_sent_to_login(client: Client, tri: Triangle, name: str) -> None:
    kwargs_for, _ = ROUTES[name]
    response = client.get(reverse(name, kwargs=kwargs_for(tri)))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "name",
    sorted(set(ROUTES) - PUBLIC - POST_ONLY - API_TOKEN_ONLY - BULK_TOKEN_ONLY - {"home"}),
)
@pytest.mark.parametrize(
    "who",
    ["patient", "other_patient", "clinician", "colleague", "outsider", "admin", "other_admin"],
)
def test_access_matrix(client: Client, tri: Triangle, name: str, who: str) -> None:
    kwargs_for, allowed = ROUTES[name]
    client.force_login(tri.users()[who])
    response = client.get(reverse(name, kwargs=kwargs_for(tri)))
    if who in allowed:
        assert response.status_code == 200, response.content[:300]
    else:
        assert response.status_code in (403, 404)


@pytest.mark.parametrize("name", sorted(API_TOKEN_ONLY))
@pytest.mark.parametrize("who", ["anonymous", "patient", "clinician", "admin"])
def test_api_operations_need_a_token_not_a_session(
    client: Client, tri: Triangle, name: str, who: str
) -> None:
    if who != "anonymous":
        client.force_login(tri.users()[who])
    url = reverse(name, kwargs=ROUTES[name][0](tri))
    for response in (client.get(url), client.post(url, {}, content_type="application/json")):
        assert response.status_code in (401, 405)
        if response.status_code == 401:
            assert response["Content-Type"] == "application/problem+json"
            assert b"Paul" not in response.content
    assert not tri.patient.doses.exists()
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"


@pytest.mark.parametrize("name", sorted(BULK_TOKEN_ONLY))
@pytest.mark.parametrize(
    "who",
    [
        "anonymous",
        "patient",
        "other_patient",
        "clinician",
        "colleague",
        "outsider",
        "admin",
        "other_admin",
    ],
)
def test_bulk_export_needs_a_client_token_not_a_session(
    client: Client, tri: Triangle, name: str, who: str
) -> None:
    """Every role's session is refused: 401 (a bearer token is needed), 400 at the token
    endpoint (no client assertion) or 405 for a method the route does not take."""
    if who != "anonymous":
        client.force_login(tri.users()[who])
    url = reverse(name, kwargs=ROUTES[name][0](tri))
    for response in (client.get(url, HTTP_PREFER="respond-async"), client.post(url, {})):
        assert response.status_code in (400, 401, 405)
        assert b"Paul" not in response.content
    assert not BulkExportJob.objects.exists()


def test_the_patient_page_never_leaks_across_clinics(client: Client, tri: Triangle) -> None:
    client.force_login(tri.outsider)
    response = client.get(reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid}))
    assert response.status_code == 404
    assert b"Paul" not in response.content


def test_a_malformed_patient_id_is_404(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    assert client.get("/patients/not-a-uuid/").status_code == 404


def test_logout_needs_post(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("patient_list")).status_code == 302


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_answer_anonymous_users_without_patient_data(
    client: Client, tri: Triangle, name: str
) -> None:
    response = client.get(reverse(name, kwargs=ROUTES[name][0](tri)))
    expected = 404 if name == "api:api-root" else 200  # the API root has no page of its own
    assert response.status_code == expected
    assert b"Paul" not in response.content


def test_health_reports_the_database(client: Client, db: None) -> None:
    body = client.get(reverse("api:health")).json()
    assert body["status"] == "ok" and body["database"] == "ok"


@pytest.mark.parametrize("who", ["clinician", "outsider", "admin", "other_admin"])
def test_only_patients_may_post_a_dose(client: Client, tri: Triangle, who: str) -> None:
    client.force_login(tri.users()[who])
    response = client.post(
        reverse("patient_home"), {"product": str(tri.product.uuid), "amount": "1", "unit": "g"}
    )
    assert response.status_code in (403, 404)
    assert not tri.patient.doses.exists()


@pytest.mark.parametrize(
    "who",
    [
        "patient",
        "other_patient",
        "clinician",
        "colleague",
        "outsider",
        "admin",
        "other_admin",
        "anonymous",
    ],
)
def test_finding_actions_are_for_the_patients_clinician_only(
    client: Client, tri: Triangle, who: str
) -> None:
    if who != "anonymous":
        client.force_login(tri.users()[who])
    url = reverse(
        "finding_action",
        kwargs={"patient_uuid": tri.patient.uuid, "finding_uuid": tri.finding.uuid},
    )
    response = client.post(url, {"action": "resolve", "reason": "checked"})
    tri.finding.refresh_from_db()
    if who == "clinician":
        assert response.status_code == 302 and tri.finding.status == "resolved"
    else:
        assert response.status_code in (302, 403, 404) and tri.finding.status == "open"
        if who == "anonymous":
            assert response["Location"].startswith(reverse("login"))


def test_a_finding_cannot_be_reached_through_another_patients_url(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.colleague)
    url = reverse(
        "finding_action",
        kwargs={"patient_uuid": tri.other_patient.uuid, "finding_uuid": tri.finding.uuid},
    )
    assert client.post(url, {"action": "resolve", "reason": "x"}).status_code == 404
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"


@pytest.mark.parametrize("who", ["clinician", "outsider", "admin"])
def test_only_patients_may_ask_for_deletion(client: Client, tri: Triangle, who: str) -> None:
    client.force_login(tri.users()[who])
    assert client.post(reverse("request_deletion"), {"reason": "x"}).status_code in (403, 404)
    assert not tri.patient.deletion_requests.exists()


def test_a_check_in_page_of_another_patient_is_404(client: Client, tri: Triangle) -> None:
    client.force_login(tri.other_patient.user)
    url = reverse("checkin_done", kwargs={"checkin_uuid": tri.checkin.uuid})
    assert client.get(url).status_code == 404


EDITS = {
    "medication_add": {"name": "Xanax", "dose_text": "1 mg"},
    "medication_stop": {},
    "condition_set": {"code": "pregnancy", "active": "1"},
    "pharmacogenomic_set": {"gene": "CYP2D6", "phenotype": "poor"},
    "note_add": {"text": "Seen today"},
    "results_new": {"taken_at": "2025-06-01T09:00", "alt_value": "80", "alt_unit": "U/L"},
}


def _record_state(t: Triangle) -> tuple[int, int, int, int, int, object]:
    t.med.refresh_from_db()
    return (
        t.patient.results.count(),
        t.patient.medications.count(),
        t.patient.conditions.count(),
        t.patient.pharmacogenomics.count(),
        t.patient.notes.count(),
        t.med.stopped_on,
    )


@pytest.mark.parametrize("name", sorted(EDITS))
@pytest.mark.parametrize(
    "who",
    [
        "patient",
        "other_patient",
        "clinician",
        "colleague",
        "outsider",
        "admin",
        "other_admin",
        "anonymous",
    ],
)
def test_record_edits_are_for_the_patients_clinician_only(
    client: Client, tri: Triangle, name: str, who: str
) -> None:
    if who != "anonymous":
        client.force_login(tri.users()[who])
    before = _record_state(tri)
    kwargs_for, _ = ROUTES[name]
    response = client.post(reverse(name, kwargs=kwargs_for(tri)), EDITS[name])
    after = _record_state(tri)
    if who == "clinician":
        assert response.status_code == 302 and after != before
    else:
        assert response.status_code in (302, 403, 404) and after == before
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["clinician", "colleague", "outsider", "patient", "admin"])
def test_bulk_acknowledge_only_reaches_my_patients_low_findings(
    client: Client, tri: Triangle, who: str
) -> None:
    tri.finding.severity = "low"
    tri.finding.save()
    client.force_login(tri.users()[who])
    client.post(
        reverse("bulk_acknowledge"), {"finding": [str(tri.finding.uuid)], "reason": "reviewed"}
    )
    tri.finding.refresh_from_db()
    assert (tri.finding.status == "acknowledged") is (who == "clinician")


ACCOUNT_CHANGES: dict[str, dict[str, str]] = {
    "clinic_care_team": {"action": "remove", "clinician": "alice"},
    "clinic_user_active": {"active": "0"},
    "clinic_reinvite": {},
}


def _account_state(t: Triangle) -> tuple[bool, bool, str]:
    t.patient.user.refresh_from_db()
    on_team = t.patient.care_team.filter(pk=t.clinician.pk).exists()
    return on_team, t.patient.user.is_active, t.patient.user.password


@pytest.mark.parametrize("name", sorted(ACCOUNT_CHANGES))
@pytest.mark.parametrize(
    "who",
    [
        "patient",
        "other_patient",
        "clinician",
        "colleague",
        "outsider",
        "admin",
        "other_admin",
        "anonymous",
    ],
)
def test_account_changes_are_for_the_clinics_admin_only(
    client: Client, tri: Triangle, name: str, who: str
) -> None:
    # A second clinician on Paul's team, and no password yet: each change is allowed to Adam.
    tri.patient.care_team.add(tri.colleague)
    tri.patient.user.set_unusable_password()
    tri.patient.user.save()
    if who != "anonymous":
        client.force_login(tri.users()[who])
    data = dict(ACCOUNT_CHANGES[name])
    if "clinician" in data:
        data["clinician"] = str(tri.clinician.uuid)
    before = _account_state(tri)
    response = client.post(reverse(name, kwargs={"user_uuid": tri.patient.user.uuid}), data)
    after = _account_state(tri)
    if who == "admin":
        assert response.status_code == 302 and after != before
    else:
        assert response.status_code in (302, 403, 404) and after == before
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login"))
