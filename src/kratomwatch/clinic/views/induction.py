"""The buprenorphine transition plan: the clinician writes it and logs the induction.

The page shows the readiness checklist from the record, the plan as the clinician wrote it,
the induction log and the findings that watch it. Nothing here proposes a dose.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.actions.induction import (
    do_end_induction_plan,
    do_log_induction,
    do_save_induction_plan,
    open_plan,
)
from kratomwatch.clinic.actions.screening import screen_now_if_due
from kratomwatch.clinic.form_errors import error_summary
from kratomwatch.clinic.forms.induction import (
    EndInductionForm,
    InductionLogForm,
    InductionPlanForm,
)
from kratomwatch.clinic.induction_input import latest_scores, patient_readiness
from kratomwatch.clinic.models import FindingStatus, InductionPlan, PatientProfile, Role
from kratomwatch.clinic.text import first_error
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.domain.evidence import GRADE_LABELS, load_library
from kratomwatch.domain.induction import (
    DEFAULT_COWS_THRESHOLD,
    DEFAULT_MIN_HOURS_SINCE_KRATOM,
)

#: The evidence statements shown with the plan, with their grades.
EVIDENCE = ("dep_buprenorphine_treatment", "dep_induction_checklist")


def _page(patient: PatientProfile) -> HttpResponse:
    return redirect(reverse("induction", args=[patient.uuid]))


def _evidence() -> list[Any]:
    statements = {s.id: s for s in load_library().topic("dependence_withdrawal").statements}
    return [statements[i] for i in EVIDENCE]


def _render(
    request: HttpRequest,
    patient: PatientProfile,
    plan: InductionPlan | None,
    *,
    plan_form: InductionPlanForm | None = None,
    log_form: InductionLogForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    if plan_form is None:
        initial = {
            "min_hours_since_kratom": DEFAULT_MIN_HOURS_SINCE_KRATOM,
            "cows_threshold": DEFAULT_COWS_THRESHOLD,
        }
        plan_form = InductionPlanForm(instance=plan, initial=None if plan else initial)
    if log_form is None:
        log_form = InductionLogForm(
            initial={"at": timezone.localtime(now).replace(second=0, microsecond=0)}
        )
    errors = error_summary(plan_form, log_form)
    context = {
        "patient": patient,
        "plan": plan,
        "plan_form": plan_form,
        "log_form": log_form,
        "end_form": EndInductionForm(),
        "errors": errors,
        "readiness": patient_readiness(patient, plan, now) if plan else None,
        "scores": latest_scores(patient),
        "log": plan.log.select_related("entered_by") if plan else [],
        "first_dose": plan.log.filter(dose_mg__isnull=False).first() if plan else None,
        "findings": patient.findings.filter(code__startswith="dependence.induction").exclude(
            status=FindingStatus.RESOLVED
        ),
        "ended": patient.induction_plans.filter(ended_at__isnull=False)[:5],
        "evidence": _evidence(),
        "grades": GRADE_LABELS,
    }
    return render(request, "induction/page.html", context, status=status)


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def induction(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    """The transition page; a POST opens the plan or writes its next version."""
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    plan = open_plan(patient)
    if request.method == "POST":
        form = InductionPlanForm(request.POST, instance=plan)
        if not form.is_valid():
            return _render(request, patient, plan, plan_form=form, status=400)
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        saved = do_save_induction_plan(
            patient=patient, author=user, values=values, ip=client_ip(request)
        )
        messages.success(
            request,
            gettext("Buprenorphine transition plan saved (version %(version)s).")
            % {"version": saved.version},
        )
        return _page(patient)
    screen_now_if_due(PatientProfile.objects.filter(pk=patient.pk))  # findings shown are current
    audit_chain.append(
        user,
        "induction.view",
        patient=patient,
        object_type="induction_plan",
        object_uuid=plan.uuid if plan else None,
        ip=client_ip(request),
    )
    return _render(request, patient, plan)


def _open_plan_or_404(patient: PatientProfile) -> InductionPlan:
    plan = open_plan(patient)
    if plan is None:
        raise Http404("No open buprenorphine transition plan")
    return plan


@access.role_required(Role.CLINICIAN)
@require_POST
def induction_log(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    plan = _open_plan_or_404(patient)
    form = InductionLogForm(request.POST)
    if not form.is_valid():
        return _render(request, patient, plan, log_form=form, status=400)
    data = form.cleaned_data
    do_log_induction(
        plan=plan,
        user=user,
        at=data["at"],
        dose_mg=data["dose_mg"],
        cows=data["cows"],
        sedation=data["sedation"],
        notes=data["notes"],
        ip=client_ip(request),
    )
    messages.success(request, gettext("Entry added to the induction log; the record was screened."))
    return redirect(reverse("induction", args=[patient.uuid]) + "#log")


@access.role_required(Role.CLINICIAN)
@require_POST
def induction_end(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    plan = _open_plan_or_404(patient)
    form = EndInductionForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _page(patient)
    do_end_induction_plan(
        plan=plan, user=user, reason=form.cleaned_data["reason"], ip=client_ip(request)
    )
    messages.success(request, gettext("The buprenorphine transition plan has ended."))
    return _page(patient)
