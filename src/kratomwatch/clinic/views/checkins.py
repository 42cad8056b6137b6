"""The patient's daily check-in and questionnaires."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.checkins import (
    DAILY,
    WITHDRAWAL,
    do_report_red_flags,
    do_submit_checkin,
    do_submit_questionnaire,
    withdrawal_in_checkin,
)
from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.form_errors import error_summary
from kratomwatch.clinic.forms.checkins import CheckInForm, QuestionnaireForm, entry_time
from kratomwatch.clinic.forms.doses import DoseRows, dose_rows_initial, new_key
from kratomwatch.clinic.models import (
    CheckIn,
    PatientProfile,
    QuestionnaireResponse,
    Role,
)
from kratomwatch.clinic.screening_input import product_spec
from kratomwatch.clinic.views.common import client_ip, patient_of
from kratomwatch.clinic.views.home import urgent_and_other_messages
from kratomwatch.domain.doses import entry_checks, entry_input_limits
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.questionnaires import ScoringError, get_instrument, urgent_symptoms
from kratomwatch.domain.safety.urgent import urgent_findings


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


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    today = timezone.localdate()
    daily = get_instrument(DAILY)
    extra = [get_instrument(WITHDRAWAL)] if withdrawal_in_checkin(patient) else []
    urgent: tuple[DomainFinding, ...] = ()
    flags_saved: list[str] = []
    # A check-in sent from the phone's queue (entered with no connection) asks for JSON.
    queued = request.headers.get("Accept", "").startswith("application/json")
    if request.method == "POST":
        owner = request.POST.get("owner")
        if queued and owner is not None and owner != str(user.uuid):
            # Kept on a shared phone by another patient: theirs to send, under their name.
            return JsonResponse({"saved": False, "owner": False}, status=409)
        data = _with_key(request.POST)
        stored = patient.checkins.filter(idempotency_key=data["idempotency_key"]).first()
        if stored is not None:
            # Sent again (a retry after a lost answer): already saved, whatever changed since.
            return _saved(request, stored, created=False, queued=queued)
        entered = _entered_at(data)
        day = timezone.localdate(entered) if entered else today
        form = CheckInForm(data)
        ratings = QuestionnaireForm(daily, data, prefix="r")
        extras = [QuestionnaireForm(i, data, prefix=f"x{n}") for n, i in enumerate(extra)]
        rows = DoseRows(data, prefix="dose", patient=patient, day=day, now=entered)
        valid = all(
            [form.is_valid(), ratings.is_valid(), rows.is_valid(), *(x.is_valid() for x in extras)]
        )
        if valid:
            try:
                entry, created = do_submit_checkin(
                    patient=patient,
                    user=user,
                    key=form.cleaned_data["idempotency_key"],
                    day=day,
                    entered_at=form.cleaned_data["entered_at"],
                    daily=(daily, ratings.answers()),
                    extra=[(x.instrument, x.answers()) for x in extras],
                    doses=[
                        (f.cleaned_data["product"], c, f.cleaned_data.get("lot"))
                        for f, c in rows.taken()
                    ],
                    side_effects=form.severities(),
                    red_flags=form.cleaned_data["red_flags"],
                    note=form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except ScoringError as exc:
                ratings.add_scoring_errors(exc)
            else:
                return _saved(request, entry, created=created, queued=queued)
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
                ip=client_ip(request),
                reported_at=entered,
            )
            flags_saved = [labels[f] for f in flags]
        status = 400
        if queued:
            problems = error_summary(
                ratings, rows, *extras, form, names=["", "Dose", *([""] * len(extras))]
            )
            return JsonResponse(
                {
                    "saved": False,
                    "errors": [text for _, text in problems],
                    "red_flags_sent": flags_saved,
                },
                status=400,
            )
    else:
        form = CheckInForm(initial={"idempotency_key": new_key()})
        ratings = QuestionnaireForm(daily, prefix="r")
        extras = [QuestionnaireForm(i, prefix=f"x{n}") for n, i in enumerate(extra)]
        rows = DoseRows(
            prefix="dose", patient=patient, day=today, initial=dose_rows_initial(patient, today)
        )
        status = 200
    has_yesterday = any(f.initial.get("amount") for f in rows.forms)
    checks = {
        str(p.uuid): entry_checks(product_spec(p)) for p in patient.products.filter(archived=False)
    }
    posted = request.POST if request.method == "POST" else None
    return render(
        request,
        "patient/checkin.html",
        {
            # Chips are written out in the template (faster than one widget each).
            "side_effects": form.fields["side_effects"].choices,  # type: ignore[attr-defined]
            # Each red flag carries its urgent guidance, shown on the phone the moment it is
            # ticked, with or without a connection.
            "red_flags": [
                (sid, label, *_guidance(sid))
                for sid, label in form.fields["red_flags"].choices  # type: ignore[attr-defined]
            ],
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
            "has_products": bool(checks),
            # What the phone checks in a dose before keeping it with no connection.
            "entry_checks": {"products": checks, **entry_input_limits()},
            "now_time": timezone.localtime().time(),
            "urgent": urgent,
            "flags_saved": flags_saved,
            "errors": error_summary(
                ratings, rows, *extras, form, names=["", gettext("Dose"), *([""] * len(extras))]
            )
            if request.method == "POST"
            else [],
        },
        status=status,
    )


def _entered_at(data: QueryDict) -> datetime | None:
    """The moment a late check-in was entered, if given and usable (the form reports it
    otherwise)."""
    try:
        return entry_time(data.get("entered_at", ""), timezone.now())
    except forms.ValidationError:
        return None


def _saved(request: HttpRequest, entry: CheckIn, *, created: bool, queued: bool) -> HttpResponse:
    """The answer to a saved check-in: its page, or for the phone's queue, JSON saying so."""
    if queued:
        url = reverse("checkin_done", kwargs={"checkin_uuid": entry.uuid})
        return JsonResponse({"saved": True, "new": created, "url": url})
    if not created:
        messages.info(request, "This check-in was already saved; nothing was added twice.")
    return redirect("checkin_done", checkin_uuid=entry.uuid)


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
    _, patient = patient_of(request)
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
            "doses": entry.doses.select_related("product", "lot"),
            "symptoms": symptoms,
        },
    )


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, instrument_id: str) -> HttpResponse:
    user, patient = patient_of(request)
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
                    ip=client_ip(request),
                )
            except ScoringError as exc:
                form.add_scoring_errors(exc)
            else:
                if not created:
                    messages.info(request, gettext("These answers were already saved."))
                return redirect("questionnaire_done", response_uuid=response.uuid)
        # A crisis answer gets through whatever else is missing: saved on its own as the
        # red flag it reports, with its guidance at the top; the rest stays for correction.
        crisis = urgent_symptoms(instrument, _given_answers(form))
        if crisis:
            urgent = do_report_red_flags(
                patient=patient, user=user, key=key, symptoms=crisis, ip=client_ip(request)
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
    _, patient = patient_of(request)
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


@functools.cache
def _urgent_texts(symptom_id: str) -> tuple[tuple[str, str | None], ...]:
    """The title and message of each red-flag rule a report of ``symptom_id`` raises."""
    return tuple(
        (f.title, f.patient_message) for f in urgent_findings([symptom_id], timezone.now())
    )


def _guidance(symptom_id: str) -> tuple[str, str]:
    """Those titles and messages in the active language, joined."""
    texts = _urgent_texts(symptom_id)
    return (
        " / ".join(data_text(title) for title, _ in texts),
        " ".join(data_text(message) for _, message in texts if message),
    )
