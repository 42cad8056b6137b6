"""The patient's own app: check-in, questionnaires, products, plan, trends, data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta

from django.contrib import messages
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.questionnaires import ScoringError, get_instrument, urgent_symptoms
from kratomwatch.domain.safety import urgent_findings

from . import access
from .actions import active_plan
from .actions_patient import (
    do_add_product,
    do_report_red_flags,
    do_request_deletion,
    do_set_reminder,
    do_submit_checkin,
    do_submit_questionnaire,
)
from .charts import trend_svg
from .form_errors import error_summary
from .forms_patient import (
    CheckInForm,
    DeletionRequestForm,
    DoseRows,
    ProductCreateForm,
    QuestionnaireForm,
    ReminderForm,
    dose_rows_initial,
    new_key,
)
from .models import (
    CheckIn,
    Finding,
    FindingStatus,
    PatientProfile,
    QuestionnaireResponse,
    Role,
    User,
)
from .snapshot import plan_limits
from .text import first_error
from .trends import daily_series, summary

DAILY = "kw-daily-pain"
WITHDRAWAL = "kw-withdrawal"


def _patient(request: HttpRequest) -> tuple[User, PatientProfile]:
    user = request.user
    assert isinstance(user, User)
    return user, access.own_profile(user)


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def due_questionnaires(patient: PatientProfile) -> list[tuple[str, str]]:
    """(instrument id, title) of scheduled questionnaires that are due, the daily-asked
    withdrawal checklist excepted (it is part of the check-in)."""
    now = timezone.now()
    last = dict(patient.responses.values_list("instrument_id").annotate(Max("taken_at")))
    due = []
    for schedule in patient.questionnaire_schedules.filter(active=True):
        if schedule.instrument_id == WITHDRAWAL and schedule.every_days == 1:
            continue
        taken = last.get(schedule.instrument_id)
        if taken is None or taken <= now - timedelta(days=schedule.every_days):
            due.append((schedule.instrument_id, get_instrument(schedule.instrument_id).title))
    return due


def withdrawal_in_checkin(patient: PatientProfile) -> bool:
    return patient.questionnaire_schedules.filter(
        active=True, instrument_id=WITHDRAWAL, every_days=1
    ).exists()


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


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    user, patient = _patient(request)
    today = timezone.localdate()
    daily = get_instrument(DAILY)
    extra = [get_instrument(WITHDRAWAL)] if withdrawal_in_checkin(patient) else []
    urgent: tuple[DomainFinding, ...] = ()
    flags_saved: list[str] = []
    if request.method == "POST":
        data = _with_key(request.POST)
        form = CheckInForm(data)
        ratings = QuestionnaireForm(daily, data, prefix="r")
        extras = [QuestionnaireForm(i, data, prefix=f"x{n}") for n, i in enumerate(extra)]
        rows = DoseRows(data, prefix="dose", patient=patient, day=today)
        valid = all(
            [form.is_valid(), ratings.is_valid(), rows.is_valid(), *(x.is_valid() for x in extras)]
        )
        if valid:
            try:
                entry, created = do_submit_checkin(
                    patient=patient,
                    user=user,
                    key=form.cleaned_data["idempotency_key"],
                    day=today,
                    daily=(daily, ratings.answers()),
                    extra=[(x.instrument, x.answers()) for x in extras],
                    doses=[(f.cleaned_data["product"], c) for f, c in rows.taken()],
                    side_effects=form.severities(),
                    red_flags=form.cleaned_data["red_flags"],
                    note=form.cleaned_data["note"],
                    ip=_ip(request),
                )
            except ScoringError as exc:
                ratings.add_scoring_errors(exc)
            else:
                if not created:
                    messages.info(
                        request, "This check-in was already saved; nothing was added twice."
                    )
                return redirect("checkin_done", checkin_uuid=entry.uuid)
        # A red flag gets through whatever else is wrong: saved on its own now (the check-in,
        # once corrected, adds it once), and its urgent guidance shown at the top.
        labels = dict(form.fields["red_flags"].choices)  # type: ignore[attr-defined]
        flags = [sid for sid in dict.fromkeys(data.getlist("red_flags")) if sid in labels]
        if flags:
            urgent = do_report_red_flags(
                patient=patient,
                user=user,
                key=data["idempotency_key"],
                symptoms=flags,
                ip=_ip(request),
            )
            flags_saved = [labels[f] for f in flags]
        status = 400
    else:
        form = CheckInForm(initial={"idempotency_key": new_key()})
        ratings = QuestionnaireForm(daily, prefix="r")
        extras = [QuestionnaireForm(i, prefix=f"x{n}") for n, i in enumerate(extra)]
        rows = DoseRows(
            prefix="dose", patient=patient, day=today, initial=dose_rows_initial(patient, today)
        )
        status = 200
    has_yesterday = any(f.initial.get("amount") for f in rows.forms)
    posted = request.POST if request.method == "POST" else None
    return render(
        request,
        "patient/checkin.html",
        {
            # Chips are written out in the template (faster than one widget each).
            "side_effects": form.fields["side_effects"].choices,  # type: ignore[attr-defined]
            "red_flags": form.fields["red_flags"].choices,  # type: ignore[attr-defined]
            "chosen_effects": set(posted.getlist("side_effects")) if posted else set(),
            "chosen_flags": set(posted.getlist("red_flags")) if posted else set(),
            "severities": {k[9:]: v for k, v in posted.items() if k.startswith("severity_")}
            if posted
            else {},
            "patient": patient,
            "form": form,
            "ratings": ratings,
            "extras": extras,
            "rows": rows,
            "has_yesterday": has_yesterday,
            "today": today,
            "has_products": patient.products.filter(archived=False).exists(),
            "now_time": timezone.localtime().time(),
            "urgent": urgent,
            "flags_saved": flags_saved,
            "errors": error_summary(
                ratings, rows, *extras, form, names=["", "Dose", *([""] * len(extras))]
            )
            if request.method == "POST"
            else [],
        },
        status=status,
    )


def _with_key(posted: QueryDict) -> QueryDict:
    """The posted data with a usable idempotency key: the form's own, or a new one kept in
    the page, so that sending the page again never saves anything twice."""
    key = posted.get("idempotency_key", "")
    if 0 < len(key) <= 80 and key.isprintable():
        return posted
    data = posted.copy()
    data["idempotency_key"] = new_key()
    return data


@access.role_required(Role.PATIENT)
def checkin_done(request: HttpRequest, checkin_uuid: str) -> HttpResponse:
    _, patient = _patient(request)
    try:
        entry = patient.checkins.get(uuid=checkin_uuid)
    except (CheckIn.DoesNotExist, ValueError) as exc:
        raise Http404("No such check-in") from exc
    symptoms = list(entry.symptoms.all())
    urgent, others = urgent_and_other_messages(patient, [s.term for s in symptoms])
    return render(
        request,
        "patient/checkin_done.html",
        {
            "patient": patient,
            "entry": entry,
            "urgent": urgent,
            "others": others,
            "doses": entry.doses.select_related("product"),
            "symptoms": symptoms,
        },
    )


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, instrument_id: str) -> HttpResponse:
    user, patient = _patient(request)
    if not patient.questionnaire_schedules.filter(
        active=True, instrument_id=instrument_id
    ).exists():
        raise Http404("This questionnaire is not scheduled for you")
    instrument = get_instrument(instrument_id)
    urgent: tuple[DomainFinding, ...] = ()
    if request.method == "POST":
        data = _with_key(request.POST)
        key = data["idempotency_key"]
        form = QuestionnaireForm(instrument, data)
        if form.is_valid():
            try:
                response, created = do_submit_questionnaire(
                    patient=patient,
                    user=user,
                    instrument=instrument,
                    answers=form.answers(),
                    key=key,
                    ip=_ip(request),
                )
            except ScoringError as exc:
                form.add_scoring_errors(exc)
            else:
                if not created:
                    messages.info(request, "These answers were already saved.")
                return redirect("questionnaire_done", response_uuid=response.uuid)
        # A crisis answer gets through whatever else is missing: saved on its own as the
        # red flag it reports, with its guidance at the top; the rest stays for correction.
        crisis = urgent_symptoms(instrument, _given_answers(form))
        if crisis:
            urgent = do_report_red_flags(
                patient=patient, user=user, key=key, symptoms=crisis, ip=_ip(request)
            )
        status = 400
    else:
        key = new_key()
        form = QuestionnaireForm(instrument)
        status = 200
    return render(
        request,
        "patient/questionnaire.html",
        {
            "instrument": instrument,
            "form": form,
            "key": key,
            "urgent": urgent,
            "errors": error_summary(form) if form.is_bound else [],
        },
        status=status,
    )


def _given_answers(form: QuestionnaireForm) -> dict[str, object]:
    """Each item's answer as a number where it is one, however the rest of the form fared."""
    given: dict[str, object] = {}
    for item in form.instrument.items:
        raw = form.data.get(form.add_prefix(item.id), "")
        try:
            given[item.id] = int(raw)
        except (TypeError, ValueError):
            continue
    return given


