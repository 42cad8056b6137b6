"""The clinician's workspace: panel, patient record edits, plans with the taper helper."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.db.models import Avg, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.actions.plans import do_save_plan
from kratomwatch.clinic.actions.record import (
    do_add_medication,
    do_add_note,
    do_set_condition,
    do_set_pharmacogenomic,
    do_stop_medication,
)
from kratomwatch.clinic.actions.screening import active_plan, notes_about, screen_now_if_due
from kratomwatch.clinic.forms.clinician import (
    MedicationForm,
    NoteForm,
    PanelFilterForm,
)
from kratomwatch.clinic.forms.plans import SCHEDULABLE, PlanForm, TaperHelperForm, parse_steps
from kratomwatch.clinic.lot_facts import attach_lots
from kratomwatch.clinic.models import (
    SEVERITY_RANK,
    FindingStatus,
    MedicationStatement,
    PatientProfile,
    Role,
)
from kratomwatch.clinic.panel import filtered, panel_rows
from kratomwatch.clinic.reports.visit import screening_line
from kratomwatch.clinic.text import first_error
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.domain.conditions import CONDITION_LABELS, PHENOTYPE_LABELS, ConditionCode, Gene
from kratomwatch.domain.products import FORM_LABELS, ProductForm
from kratomwatch.domain.taper import TaperError, propose_taper


@access.role_required(Role.CLINICIAN)
def patient_detail(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    screen_now_if_due(PatientProfile.objects.filter(pk=patient.pk))  # findings shown are current
    audit_chain.append(
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
    context = {
        **timeline_context(patient),
        "condition_choices": [(c.value, CONDITION_LABELS[c]) for c in ConditionCode],
        "genes": [g.value for g in Gene],
        "phenotypes": list(PHENOTYPE_LABELS.items()),
        "notes": patient.notes.select_related("author")[:10],
        "schedules": patient.questionnaire_schedules.filter(active=True),
        "patient": patient,
        "conditions": patient.conditions.filter(active=True),
        "medications": medications,
        "pharmacogenomics": patient.pharmacogenomics.all(),
        "products": products,
        "doses": patient.doses.select_related("product", "checkin")[:30],
        "responses": patient.responses.all()[:20],
        "symptoms": patient.symptoms.all()[:20],
        "findings": findings,
        "screening_line": screening_line(patient),
        "plan": active_plan(patient),
    }
    return render(request, "clinic/patient_detail.html", context)


PANEL_PAGE = 50  # the most urgent first; the rest on request
CATEGORIES = [
    ("interaction", gettext_lazy("Interaction with a medication")),
    ("condition", gettext_lazy("Condition")),
    ("product", gettext_lazy("Product")),
    ("red_flag", gettext_lazy("Red flag")),
    ("dependence", gettext_lazy("Dependence or withdrawal")),
    ("tolerance", gettext_lazy("Tolerance")),
    ("benefit", gettext_lazy("Lack of benefit")),
    ("plan", gettext_lazy("Plan deviation")),
    ("screening", gettext_lazy("Screening problem")),
]


@access.role_required(Role.CLINICIAN)
def panel(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    show_all = request.GET.get("show") == "all"
    filters = PanelFilterForm(request.GET)
    if not filters.is_valid():
        messages.error(
            request,
            gettext("The search was not applied. %(error)s") % {"error": first_error(filters)},
        )
    rows = panel_rows(
        filtered(access.visible_patients(user), filters.cleaned_data if filters.is_valid() else {}),
        shown=None if show_all else PANEL_PAGE,
        viewer=user,
    )
    context = {
        "rows": rows if show_all else rows[:PANEL_PAGE],
        "total": len(rows),
        "hidden": 0 if show_all else max(0, len(rows) - PANEL_PAGE),
        "params": request.GET,
        "conditions": [(c.value, CONDITION_LABELS[c]) for c in ConditionCode],
        "forms": [(f.value, FORM_LABELS[f]) for f in ProductForm],
        "categories": CATEGORIES,
    }
    if request.headers.get("HX-Request"):
        return render(request, "clinician/_panel_rows.html", context)
    return render(request, "clinician/panel.html", context)


def _back(patient: PatientProfile, anchor: str = "") -> HttpResponse:
    url = reverse("patient_detail", kwargs={"patient_uuid": patient.uuid})
    return redirect(url + (f"#{anchor}" if anchor else ""))


@access.role_required(Role.CLINICIAN)
@require_POST
def medication_add(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    form = MedicationForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(patient, "medications")
    name = form.cleaned_data["name"]
    do_add_medication(
        patient=patient,
        user=user,
        name=name,
        dose_text=form.cleaned_data["dose_text"],
        ip=client_ip(request),
    )
    messages.success(
        request, gettext("Added %(name)s; the record was screened again.") % {"name": name}
    )
    return _back(patient, "medications")


@access.role_required(Role.CLINICIAN)
@require_POST
def medication_stop(request: HttpRequest, patient_uuid: str, med_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    try:
        med = patient.medications.get(uuid=med_uuid)
    except (MedicationStatement.DoesNotExist, ValueError) as exc:
        raise Http404("No such medication") from exc
    do_stop_medication(med=med, user=user, ip=client_ip(request))
    messages.success(request, gettext("Stopped %(name)s.") % {"name": med.name_entered})
    return _back(patient, "medications")


@access.role_required(Role.CLINICIAN)
@require_POST
def condition_set(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    code = request.POST.get("code", "")
    if code not in {c.value for c in ConditionCode}:
        messages.error(request, gettext("Choose a condition from the list."))
        return _back(patient, "conditions")
    active = request.POST.get("active", "1") == "1"
    do_set_condition(patient=patient, user=user, code=code, active=active, ip=client_ip(request))
    return _back(patient, "conditions")


@access.role_required(Role.CLINICIAN)
@require_POST
def pharmacogenomic_set(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    gene, phenotype = request.POST.get("gene", ""), request.POST.get("phenotype", "")
    if gene not in {g.value for g in Gene} or phenotype not in {p.value for p in PHENOTYPE_LABELS}:
        messages.error(request, gettext("Choose a gene and a phenotype from the lists."))
        return _back(patient, "pgx")
    do_set_pharmacogenomic(
        patient=patient, user=user, gene=gene, phenotype=phenotype, ip=client_ip(request)
    )
    return _back(patient, "pgx")


@access.role_required(Role.CLINICIAN)
@require_POST
def note_add(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(patient, "notes")
    do_add_note(patient=patient, user=user, text=form.cleaned_data["text"], ip=client_ip(request))
    return _back(patient, "notes")


def recent_daily_dose(patient: PatientProfile, days: int = 14) -> Decimal | None:
    since = timezone.now() - timedelta(days=days)
    total = patient.doses.filter(taken_at__gte=since).aggregate(g=Sum("leaf_equivalent_g"))["g"]
    return None if total is None else (Decimal(total) / days).quantize(Decimal("0.1"))


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    """Write a new plan version. The taper helper only proposes steps: nothing is saved until
    the clinician approves the plan with the steps as they edited them."""
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    current = active_plan(patient)
    recent = recent_daily_dose(patient)
    schedules = {
        s.instrument_id: s.every_days for s in patient.questionnaire_schedules.filter(active=True)
    }
    steps: list[dict[str, str]] = list((current.details or {}).get("steps", [])) if current else []
    step_errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = PlanForm(request.POST)
        helper = TaperHelperForm(request.POST, prefix="taper")
        steps, step_errors = parse_steps(request.POST)
        if request.POST.get("action") == "propose":
            if helper.is_valid():
                try:
                    proposal = propose_taper(**helper.cleaned_data)
                except TaperError as exc:
                    helper.add_error(None, str(exc))
                else:
                    steps = [
                        {"start": s.start.isoformat(), "daily_g": f"{s.daily_g.normalize():f}"}
                        for s in proposal
                    ]
                    step_errors = []
                    messages.info(
                        request,
                        gettext(
                            "Steps proposed below. Edit them as needed; nothing "
                            "takes effect until you approve the plan."
                        ),
                    )
            status = 200 if helper.is_valid() else 400
            form = PlanForm(initial=request.POST.dict())  # as typed, not yet validated
        elif form.is_valid() and not step_errors:
            values = {k: v for k, v in form.cleaned_data.items() if not k.startswith("every_")}
            plan = do_save_plan(
                patient=patient,
                author=user,
                values=values,
                steps=steps,
                schedules=form.schedules(),
                ip=client_ip(request),
            )
            messages.success(
                request,
                gettext("Plan version %(version)s approved and now in effect.")
                % {"version": plan.version},
            )
            return _back(patient, "plan")
        else:
            status = 400
    else:
        initial: dict[str, object] = {f"every_{k}": v for k, v in schedules.items()}
        if current is not None:
            initial.update({f: getattr(current, f) for f in PlanForm.Meta.fields if f != "reason"})
        form = PlanForm(initial=initial)
        helper = TaperHelperForm(
            prefix="taper",
            initial={"recent_daily_g": recent, "start": timezone.localdate() + timedelta(days=1)},
        )
    return render(
        request,
        "clinician/plan_edit.html",
        {
            "patient": patient,
            "form": form,
            "helper": helper,
            "steps": steps,
            "step_errors": step_errors,
            "current": current,
            "recent": recent,
            "history": patient.plans.select_related("author").order_by("-version")[:10],
            "schedulable": SCHEDULABLE,
        },
        status=status,
    )


def timeline_context(patient: PatientProfile) -> dict[str, object]:
    from kratomwatch.clinic.charts import trend_svg
    from kratomwatch.clinic.trends import daily_series

    last = timezone.localdate()
    series = daily_series(patient, last - timedelta(days=83), last)
    return {
        "timeline_svg": trend_svg(
            series, gettext("Daily dose, pain and interference: last 12 weeks")
        ),
        "side_effect_days": patient.symptoms.filter(
            reported_at__date__gte=last - timedelta(days=83)
        )
        .dates("reported_at", "day")
        .count(),
        "withdrawal": patient.responses.filter(instrument_id="kw-withdrawal").order_by("-taken_at")[
            :6
        ],
        "pain_mean": patient.responses.filter(
            instrument_id="kw-daily-pain", taken_at__date__gte=last - timedelta(days=13)
        ).aggregate(m=Avg("total"))["m"],
    }
