"""Plain function views: check access, validate, call one action, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.domain.evidence import GRADE_LABELS, VERDICT_LABELS, load_library
from kratomwatch.domain.products import format_decimal
from kratomwatch.domain.safety import load_knowledge

from . import access, attention
from .actions import (
    LifecycleError,
    active_plan,
    audit,
    do_acknowledge_finding,
    do_record_dose,
    do_resolve_finding,
    screen_now_if_due,
)
from .form_errors import error_summary
from .forms import DoseForm, FindingActionForm
from .models import (
    SEVERITY_RANK,
    Finding,
    FindingSeverity,
    FindingStatus,
    PatientProfile,
    Role,
    User,
)


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role == Role.PATIENT:
        return redirect("patient_home")
    if user.role == Role.CLINICIAN:
        return redirect("patient_list")
    if user.role == Role.CLINIC_ADMIN:
        return redirect("clinic_users")
    return render(request, "clinic/no_role.html", status=403)


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def patient_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    patient = access.own_profile(user)
    if request.method == "POST":
        form = DoseForm(patient, request.POST)
        if form.is_valid() and form.checked is not None:
            entry, created = do_record_dose(
                patient=patient,
                entered_by=user,
                product=form.cleaned_data["product"],
                checked=form.checked,
                idempotency_key=form.cleaned_data["idempotency_key"],
                preparation=form.cleaned_data["preparation"],
                ip=client_ip(request),
            )
            if created:
                amount = format_decimal(entry.amount)
                messages.success(request, f"Saved: {amount} {entry.unit} of {entry.product}.")
            else:
                messages.info(request, "This dose was already saved; it was not added twice.")
            return redirect("patient_home")
        status = 400
    else:
        form = DoseForm.blank(patient)
        status = 200
    from .views_patient import due_questionnaires, urgent_and_other_messages

    today = timezone.localdate()
    urgent, others = urgent_and_other_messages(patient)
    context = {
        "patient": patient,
        "form": form,
        "doses": patient.doses.select_related("product")[:10],
        "plan": active_plan(patient),
        # Red flags in full at the top; of the rest the most severe shows, the others fold.
        "urgent": urgent,
        "first_message": others[0] if others else None,
        "more_messages": others[1:],
        "has_products": patient.products.filter(archived=False).exists(),
        "checked_in_today": patient.checkins.filter(day=today).exists(),
        "due": due_questionnaires(patient),
        "errors": error_summary(form) if form.is_bound else [],
    }
    return render(request, "clinic/patient_home.html", context, status=status)


@access.role_required(Role.CLINICIAN)
def patient_detail(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = _user(request)
    patient = access.patient_for(user, patient_uuid)
    screen_now_if_due(PatientProfile.objects.filter(pk=patient.pk))  # findings shown are current
    audit(
        user,
        "patient.view",
        patient=patient,
        object_type="patient",
        object_uuid=patient.uuid,
        ip=client_ip(request),
    )
    findings = sorted(
        patient.findings.exclude(status=FindingStatus.RESOLVED),
        key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), -f.last_seen.timestamp()),
    )
    from kratomwatch.domain.conditions import (
        CONDITION_LABELS,
        PHENOTYPE_LABELS,
        ConditionCode,
        Gene,
    )

    from .views_clinician import timeline_context

    context = {
        **timeline_context(patient),
        "condition_choices": [(c.value, CONDITION_LABELS[c]) for c in ConditionCode],
        "genes": [g.value for g in Gene],
        "phenotypes": list(PHENOTYPE_LABELS.items()),
        "notes": patient.notes.select_related("author")[:10],
        "schedules": patient.questionnaire_schedules.filter(active=True),
        "patient": patient,
        "conditions": patient.conditions.filter(active=True),
        "medications": patient.medications.filter(stopped_on__isnull=True),
        "pharmacogenomics": patient.pharmacogenomics.all(),
        "products": patient.products.all(),
        "doses": patient.doses.select_related("product")[:30],
        "responses": patient.responses.all()[:20],
        "symptoms": patient.symptoms.all()[:20],
        "findings": findings,
        "plan": active_plan(patient),
    }
    return render(request, "clinic/patient_detail.html", context)


@access.role_required(Role.CLINICIAN)
@require_POST
def finding_action(request: HttpRequest, patient_uuid: str, finding_uuid: str) -> HttpResponse:
    user = _user(request)
    finding = access.finding_for(user, patient_uuid, finding_uuid)
    form = FindingActionForm(request.POST)
    back = reverse("patient_detail", kwargs={"patient_uuid": patient_uuid}) + f"#f-{finding.uuid}"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{finding.title}: {error}")
        return redirect(back)
    act = (
        do_acknowledge_finding
        if form.cleaned_data["action"] == "acknowledge"
        else do_resolve_finding
    )
    try:
        act(finding, user, form.cleaned_data["reason"], ip=client_ip(request))
    except LifecycleError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, f"{finding.title}: {finding.get_status_display().lower()}.")
    return redirect(back)


@access.role_required(Role.CLINICIAN)
def findings_inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    findings = list(
        Finding.objects.filter(patient__in=access.visible_patients(user))
        .exclude(status=FindingStatus.RESOLVED)
        .select_related("patient", "acknowledged_by")
    )
    looked = attention.last_looked(user, {f.patient_id for f in findings})
    ranked = attention.annotate(findings, looked)  # new red flags first
    groups: dict[str, list[Finding]] = {"high": [], "moderate": [], "low": []}
    for finding in ranked:
        if finding.status == FindingStatus.OPEN:
            groups.setdefault(finding.severity, []).append(finding)
    acknowledged = [f for f in ranked if f.status == FindingStatus.ACKNOWLEDGED]
    context = {
        "groups": groups,
        "sections": [
            (severity, dict(FindingSeverity.choices)[severity], items, attention.by_patient(items))
            for severity, items in groups.items()
        ],
        "acknowledged": attention.by_patient(acknowledged),
        "acknowledged_count": len(acknowledged),
    }
    return render(request, "clinic/findings_inbox.html", context)


def evidence_library(request: HttpRequest) -> HttpResponse:
    """Public: what is and is not known, statement by statement, with references."""
    return render(
        request, "clinic/evidence.html", {"library": load_library(), "grades": GRADE_LABELS}
    )


def evidence_claims(request: HttpRequest) -> HttpResponse:
    """Public, for patients: common claims about kratom and what the evidence says."""
    return render(
        request, "clinic/claims.html", {"library": load_library(), "verdicts": VERDICT_LABELS}
    )


def evidence_rules(request: HttpRequest) -> HttpResponse:
    """Public: every safety rule, its trigger, evidence level and references."""
    kb = load_knowledge()
    return render(request, "clinic/rules.html", {"kb": kb, "grades": GRADE_LABELS})