@access.role_required(Role.PATIENT)
def questionnaire_done(request: HttpRequest, response_uuid: str) -> HttpResponse:
    _, patient = _patient(request)
    try:
        response = patient.responses.get(uuid=response_uuid)
    except (QuestionnaireResponse.DoesNotExist, ValueError) as exc:
        raise Http404("No such response") from exc
    urgent, _ = urgent_and_other_messages(patient)
    return render(
        request,
        "patient/questionnaire_done.html",
        {
            "instrument": get_instrument(response.instrument_id),
            "response": response,
            "urgent": urgent,
        },
    )


@access.role_required(Role.PATIENT)
def products(request: HttpRequest) -> HttpResponse:
    _, patient = _patient(request)
    return render(
        request, "patient/products.html", {"products": patient.products.filter(archived=False)}
    )


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def product_add(request: HttpRequest) -> HttpResponse:
    user, patient = _patient(request)
    if request.method == "POST":
        form = ProductCreateForm(request.POST)
        if form.is_valid():
            product, created = do_add_product(
                patient=patient,
                user=user,
                product=form.instance,
                key=form.cleaned_data["idempotency_key"],
                ip=_ip(request),
            )
            if created:
                messages.success(request, f"Added {product.name}.")
            else:
                messages.info(request, f"{product.name} was already added.")
            return redirect("my_products")
        status = 400
    else:
        form = ProductCreateForm(initial={"idempotency_key": new_key()})
        status = 200
    return render(request, "patient/product_add.html", {"form": form}, status=status)


