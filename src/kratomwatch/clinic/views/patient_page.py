"""The clinician's patient page: the summary on top, the rest in sections (tabs).

Every section is its own address (``/patients/<uuid>/?tab=findings``) returning the whole page
with that section; asked by htmx (the ``HX-Request`` header) it returns the section alone, with
the tab bar updated out of band. Each answer, page or section, is one ``patient.view`` in the
audit trail, recorded after the summary has read when this clinician last looked. The whole
page (with the summary) and the Findings section show the findings: they are recorded with
the object type that counts as looking (:data:`.attention.SHOWN`); other sections are not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from kratomwatch.clinic import access, attention, audit_chain
from kratomwatch.clinic.actions.screening import active_plan, notes_about, screen_now_if_due
from kratomwatch.clinic.charts import timeline_rows, timeline_svg
from kratomwatch.clinic.lab_results import latest_results
from kratomwatch.clinic.lot_facts import attach_lots
from kratomwatch.clinic.models import FindingStatus, PatientProfile, Role, User
from kratomwatch.clinic.reports.visit import screening_line
from kratomwatch.clinic.summary import patient_summary
from kratomwatch.clinic.timeline import build_timeline
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.domain.conditions import CONDITION_LABELS, PHENOTYPE_LABELS, ConditionCode, Gene

#: The sections, in the order of the tab bar: (name, label, anchors inside it). The first is
#: shown when none is asked for. Anchors let an old link such as ``#medications`` find its tab.
TABS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("timeline", pgettext_lazy("tab", "Timeline"), ("timeline",)),
    ("findings", pgettext_lazy("tab", "Findings"), ("findings",)),
    ("results", pgettext_lazy("tab", "Results"), ("results",)),
    (
        "plan",
        pgettext_lazy("tab", "Plan & medications"),
        ("plan", "conditions", "medications", "pgx", "products"),
    ),
    ("records", pgettext_lazy("tab", "Records"), ("doses", "questionnaires", "symptoms")),
    ("notes", pgettext_lazy("tab", "Notes"), ("notes",)),
    ("analysis", pgettext_lazy("tab", "Analysis"), ("dose-response", "nof1")),
)
DEFAULT_TAB = TABS[0][0]
TAB_OF_ANCHOR = {anchor: name for name, _, anchors in TABS for anchor in anchors}
TIMELINE_TITLE = gettext_lazy(
    "Daily dose, pain and interference, with side effects, questionnaires, plan versions and "
    "findings: last 12 weeks"
)


def patient_url(patient: PatientProfile, anchor: str = "") -> str:
    """The page address showing ``anchor`` ("medications", "f-<uuid>"): its tab and the anchor."""
    url = reverse("patient_detail", kwargs={"patient_uuid": patient.uuid})
    if not anchor:
        return url
    tab = "findings" if anchor.startswith("f-") else TAB_OF_ANCHOR.get(anchor, DEFAULT_TAB)
    return f"{url}?tab={tab}#{anchor}" if tab != DEFAULT_TAB else f"{url}#{anchor}"


def _timeline(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    timeline = build_timeline(patient)
    return {
        "timeline_svg": timeline_svg(timeline, str(TIMELINE_TITLE)),
        "timeline_rows": timeline_rows(timeline),
    }


def _findings(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    found = patient.findings.exclude(status=FindingStatus.RESOLVED).select_related(
        "acknowledged_by", "resolved_by"
    )
    return {
        "findings": attention.annotate(found, {patient.pk: looked} if looked else {}),
        "screening_line": screening_line(patient),
    }


def _results(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    return {"results": latest_results(patient)}


def _plan(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    patient.refresh_from_db(fields=["screening_notes"])  # as the screening just stored them
    medications = list(patient.medications.filter(stopped_on__isnull=True))
    for medication in medications:
        medication.screening_notes = notes_about(
            patient, "medication", medication.name_entered, medication.dose_text
        )
    products = list(patient.products.all())
    for product in products:
        product.screening_notes = notes_about(patient, "product", product.name)
    attach_lots(user, patient, products)
    return {
        "condition_choices": [(c.value, CONDITION_LABELS[c]) for c in ConditionCode],
        "genes": [g.value for g in Gene],
        "phenotypes": list(PHENOTYPE_LABELS.items()),
        "conditions": patient.conditions.filter(active=True),
        "medications": medications,
        "pharmacogenomics": patient.pharmacogenomics.all(),
        "products": products,
        "plan": active_plan(patient),
        "schedules": patient.questionnaire_schedules.filter(active=True),
    }


def _records(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    return {
        "doses": patient.doses.select_related("product", "checkin")[:30],
        "responses": patient.responses.all()[:20],
        "symptoms": patient.symptoms.all()[:20],
    }


def _notes(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    return {"notes": patient.notes.select_related("author")[:10]}


def _analysis(patient: PatientProfile, looked: datetime | None, user: User) -> dict[str, Any]:
    return {}


SECTIONS: dict[str, Callable[[PatientProfile, datetime | None, User], dict[str, Any]]] = {
    "timeline": _timeline,
    "findings": _findings,
    "results": _results,
    "plan": _plan,
    "records": _records,
    "notes": _notes,
    "analysis": _analysis,
}


def _looked(user: User, patient: PatientProfile) -> datetime | None:
    return attention.last_looked(user, [patient.pk]).get(patient.pk)


@access.role_required(Role.CLINICIAN)
def patient_detail(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    tab = request.GET.get("tab") or DEFAULT_TAB
    if tab not in SECTIONS:
        raise Http404(gettext("This patient's record has no such section."))
    # A section asked by htmx, not a page restored from htmx's history (which needs it all).
    section_only = bool(
        request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    )
    screen_now_if_due(PatientProfile.objects.filter(pk=patient.pk))  # findings shown are current
    looked = _looked(user, patient)  # before this view is recorded: what is new is new to them
    summary = None if section_only else patient_summary(patient, user, looked=looked)
    audit_chain.append(
        user,
        "patient.view",
        patient=patient,
        object_type=attention.SECTION if section_only and tab != "findings" else attention.SHOWN,
        object_uuid=patient.uuid,
        ip=client_ip(request),
    )
    context = {
        "patient": patient,
        "tab": tab,
        "tabs": TABS,
        "section_template": f"clinic/patient_tabs/_{tab}.html",
        "summary": summary,
        **SECTIONS[tab](patient, looked, user),
    }
    if section_only:
        return render(request, "clinic/patient_tabs/_section.html", context)
    return render(request, "clinic/patient_detail.html", context)
