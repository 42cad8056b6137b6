"""N-of-1 trials in the app (the dose-response section is in :mod:`.analysis`).

Clinicians reach a patient through :func:`access.patient_for`, patients their own record
through :func:`access.own_profile`. A trial is designed, shown, and stored only when the
clinician confirms it; only the clinician stops one early; the patient answers one question
a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.actions.trials import (
    ACTIVE,
    TrialError,
    do_create_trial,
    do_record_trial_day,
    do_stop_trial,
    do_sync_trial_status,
)
from kratomwatch.clinic.analysis_app import trial_analysis
from kratomwatch.clinic.forms.trials import (
    StopForm,
    TrialDesignForm,
)
from kratomwatch.clinic.models import NofOneTrial, PatientProfile, Role, TrialStatus, User
from kratomwatch.clinic.views.analysis import interval, num, pct
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.domain.analysis import MIN_DAYS_PER_ARM, TrialSchedule, design_trial

PROPOSAL_SALT = "kratomwatch.nof1.proposal"
PROPOSAL_MAX_AGE = 24 * 60 * 60  # a proposal not confirmed within a day is designed again


# ------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class Cell:
    day: date
    arm: str | None  # "A", "B", "W" (washout) or None outside the trial
    today: bool
    followed: bool | None
    label: str  # for screen readers


def calendar(
    schedule: TrialSchedule, today: date, followed: dict[date, bool]
) -> list[dict[str, Any]]:
    """One grid per month the trial touches: weeks Monday first, days of other months None.

    Drawn with the site's own styles only (the content security policy allows no inline
    style), narrow enough for a 360 px phone."""
    months: list[dict[str, Any]] = []
    first = schedule.start_date.replace(day=1)
    while first <= schedule.end_date:
        following = (first + timedelta(days=32)).replace(day=1)
        cells: list[Cell | None] = [None] * first.weekday()
        day = first
        while day < following:
            plan = schedule.day_plan(day)
            name = date_format(day, "l j F")
            now = gettext(", today") if day == today else ""
            if plan is None:
                label = gettext("%(day)s: not in the trial") % {"day": name}
                cells.append(Cell(day, None, day == today, None, label + now))
            else:
                arm = "W" if plan.arm is None else plan.arm.value
                what = (
                    gettext("washout")
                    if plan.arm is None
                    else gettext("regimen %(arm)s") % {"arm": arm}
                )
                answer = followed.get(day)
                done = (
                    ""
                    if answer is None
                    else (gettext(", followed") if answer else gettext(", not followed"))
                )
                cells.append(Cell(day, arm, day == today, answer, f"{name}: {what}{done}{now}"))
            day += timedelta(days=1)
        cells += [None] * (-len(cells) % 7)
        weeks = [
            week
            for week in (cells[i : i + 7] for i in range(0, len(cells), 7))
            if any(c is not None and c.arm is not None for c in week)
        ]
        months.append({"title": date_format(first, "F Y"), "weeks": weeks})
        first = following
    return months


def _followed(trial: NofOneTrial) -> dict[date, bool]:
    return dict(trial.days.values_list("day", "followed"))


def _result_rows(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored or interim ``TrialResult.to_dict()``, formatted for the clinician."""
    if result is None:
        return None
    diff = result["difference_b_minus_a"]
    rows: dict[str, Any] = {"raw": result}
    if diff["mean"] is not None:
        rows["difference"] = interval(
            f"{diff['mean']:+.2f}", f"{diff['ci90'][0]:+.2f}", f"{diff['ci90'][1]:+.2f}"
        )
    rows |= {
        "p_a": pct(result["prob_a_better"]),
        "p_b": pct(result["prob_b_better"]),
        "p_none": pct(result["prob_no_important_difference"]),
        "mean_a": num(result["mean_pain_a"], 1),
        "mean_b": num(result["mean_pain_b"], 1),
    }
    if result.get("ar1"):
        ar1 = result["ar1"]
        rows["ar1"] = interval(
            f"{ar1['mean']:.2f}", f"{ar1['ci90'][0]:.2f}", f"{ar1['ci90'][1]:.2f}"
        )
    adherence = result.get("adherence")
    if adherence and adherence["scheduled_days"]:
        rows["adherence"] = gettext(
            "%(followed)s of %(scheduled)s scheduled days followed, %(not_followed)s not "
            "followed, %(not_answered)s not answered"
        ) % {
            "followed": adherence["on_schedule"],
            "scheduled": adherence["scheduled_days"],
            "not_followed": adherence["off_schedule"],
            "not_answered": adherence["not_recorded"],
        }
    return rows


