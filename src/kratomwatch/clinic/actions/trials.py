"""Changes to N-of-1 trials: create, record a day's adherence, stop early, move on by date.

Each ``do_*`` is one change in one transaction, audited. Only a clinician creates or stops a
trial; only the patient records adherence. The analysis never stops a trial.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.analysis_app import trial_analysis
from kratomwatch.clinic.models import NofOneTrial, PatientProfile, TrialDay, TrialStatus, User
from kratomwatch.domain.analysis import TrialSchedule

ACTIVE = (TrialStatus.PLANNED, TrialStatus.RUNNING)


class TrialError(ValueError):
    """The requested change to a trial is not allowed; the message says why."""


def do_create_trial(
    *,
    patient: PatientProfile,
    clinician: User,
    schedule: TrialSchedule,
    ip: str | None = None,
) -> NofOneTrial:
    """Store a confirmed schedule. A patient has at most one planned or running trial."""
    with transaction.atomic():
        PatientProfile.objects.select_for_update().filter(pk=patient.pk).first()
        if patient.nof1_trials.filter(status__in=ACTIVE).exists():
            raise TrialError(
                gettext(
                    "This patient already has a planned or running trial: stop it before "
                    "starting another."
                )
            )
        trial = NofOneTrial.objects.create(
            patient=patient,
            created_by=clinician,
            regimen_a=schedule.regimen_a,
            regimen_b=schedule.regimen_b,
            period_days=schedule.period_days,
            pairs=schedule.pairs,
            washout_days=schedule.washout_days,
            start_date=schedule.start_date,
            end_date=schedule.end_date,
            seed=schedule.seed,
            schedule=schedule.to_dict(),
        )
        audit_chain.append(
            clinician,
            "nof1.create",
            patient=patient,
            object_type="nof1_trial",
            object_uuid=trial.uuid,
            ip=ip,
        )
    return trial


def do_sync_trial_status(trial: NofOneTrial, today: date | None = None) -> NofOneTrial:
    """Move a trial on by the calendar: planned -> running on its first day; planned or
    running -> completed after its last day, with the final analysis stored. Recorded as a
    system event (no actor). Stopped and completed trials are left as they are."""
    today = today or timezone.localdate()
    if trial.status not in ACTIVE:
        return trial
    if today > trial.end_date:
        new = TrialStatus.COMPLETED
    elif today >= trial.start_date:
        new = TrialStatus.RUNNING
    else:
        return trial
    if new == trial.status:
        return trial
    with transaction.atomic():
        locked = NofOneTrial.objects.select_for_update().get(pk=trial.pk)
        if locked.status not in ACTIVE or locked.status == new:
            return locked
        locked.status = new
        fields = ["status", "modified"]
        if new == TrialStatus.COMPLETED:
            locked.result = trial_analysis(locked, locked.end_date).to_dict()
            fields.append("result")
        locked.save(update_fields=fields)
        audit_chain.append(
            None,
            "nof1.complete" if new == TrialStatus.COMPLETED else "nof1.start",
            patient=locked.patient,
            object_type="nof1_trial",
            object_uuid=locked.uuid,
        )
    return locked


def do_stop_trial(
    *,
    trial: NofOneTrial,
    clinician: User,
    reason: str,
    today: date | None = None,
    ip: str | None = None,
) -> NofOneTrial:
    """The clinician stops a planned or running trial early, with a reason. The analysis of
    the days so far is stored with the stop and its reason."""
    reason = reason.strip()
    if not reason:
        raise TrialError(gettext("Give a reason for stopping the trial."))
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = NofOneTrial.objects.select_for_update().get(pk=trial.pk)
        if locked.status not in ACTIVE:
            raise TrialError(
                gettext("This trial is already %(status)s.")
                % {"status": str(locked.get_status_display()).lower()}
            )
        locked.status = TrialStatus.STOPPED
        locked.stopped_by = clinician
        locked.stopped_at = timezone.now()
        locked.stop_reason = reason
        locked.result = trial_analysis(
            locked, min(today, locked.end_date), stopped_early=True, stop_reason=reason
        ).to_dict()
        locked.save(
            update_fields=[
                "status",
                "stopped_by",
                "stopped_at",
                "stop_reason",
                "result",
                "modified",
            ]
        )
        audit_chain.append(
            clinician,
            "nof1.stop",
            patient=locked.patient,
            object_type="nof1_trial",
            object_uuid=locked.uuid,
            ip=ip,
        )
    return locked


def do_record_trial_day(
    *,
    trial: NofOneTrial,
    user: User,
    day: date,
    followed: bool,
    ip: str | None = None,
) -> tuple[TrialDay, bool]:
    """The patient's answer for ``day`` (a treatment day of a running trial). One answer per
    day: the same answer again changes nothing; a different one the same day replaces it.
    Returns the day and whether anything changed."""
    schedule = TrialSchedule.from_dict(trial.schedule)
    plan = schedule.day_plan(day)
    if trial.status != TrialStatus.RUNNING:
        raise TrialError("The trial is not running.")
    if plan is None or plan.washout:
        raise TrialError("There is no trial regimen to follow on this day.")
    try:
        with transaction.atomic():
            existing = TrialDay.objects.select_for_update().filter(trial=trial, day=day).first()
            if existing is not None and existing.followed == followed:
                return existing, False
            if existing is None:
                record = TrialDay.objects.create(
                    trial=trial, day=day, followed=followed, recorded_by=user
                )
            else:
                existing.followed = followed
                existing.recorded_by = user
                existing.save(update_fields=["followed", "recorded_by", "modified"])
                record = existing
            audit_chain.append(
                user,
                "nof1.day",
                patient=trial.patient,
                object_type="nof1_day",
                object_uuid=record.uuid,
                ip=ip,
            )
    except IntegrityError:
        # A concurrent retry created the day first: answer with it.
        return TrialDay.objects.get(trial=trial, day=day), False
    return record, True
