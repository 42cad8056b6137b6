"""axe-core on every page of every role: no WCAG 2.x A/AA or best-practice violation.

The pages come from the URL table of tests/web/test_access_matrix.py (which must name every
route), so a new page is checked as soon as it is in the table; a route that is not a page
(a download, JSON, a POST-only action) must say so in NOT_PAGES or POST_ONLY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import (
    CheckIn,
    Clinic,
    Finding,
    InductionPlan,
    MedicationStatement,
    PatientProfile,
    Product,
    QuestionnaireResponse,
    QuestionnaireSchedule,
    Role,
    User,
)
from kratomwatch.synthetic.seed import DEMO_PASSWORD, seed_demo_clinic
from tests.web.conftest import Triangle
from tests.web.test_access_matrix import POST_ONLY, PUBLIC, ROUTES, all_route_names

from .conftest import axe_report

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
# The three signed-in roles (their names in ROUTES), who they are in the demo clinic, and the
# screen each one usually has.
ROLES = {
    "patient": ("patient01", PHONE),
    "clinician": ("dr.lee", DESKTOP),
    "admin": ("admin", DESKTOP),
}
# Routes that answer with something other than an HTML page, or are the API's own.
NOT_PAGES = {
    "manifest": "the app's manifest (JSON)",
    "service_worker": "the service worker (JavaScript)",
    "my_data_csv": "a ZIP download",
    "my_data_pdf": "a PDF download",
    "visit_report_pdf": "a PDF download",
    "certificate": "a lab certificate download (PDF or image)",
    "cds_discovery": "CDS Hooks discovery (JSON for EHRs)",
    "fhir_smart_configuration": "SMART configuration (JSON for EHRs)",
    "oauth_token": "the SMART Backend Services token endpoint (JSON)",
    "fhir_export": "FHIR Bulk Data kick-off (JSON)",
    "fhir_patient_export": "FHIR Bulk Data kick-off (JSON)",
    "fhir_group_export": "FHIR Bulk Data kick-off (JSON)",
    "fhir_bulk_status": "FHIR Bulk Data status (JSON)",
    "fhir_bulk_file": "an NDJSON file of a bulk export",
}


def is_page(name: str) -> bool:
    """A route whose GET answer is an HTML page for people (the API has its own tests)."""
    return not name.startswith("api:") and name not in NOT_PAGES and name not in POST_ONLY


def visits() -> dict[str, list[str]]:
    """Route name -> the roles (or "public") whose pages axe checks."""
    out: dict[str, list[str]] = {}
    for name, (_kwargs, allowed) in ROUTES.items():
        if not is_page(name):
            continue
        out[name] = ["public"] if name in PUBLIC else [r for r in ROLES if r in allowed]
    return out


def test_every_page_is_checked_by_axe() -> None:
    """Fails when a page of the app is not visited by the axe test below."""
    pages = {name for name in all_route_names() if is_page(name)}
    unchecked = sorted(name for name in pages if not visits().get(name))
    assert unchecked == [], f"pages no role visits in test_axe_browser: {unchecked}"
    # The routes set aside as "not a page" are still routes.
    assert set(NOT_PAGES) <= all_route_names()


def demo_triangle() -> Triangle:
    """The demo clinic in the shape ROUTES' URL builders read (they read only these)."""
    seed_demo_clinic(patients=3, days=30, today=timezone.localdate())
    patient = PatientProfile.objects.get(user__username=ROLES["patient"][0])
    clinician = User.objects.get(username=ROLES["clinician"][0])
    QuestionnaireSchedule.objects.get_or_create(
        patient=patient, instrument_id="phq9", defaults={"every_days": 14, "created_by": clinician}
    )
    now = timezone.now()
    response = QuestionnaireResponse.objects.filter(patient=patient).first()
    if response is None:
        response = QuestionnaireResponse.objects.create(
            patient=patient,
            instrument_id="gad2",
            instrument_version="1.0",
            answers=[0, 1],
            total=1,
            taken_at=now - timedelta(days=1),
            idempotency_key="axe",
        )
    if not Finding.objects.filter(patient=patient).exists():
        Finding.objects.create(
            patient=patient,
            code="interaction.benzodiazepine",
            fingerprint="axe",
            severity="high",
            category="interaction",
            title="Kratom with a benzodiazepine",
            rationale="Alprazolam listed.",
            first_seen=now,
            last_seen=now,
        )
    if not MedicationStatement.objects.filter(patient=patient).exists():
        MedicationStatement.objects.create(patient=patient, name_entered="sertraline 50 mg")
    found = SimpleNamespace(
        patient=patient,
        clinic=patient.clinic,
        clinician=clinician,
        checkin=CheckIn.objects.filter(patient=patient).latest("day"),
        response=response,
        finding=Finding.objects.filter(patient=patient).first(),
        med=MedicationStatement.objects.filter(patient=patient).first(),
        product=Product.objects.filter(patient=patient).first(),
    )
    assert all(v is not None for v in vars(found).values()), vars(found)
    return cast(Triangle, found)


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not log in"