def _trials_page(
    request: HttpRequest,
    patient: PatientProfile,
    form: TrialDesignForm,
    status: int = 200,
    proposal: dict[str, Any] | None = None,
) -> HttpResponse:
    trials = list(patient.nof1_trials.select_related("created_by"))
    context = {
        "patient": patient,
        "form": form,
        "trials": trials,
        "has_active": any(t.status in ACTIVE for t in trials),
        "proposal": proposal,
        "min_days_per_arm": MIN_DAYS_PER_ARM,
    }
    return render(request, "trials/design.html", context, status=status)


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def trial_design(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    """GET: the patient's trials and the design form. POST: a proposal, shown with its
    calendar; nothing is stored until the clinician confirms it."""
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    today = timezone.localdate()
    if request.method != "POST":
        return _trials_page(request, patient, TrialDesignForm(today=today))
    form = TrialDesignForm(request.POST, today=today)
    if patient.nof1_trials.filter(status__in=ACTIVE).exists():
        form.add_error(None, "This patient already has a planned or running trial.")
    if not form.is_valid():
        return _trials_page(request, patient, form, status=400)
    data = form.cleaned_data
    try:
        schedule = design_trial(
            data["regimen_a"],
            data["regimen_b"],
            data["period_days"],
            data["pairs"],
            data["washout_days"],
            data["start_date"],
        )
    except ValueError as exc:
        form.add_error(None, str(exc))
        return _trials_page(request, patient, form, status=400)
    params = schedule.to_dict()
    token = signing.dumps(
        {"patient": str(patient.uuid), "schedule": {k: params[k] for k in _PARAMS}},
        salt=PROPOSAL_SALT,
        compress=True,
    )
    proposal = {
        "schedule": schedule,
        "token": token,
        "months": calendar(schedule, today, {}),
        "order": ", ".join(schedule.order),
        "days": (schedule.end_date - schedule.start_date).days + 1,
    }
    return _trials_page(request, patient, form, proposal=proposal)


_PARAMS = (
    "regimen_a",
    "regimen_b",
    "period_days",
    "pairs",
    "washout_days",
    "start_date",
    "seed",
)


@access.role_required(Role.CLINICIAN)
@require_POST
def trial_confirm(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    """Store the proposal the clinician saw: the same parameters and seed, checked by
    signature, so the stored schedule is exactly the one shown."""
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    back = reverse("trial_design", kwargs={"patient_uuid": patient.uuid})
    try:
        data = signing.loads(
            request.POST.get("proposal", ""), salt=PROPOSAL_SALT, max_age=PROPOSAL_MAX_AGE
        )
        if data.get("patient") != str(patient.uuid):
            raise signing.BadSignature("another patient's proposal")
        schedule = TrialSchedule.from_dict(data["schedule"])
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        messages.error(
            request, gettext("This proposal has expired or was changed: design it again.")
        )
        return redirect(back)
    if schedule.start_date < timezone.localdate():
        messages.error(
            request, gettext("The proposed first day has passed: design the trial again.")
        )
        return redirect(back)
    try:
        trial = do_create_trial(
            patient=patient, clinician=user, schedule=schedule, ip=client_ip(request)
        )
    except TrialError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request, gettext("Trial stored. The patient now sees its calendar under My trial.")
    )
    return redirect("trial_detail", patient_uuid=patient.uuid, trial_uuid=trial.uuid)


def _clinician_trial(user: User, patient_uuid: str, trial_uuid: str) -> NofOneTrial:
    patient = access.patient_for(user, patient_uuid)
    try:
        trial: NofOneTrial = patient.nof1_trials.select_related("patient").get(uuid=trial_uuid)
    except (NofOneTrial.DoesNotExist, ValueError) as exc:
        raise Http404("No such trial") from exc
    return trial


@access.role_required(Role.CLINICIAN)
@require_GET
def trial_detail(request: HttpRequest, patient_uuid: str, trial_uuid: str) -> HttpResponse:
    user = user_of(request)
    trial = do_sync_trial_status(_clinician_trial(user, patient_uuid, trial_uuid))
    audit_chain.append(
        user,
        "nof1.view",
        patient=trial.patient,
        object_type="nof1_trial",
        object_uuid=trial.uuid,
        ip=client_ip(request),
    )
    return _detail_page(request, trial)


def _detail_page(
    request: HttpRequest, trial: NofOneTrial, stop_form: StopForm | None = None, status: int = 200
) -> HttpResponse:
    today = timezone.localdate()
    schedule = TrialSchedule.from_dict(trial.schedule)
    followed = _followed(trial)
    interim = None
    if trial.status == TrialStatus.RUNNING:
        interim = _result_rows(trial_analysis(trial, today).to_dict())
    context = {
        "patient": trial.patient,
        "trial": trial,
        "schedule": schedule,
        "order": ", ".join(schedule.order),
        "months": calendar(schedule, today, followed),
        "today_plan": schedule.day_plan(today),
        "result": _result_rows(trial.result),
        "interim": interim,
        "active": trial.status in ACTIVE,
        "stop_form": stop_form or StopForm(),
        "answers": len(followed),
        "min_days_per_arm": MIN_DAYS_PER_ARM,
    }
    return render(request, "trials/detail.html", context, status=status)


@access.role_required(Role.CLINICIAN)
@require_POST
def trial_stop(request: HttpRequest, patient_uuid: str, trial_uuid: str) -> HttpResponse:
    user = user_of(request)
    trial = do_sync_trial_status(_clinician_trial(user, patient_uuid, trial_uuid))
    form = StopForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, trial, form, status=400)
    try:
        do_stop_trial(
            trial=trial, clinician=user, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except TrialError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, gettext("Trial stopped. The patient sees that you stopped it, and why.")
        )
    return redirect("trial_detail", patient_uuid=trial.patient.uuid, trial_uuid=trial.uuid)


