"""Safety findings for clinicians: the inbox, acknowledging and resolving."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kratomwatch.clinic import access, attention
from kratomwatch.clinic.actions.findings import (
    LifecycleError,
    do_acknowledge_finding,
    do_bulk_acknowledge,
    do_resolve_finding,
)
from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.forms.clinician import (
    BulkAcknowledgeForm,
    FindingActionForm,
)
from kratomwatch.clinic.models import (
    Finding,
    FindingSeverity,
    FindingStatus,
    Role,
)
from kratomwatch.clinic.text import first_error
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.clinic.views.patient_page import patient_url


@access.role_required(Role.CLINICIAN)
@require_POST
def finding_action(request: HttpRequest, patient_uuid: str, finding_uuid: str) -> HttpResponse:
    user = user_of(request)
    finding = access.finding_for(user, patient_uuid, finding_uuid)
    form = FindingActionForm(request.POST)
    back = patient_url(finding.patient, f"f-{finding.uuid}")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{data_text(finding.title)}: {error}")
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
    messages.success(
        request, f"{data_text(finding.title)}: {str(finding.get_status_display()).lower()}."
    )
    return redirect(back)


@access.role_required(Role.CLINICIAN)
def findings_inbox(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    findings = list(
        access.care_team_findings(user)
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


@access.role_required(Role.CLINICIAN)
@require_POST
def bulk_acknowledge(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    ids = request.POST.getlist("finding")
    form = BulkAcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("findings_inbox")
    reason = form.cleaned_data["reason"]
    findings = list(
        access.care_team_findings(user).filter(uuid__in=[i for i in ids if len(i) == 36])
    )
    if len(findings) != len(set(ids)):
        raise Http404("No such finding")
    try:
        count = do_bulk_acknowledge(
            findings=findings, user=user, reason=reason, ip=client_ip(request)
        )
    except LifecycleError as exc:
        messages.error(request, str(exc))
        return redirect("findings_inbox")
    messages.success(
        request,
        ngettext(
            "Acknowledged %(count)s low-severity finding.",
            "Acknowledged %(count)s low-severity findings.",
            count,
        )
        % {"count": count},
    )
    return redirect("findings_inbox")