def patient_states(page: Any, base: str, t: Triangle) -> Iterator[str]:
    """The check-in as it looks while being filled in, and after a failed send."""
    page.goto(base + reverse("checkin"))
    page.check("input[name=side_effects] >> nth=0", force=True)
    page.check("input[name=red_flags] >> nth=0", force=True)
    page.click("#add-dose")
    assert page.locator("#flag-guidance .alert.urgent").count() == 1
    yield "checkin with a side effect, a red flag and a new dose row"
    page.goto(base + reverse("checkin"))
    page.click("#save-checkin")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "checkin sent empty: its errors"
    page.goto(base + reverse("my_data"))
    page.select_option("#id_reminder_time", index=8)
    page.fill("#id_email", "")
    page.click("form:has(#id_reminder_time) button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "my_data: a reminder with no e-mail address"
    page.goto(base + reverse("product_add"))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "product_add sent empty"
    page.goto(base + reverse("api_tokens"))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "api_tokens sent empty"
    page.fill("#id_name", "axe")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#new-secret").count() == 1
    yield "api_tokens with a new token shown once"
    InductionPlan.objects.get_or_create(
        patient=t.patient,
        ended_at=None,
        defaults={
            "author": t.clinician,
            "product_text": "buprenorphine-naloxone sublingual film",
            "plan_text": "First dose in clinic at the threshold.",
            "patient_text": "Stop kratom the evening before.",
            "min_hours_since_kratom": 8,
            "cows_threshold": 8,
        },
    )
    page.goto(base + reverse("my_plan"))
    assert page.locator("#buprenorphine").count() == 1
    yield "my_plan with a buprenorphine transition plan"
    page.goto(base + reverse("lot_add", kwargs={"product_uuid": t.product.uuid}))
    page.fill("#id_mitragynine", "1,5")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "lot_add with errors"
    # The main pages at a desk too, where the patient's navigation is a bar at the top.
    page.set_viewport_size(DESKTOP)
    for name in ("patient_home", "checkin", "my_plan", "trends"):
        page.goto(base + reverse(name))
        yield f"{name} at a desk"


def clinician_states(page: Any, base: str, t: Triangle) -> Iterator[str]:
    """Forms sent with errors, and a finding acknowledged (its message shown)."""
    kwargs = {"patient_uuid": t.patient.uuid}
    page.goto(base + reverse("plan_edit", kwargs=kwargs))
    page.fill("#id_max_daily_dose_g", "-1")
    page.click("#approve-plan")
    page.wait_for_load_state()
    assert page.locator(".invalid").count() >= 1
    yield "plan_edit with errors"
    page.goto(base + reverse("induction", kwargs=kwargs))
    page.fill("#id_product_text", "buprenorphine-naloxone sublingual film")
    page.fill("#id_plan_text", "First dose in clinic at the threshold.")
    page.click("#save-induction-plan")
    page.wait_for_load_state()
    page.click("#add-log-entry")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "induction with an open plan and a log entry sent empty"
    page.goto(base + reverse("trial_design", kwargs=kwargs))
    page.click("main form button[type=submit] >> nth=-1")
    page.wait_for_load_state()
    assert page.locator("main .error").count() >= 1
    yield "trial_design sent empty"
    for tab in ("findings", "plan", "records", "notes", "analysis"):
        page.goto(base + reverse("patient_detail", kwargs=kwargs) + f"?tab={tab}")
        yield f"patient_detail, section {tab}"
    page.goto(base + reverse("results_new", kwargs=kwargs))
    page.fill("#alt_value", "abc")
    page.check("input[name=screen_cocaine][value=positive]")
    page.click("#save-results")
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    yield "results_new with errors"
    page.goto(base + reverse("patient_detail", kwargs=kwargs) + "?tab=findings")
    finding = page.locator("article.finding").first
    finding.locator("input[name=reason]").fill("Discussed at the visit")
    finding.locator("button[value=acknowledge]").click()
    page.wait_for_load_state()
    assert page.locator(".messages").count() == 1
    yield "patient_detail after acknowledging a finding"


def admin_states(page: Any, base: str, t: Triangle) -> Iterator[str]:
    """The users of every kind and state: invited, deactivated, a clinician, the admin."""
    clinician = User.objects.get(username="dr.okafor")
    User.objects.filter(pk=clinician.pk).update(is_active=False)
    User.objects.filter(pk=t.patient.user.pk).update(password="!")
    me = User.objects.get(username=ROLES["admin"][0])
    page.goto(base + reverse("clinic_users"))
    assert "Reactivate" in page.inner_text("main") and "Invited" in page.inner_text("main")
    yield "clinic_users with invited and deactivated users"
    for user in (clinician, User.objects.get(username=ROLES["clinician"][0]), me):
        page.goto(base + reverse("clinic_user", kwargs={"user_uuid": user.uuid}))
        yield f"clinic_user of {user.username}"
    page.goto(base + reverse("clinic_user", kwargs={"user_uuid": t.patient.user.uuid}))
    page.click("text=New invitation link")
    page.wait_for_load_state()
    assert page.locator("#invitation-url").count() == 1
    yield "clinic_user with a new invitation link"


def public_states(page: Any, base: str, t: Triangle) -> Iterator[str]:
    """A failed log-in, and the code step of a clinic that asks for one."""
    page.goto(base + reverse("login"))
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    yield "login with errors"
    clinic = Clinic.objects.create(name="Coded clinic", slug="coded", require_two_factor=True)
    staff = User.objects.create(username="coded", clinic=clinic, role=Role.CLINICIAN)
    staff.set_password(DEMO_PASSWORD)
    staff.save()
    page.goto(base + reverse("login"))
    page.fill("#id_username", "coded")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/code/")
    yield "two_factor: setting up an authenticator app"
    page.fill("input[name=code]", "000000")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    yield "two_factor with a wrong code"


EXTRA_STATES: dict[str, Callable[[Any, str, Triangle], Iterator[str]]] = {
    "patient": patient_states,
    "clinician": clinician_states,
    "admin": admin_states,
    "public": public_states,
}


def test_no_page_of_any_role_has_an_axe_violation(
    live_server: Any, browser: Any, settings: Any, axe: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    t = demo_triangle()
    base = live_server.url
    urls = {name: reverse(name, kwargs=ROUTES[name][0](t)) for name in visits()}
    found: list[tuple[str, dict[str, Any]]] = []
    checked: list[str] = []

    def check(page: Any, label: str) -> None:
        checked.append(label)
        found.extend((label, v) for v in axe(page))

    for role in [*ROLES, "public"]:
        username, viewport = ROLES.get(role, ("", PHONE))
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        if username:
            log_in(page, base, username)
        for name, roles in visits().items():
            if role not in roles:
                continue
            response = page.goto(base + urls[name])
            assert response is not None and response.status == 200, (role, name, page.url)
            check(page, f"{role} {name} {urls[name]}")
        for label in EXTRA_STATES[role](page, base, t):
            check(page, f"{role} {label}")
        context.close()

    for name in NOT_PAGES:
        assert name not in urls
    assert len(checked) >= len(urls)
    if found:
        pytest.fail(axe_report(found), pytrace=False)
