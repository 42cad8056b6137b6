"""The start page, and the patient's home: their tasks, messages and a single dose."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.doses import do_record_dose
from kratomwatch.clinic.actions.screening import active_plan
from kratomwatch.clinic.form_errors import error_summary
from kratomwatch.clinic.forms.doses import DoseForm
from kratomwatch.clinic.models import (
    Finding,
    FindingStatus,
    PatientProfile,
    Role,
)
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.products import format_decimal
from kratomwatch.domain.safety import urgent_findings


@login_required
def home(request: HttpRequest) -> HttpResponse:
    page = access.start_page(user_of(request))
    if page is None:
        return render(request, "clinic/no_role.html", status=403)
    return redirect(page)


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def patient_home(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    patient = access.own_profile(user)
    if request.method == "POST":
        form = DoseForm(patient, request.POST)
        if form.is_valid() and form.checked is not None:
            entry, created = do_record_dose(
                patient=patient,
                entered_by=user,
                product=form.cleaned_data["product"],
                lot=form.cleaned_data.get("lot"),
                checked=form.checked,
                idempotency_key=form.cleaned_data["idempotency_key"],
                preparation=form.cleaned_data["preparation"],
                ip=client_ip(request),
            )
            if created:
                amount = format_decimal(entry.amount)
                messages.success(
                    request,
                    gettext("Saved: %(amount)s %(unit)s of %(product)s.")
                    % {"amount": amount, "unit": entry.unit, "product": entry.product},
                )
            else:
                messages.info(
                    request, gettext("This dose was already saved; it was not added twice.")
                )
            return redirect("patient_home")
        status = 400
    else:
        form = DoseForm.blank(patient)
        status = 200
    from kratomwatch.clinic.views.checkins import due_questionnaires

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


def open_messages(patient: PatientProfile) -> list[Finding]:
    """Patient-facing text of open findings, newest first, one per kind."""
    latest: dict[str, Finding] = {}
    rows = (
        patient.findings.filter(status=FindingStatus.OPEN, active=True)
        .exclude(patient_message="")
        .order_by("-last_seen")
    )
    for finding in rows:
        latest.setdefault(finding.code, finding)
    order = {"high": 0, "moderate": 1, "low": 2}
    return sorted(latest.values(), key=lambda f: order.get(f.severity, 3))


def urgent_and_other_messages(
    patient: PatientProfile, reported: Sequence[str] = ()
) -> tuple[list[Finding | DomainFinding], list[Finding]]:
    """:func:`open_messages` split in two: the urgent ones (red flags, a crisis answer), always
    shown in full, and the others, most severe first. The red flags just ``reported`` (symptom
    terms) are urgent even before, or without, a screening that stored them: their guidance
    never waits on the screening."""
    urgent: list[Finding | DomainFinding] = []
    others: list[Finding] = []
    for finding in open_messages(patient):
        (urgent if finding.category == "red_flag" else others).append(finding)
    codes = {f.code for f in urgent}
    urgent += [f for f in urgent_findings(reported, timezone.now()) if f.code not in codes]
    return urgent, others