@access.role_required(Role.PATIENT)
def my_plan(request: HttpRequest) -> HttpResponse:
    _, patient = _patient(request)
    plan = active_plan(patient)
    return render(
        request,
        "patient/plan.html",
        {"plan": plan, "steps": plan_limits(plan).steps if plan else ()},
    )


@access.role_required(Role.PATIENT)
def trends(request: HttpRequest) -> HttpResponse:
    _, patient = _patient(request)
    try:
        weeks = int(request.GET.get("weeks", "4"))
    except ValueError:
        weeks = 4
    if weeks not in (2, 4, 12):
        weeks = 4
    last = timezone.localdate()
    first = last - timedelta(days=7 * weeks - 1)
    series = daily_series(patient, first, last)
    # Drawn narrow so that its labels stay readable on a phone.
    svg = trend_svg(
        series, f"Pain, interference and daily dose over {weeks} weeks", width=360, height=300
    )
    mg_days = sum(v is not None and v > 0 for v in series.mitragynine_mg)
    return render(
        request,
        "patient/trends.html",
        {
            "weeks": weeks,
            "svg": svg,
            "summary": summary(series),
            "mg_days": mg_days,
            "mg_total": sum(v for v in series.mitragynine_mg if v is not None) / max(1, mg_days),
        },
    )


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    user, patient = _patient(request)
    reminder = ReminderForm(
        initial={
            "reminder_time": patient.reminder_time.strftime("%H:%M")
            if patient.reminder_time
            else "",
            "email": user.email,
        }
    )
    if request.method == "POST":
        reminder = ReminderForm(request.POST)
        if reminder.is_valid():
            raw = reminder.cleaned_data["reminder_time"]
            do_set_reminder(
                patient=patient,
                user=user,
                at=time.fromisoformat(raw) if raw else None,
                email=reminder.cleaned_data["email"],
            )
            messages.success(
                request,
                f"Reminder set for {raw} every day." if raw else "Daily reminder turned off.",
            )
            return redirect("my_data")
    return render(
        request,
        "patient/my_data.html",
        {
            "reminder": reminder,
            "patient": patient,
            "deletion": patient.deletion_requests.order_by("-created").first(),
        },
        status=400 if request.method == "POST" else 200,
    )


@access.role_required(Role.PATIENT)
@require_POST
def request_deletion(request: HttpRequest) -> HttpResponse:
    user, patient = _patient(request)
    form = DeletionRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Your request was not sent. {first_error(form)}")
        return redirect("my_data")
    do_request_deletion(
        patient=patient, user=user, reason=form.cleaned_data["reason"], ip=_ip(request)
    )
    messages.success(
        request,
        "Your request was sent to your clinic. They will contact you: "
        "some records may have to be kept for a time by law.",
    )
    return redirect("my_data")


@access.role_required(Role.PATIENT)
def my_data_csv(request: HttpRequest) -> HttpResponse:
    user, patient = _patient(request)
    from .exports import patient_csv_zip

    # The export itself writes the audit event (csv.export) with the patient as the actor.
    response = HttpResponse(patient_csv_zip(patient, actor=user), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="kratomwatch-my-data.zip"'
    return response


@access.role_required(Role.PATIENT)
def my_data_pdf(request: HttpRequest) -> HttpResponse:
    user, patient = _patient(request)
    from .actions import audit
    from .exports import patient_pdf

    audit(
        user,
        "patient.export_pdf",
        patient=patient,
        object_type="patient",
        object_uuid=patient.uuid,
        ip=_ip(request),
    )
    response = HttpResponse(patient_pdf(patient), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="kratomwatch-my-data.pdf"'
    return response


@access.role_required(Role.PATIENT)
def record_views(request: HttpRequest) -> HttpResponse:
    """Who viewed or exported my record, and when: from the audit trail, newest first."""
    user, patient = _patient(request)
    from django.core.paginator import Paginator

    from .audit_chain import VIEW_ACTIONS
    from .audit_chain import record_views as views_of

    page = Paginator(views_of(patient), 50).get_page(request.GET.get("page"))
    rows = []
    for event in page:
        actor = event.actor
        if actor is None:
            who, role = "Clinic staff, on the server's command line", "—"
        elif actor.pk == user.pk:
            who, role = "You", actor.get_role_display()
        else:
            who, role = actor.get_full_name() or actor.username, actor.get_role_display()
        rows.append({"at": event.at, "who": who, "role": role, "what": VIEW_ACTIONS[event.action]})
    return render(request, "patient/record_views.html", {"page": page, "rows": rows})