# --------------------------------------------------------------------- patient: my trial


def _my_trial(patient: PatientProfile) -> NofOneTrial | None:
    """The planned or running trial, otherwise the most recent one."""
    trials = patient.nof1_trials.all()
    current: NofOneTrial | None = trials.filter(status__in=ACTIVE).first() or trials.first()
    return current


@access.role_required(Role.PATIENT)
@require_GET
def my_trial(request: HttpRequest) -> HttpResponse:
    patient = access.own_profile(user_of(request))
    trial = _my_trial(patient)
    today = timezone.localdate()
    context: dict[str, Any] = {"trial": None, "today": today}
    if trial is not None:
        trial = do_sync_trial_status(trial, today)
        schedule = TrialSchedule.from_dict(trial.schedule)
        followed = _followed(trial)
        plan = schedule.day_plan(today) if trial.status == TrialStatus.RUNNING else None
        context |= {
            "trial": trial,
            "schedule": schedule,
            "months": calendar(schedule, today, followed),
            "plan": plan,
            "answer": followed.get(today),
            "summary": (trial.result or {}).get("summary") if trial.status not in ACTIVE else None,
        }
    return render(request, "trials/my_trial.html", context)


@access.role_required(Role.PATIENT)
@require_POST
def trial_adherence(request: HttpRequest) -> HttpResponse:
    """Today's answer to "I followed today's trial regimen": yes or no."""
    user = user_of(request)
    patient = access.own_profile(user)
    answer = request.POST.get("followed")
    try:
        trial = patient.nof1_trials.get(uuid=request.POST.get("trial", ""))
    except (NofOneTrial.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such trial") from exc
    if answer not in ("yes", "no"):
        messages.error(request, gettext("Choose yes or no."))
        return redirect("my_trial")
    today = timezone.localdate()
    trial = do_sync_trial_status(trial, today)
    try:
        _, changed = do_record_trial_day(
            trial=trial, user=user, day=today, followed=answer == "yes", ip=client_ip(request)
        )
    except TrialError as exc:
        messages.error(request, str(exc))
        return redirect("my_trial")
    if changed:
        messages.success(request, gettext("Saved. Thank you."))
    else:
        messages.info(request, gettext("Already saved for today."))
    return redirect("my_trial")
