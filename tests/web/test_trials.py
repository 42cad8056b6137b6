"""N-of-1 trials in the app: design, confirm, the patient's calendar and daily answer,
stopping early (the clinician only), and the analysis once the trial has ended."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions.trials import (
    TrialError,
    do_create_trial,
    do_record_trial_day,
    do_sync_trial_status,
)
from kratomwatch.clinic.models import (
    AuditEvent,
    NofOneTrial,
    PatientProfile,
    QuestionnaireResponse,
    TrialDay,
    TrialStatus,
)
from kratomwatch.domain.analysis import Arm, TrialSchedule, design_trial

from .conftest import Triangle

WHO = [
    "patient",
    "other_patient",
    "clinician",
    "colleague",
    "outsider",
    "admin",
    "other_admin",
    "anonymous",
]


def make_trial(
    t: Triangle,
    start: date | None = None,
    *,
    period_days: int = 7,
    pairs: int = 2,
    washout_days: int = 1,
    seed: int = 7,
    sync: bool = True,
) -> NofOneTrial:
    """A stored trial for Paul, designed by Alice, running today unless ``start`` says else.
    With ``sync`` its status follows the calendar at once, as it does when someone views it."""
    start = start or timezone.localdate() - timedelta(days=2)
    schedule = design_trial(
        "usual regimen", "regimen agreed on 12 Dec", period_days, pairs, washout_days, start, seed
    )
    trial = do_create_trial(patient=t.patient, clinician=t.clinician, schedule=schedule)
    return do_sync_trial_status(trial) if sync else trial


def add_pain(patient: PatientProfile, day: date, pain: float) -> None:
    tz = timezone.get_current_timezone()
    QuestionnaireResponse.objects.create(
        patient=patient,
        instrument_id="kw-daily-pain",
        instrument_version="1.0",
        answers=[],
        scores={"subscales": {"pain": pain}},
        taken_at=datetime.combine(day, time(20, 0), tz),
        idempotency_key=f"pain-{day.isoformat()}",
    )


def propose(client: Client, t: Triangle, **overrides: Any) -> Any:
    data = {
        "regimen_a": "usual regimen",
        "regimen_b": "regimen agreed on 12 Dec",
        "period_days": "14",
        "pairs": "3",
        "washout_days": "2",
        "start_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
    } | overrides
    return client.post(reverse("trial_design", kwargs={"patient_uuid": t.patient.uuid}), data)


def test_proposing_shows_the_calendar_and_stores_nothing(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = propose(client, tri)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Proposed schedule — not stored yet" in body
    assert "<caption>" in body and "Randomization seed" in body
    assert 'name="proposal"' in body
    assert not NofOneTrial.objects.exists()
    assert not AuditEvent.objects.filter(action="nof1.create").exists()


def test_confirming_stores_the_schedule_shown_with_its_seed(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    shown = propose(client, tri)
    token = shown.context["proposal"]["token"]
    proposed: TrialSchedule = shown.context["proposal"]["schedule"]
    response = client.post(
        reverse("trial_confirm", kwargs={"patient_uuid": tri.patient.uuid}), {"proposal": token}
    )
    trial = NofOneTrial.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "trial_detail", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid}
    )
    assert trial.seed == proposed.seed == trial.schedule["seed"]
    assert trial.schedule == proposed.to_dict()
    assert (trial.period_days, trial.pairs, trial.washout_days) == (14, 3, 2)
    assert trial.status == TrialStatus.PLANNED and trial.created_by == tri.clinician
    # The stored schedule is reproduced from its seed, and every pair is balanced.
    schedule = TrialSchedule.from_dict(trial.schedule)
    assert schedule == design_trial(
        "usual regimen",
        "regimen agreed on 12 Dec",
        14,
        3,
        2,
        trial.start_date,
        seed=trial.seed,
    )
    assert sorted(schedule.order) and all(sorted(o) == ["A", "B"] for o in schedule.order)
    treatment = [p for p in schedule.periods if not p.washout]
    assert [p.arm for p in treatment].count(Arm.A) == [p.arm for p in treatment].count(Arm.B) == 3
    assert trial.end_date == schedule.end_date
    assert AuditEvent.objects.filter(action="nof1.create", object_uuid=trial.uuid).count() == 1
    # Confirming the same proposal again stores nothing more (one active trial at a time).
    client.post(
        reverse("trial_confirm", kwargs={"patient_uuid": tri.patient.uuid}), {"proposal": token}
    )
    assert NofOneTrial.objects.count() == 1


def test_a_changed_or_foreign_proposal_is_refused(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    token = propose(client, tri).context["proposal"]["token"]
    url = reverse("trial_confirm", kwargs={"patient_uuid": tri.patient.uuid})
    assert client.post(url, {"proposal": token[:-2] + "xx"}).status_code == 302
    assert client.post(url, {"proposal": ""}).status_code == 302
    assert not NofOneTrial.objects.exists()
    # Paul's proposal cannot be stored for Pia, even by her own clinician.
    client.force_login(tri.colleague)
    other = reverse("trial_confirm", kwargs={"patient_uuid": tri.other_patient.uuid})
    assert client.post(other, {"proposal": token}).status_code == 302
    assert not NofOneTrial.objects.exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"start_date": "2000-01-01"}, "cannot be in the past"),
        ({"regimen_b": "Usual Regimen"}, "must differ"),
        ({"pairs": "13"}, "less than or equal to 12"),
        ({"period_days": "90", "pairs": "3"}, "at most 366"),
        ({"regimen_a": ""}, "required"),
    ],
)
def test_a_bad_design_is_explained_and_nothing_is_stored(
    client: Client, tri: Triangle, overrides: dict[str, str], message: str
) -> None:
    client.force_login(tri.clinician)
    response = propose(client, tri, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["proposal"] is None
    assert not NofOneTrial.objects.exists()


def test_one_planned_or_running_trial_at_a_time(client: Client, tri: Triangle) -> None:
    make_trial(tri)
    with pytest.raises(TrialError):
        make_trial(tri)
    assert NofOneTrial.objects.count() == 1
    client.force_login(tri.clinician)
    response = propose(client, tri)
    assert response.status_code == 400 and response.context["proposal"] is None
    assert "already has a planned or running trial" in response.content.decode()


def test_the_patient_sees_the_calendar_and_todays_regimen(client: Client, tri: Triangle) -> None:
    trial = make_trial(tri)  # started two days ago: day 3 of the first 7-day period
    assert trial.status == TrialStatus.RUNNING
    schedule = TrialSchedule.from_dict(trial.schedule)
    today = schedule.day_plan(timezone.localdate())
    assert today is not None and today.arm is not None
    client.force_login(tri.patient.user)
    body = client.get(reverse("my_trial")).content.decode()
    assert f"regimen {today.arm.value}</strong>: {today.regimen}" in body
    assert "Day 3 of 7" in body
    assert body.count('aria-current="date"') == 1
    assert "washout" in body  # a washout day between periods, in the legend and calendar
    assert "Did you follow today's trial regimen?" in body
    assert (
        reverse("trial_stop", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid})
        not in body
    )
    assert "Stop the trial" not in body
    # Nobody else's trial shows up for Pia.
    client.force_login(tri.other_patient.user)
    assert "not taking part in a trial" in client.get(reverse("my_trial")).content.decode()


def test_a_washout_day_asks_nothing(client: Client, tri: Triangle) -> None:
    # 1-day periods with a washout day between each: started yesterday, today is a washout.
    make_trial(tri, timezone.localdate() - timedelta(days=1), period_days=1, washout_days=1)
    client.force_login(tri.patient.user)
    body = client.get(reverse("my_trial")).content.decode()
    assert "washout day</strong>" in body
    assert "Did you follow" not in body


def test_the_daily_answer_is_recorded_once_per_day(client: Client, tri: Triangle) -> None:
    trial = make_trial(tri)
    client.force_login(tri.patient.user)
    url = reverse("trial_adherence")
    for _ in range(3):
        response = client.post(url, {"trial": str(trial.uuid), "followed": "yes"})
        assert response.status_code == 302 and response["Location"] == reverse("my_trial")
    day = TrialDay.objects.get()
    assert day.day == timezone.localdate() and day.followed is True
    assert AuditEvent.objects.filter(action="nof1.day").count() == 1
    # A different answer the same day replaces it: still one answer for the day.
    client.post(url, {"trial": str(trial.uuid), "followed": "no"})
    day.refresh_from_db()
    assert TrialDay.objects.count() == 1 and day.followed is False
    body = client.get(reverse("my_trial")).content.decode()
    assert "You answered: no" in body and "✗" in body
    # Nonsense is refused without a change.
    client.post(url, {"trial": str(trial.uuid), "followed": "maybe"})
    day.refresh_from_db()
    assert day.followed is False


def test_no_answer_for_a_trial_that_has_not_started(client: Client, tri: Triangle) -> None:
    trial = make_trial(tri, timezone.localdate() + timedelta(days=5))
    assert trial.status == TrialStatus.PLANNED
    client.force_login(tri.patient.user)
    assert "Your trial starts on" in client.get(reverse("my_trial")).content.decode()
    client.post(reverse("trial_adherence"), {"trial": str(trial.uuid), "followed": "yes"})
    assert not TrialDay.objects.exists()
    with pytest.raises(TrialError):
        do_record_trial_day(trial=trial, user=tri.patient.user, day=trial.start_date, followed=True)


def test_the_clinician_stops_a_trial_with_a_reason(client: Client, tri: Triangle) -> None:
    trial = make_trial(tri)
    client.force_login(tri.clinician)
    url = reverse("trial_stop", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid})
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    trial.refresh_from_db()
    assert trial.status == TrialStatus.RUNNING
    response = client.post(url, {"reason": "Pain flare unrelated to the trial"})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.status == TrialStatus.STOPPED
    assert trial.stopped_by == tri.clinician and trial.stopped_at is not None
    assert trial.stop_reason == "Pain flare unrelated to the trial"
    assert trial.result is not None and trial.result["stopped_early"] is True
    assert trial.result["stop_reason"] == "Pain flare unrelated to the trial"
    assert AuditEvent.objects.filter(action="nof1.stop", actor=tri.clinician).count() == 1
    # Stopping twice is refused; the stop stays as it was.
    client.post(url, {"reason": "again"})
    trial.refresh_from_db()
    assert trial.stop_reason == "Pain flare unrelated to the trial"
    body = client.get(
        reverse("trial_detail", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid})
    ).content.decode()
    assert "Stopped early by" in body and "Stop the trial" not in body
    client.force_login(tri.patient.user)
    body = client.get(reverse("my_trial")).content.decode()
    assert "Your care team stopped this trial early" in body
    assert "Your clinician stopped the trial early (Pain flare unrelated to the trial)" in body


@pytest.mark.parametrize("who", WHO)
def test_only_the_patients_clinician_confirms_or_stops(
    client: Client, tri: Triangle, who: str
) -> None:
    # Alice proposes; then each user tries to confirm that proposal and to stop a trial.
    client.force_login(tri.clinician)
    token = propose(client, tri).context["proposal"]["token"]
    client.logout()
    if who != "anonymous":
        client.force_login(tri.users()[who])
    confirm = client.post(
        reverse("trial_confirm", kwargs={"patient_uuid": tri.patient.uuid}), {"proposal": token}
    )
    if who == "clinician":
        assert confirm.status_code == 302 and NofOneTrial.objects.count() == 1
        NofOneTrial.objects.all().delete()
    else:
        assert confirm.status_code in (302, 403, 404) and not NofOneTrial.objects.exists()
        if confirm.status_code == 302:
            assert confirm["Location"].startswith(reverse("login"))
    trial = make_trial(tri)
    stop = client.post(
        reverse("trial_stop", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid}),
        {"reason": "test"},
    )
    trial.refresh_from_db()
    if who == "clinician":
        assert stop.status_code == 302 and trial.status == TrialStatus.STOPPED
    else:
        assert stop.status_code in (302, 403, 404) and trial.status == TrialStatus.RUNNING
        if stop.status_code == 302:
            assert stop["Location"].startswith(reverse("login"))


def test_a_trial_cannot_be_reached_through_another_patients_url(
    client: Client, tri: Triangle
) -> None:
    trial = make_trial(tri)
    client.force_login(tri.colleague)  # Pia's clinician, not Paul's
    kwargs = {"patient_uuid": tri.other_patient.uuid, "trial_uuid": trial.uuid}
    assert client.get(reverse("trial_detail", kwargs=kwargs)).status_code == 404
    assert client.post(reverse("trial_stop", kwargs=kwargs), {"reason": "x"}).status_code == 404
    trial.refresh_from_db()
    assert trial.status == TrialStatus.RUNNING


@pytest.mark.parametrize("who", WHO)
def test_only_the_patient_answers_for_their_trial(client: Client, tri: Triangle, who: str) -> None:
    trial = make_trial(tri)
    if who != "anonymous":
        client.force_login(tri.users()[who])
    response = client.post(
        reverse("trial_adherence"), {"trial": str(trial.uuid), "followed": "yes"}
    )
    if who == "patient":
        assert response.status_code == 302 and TrialDay.objects.count() == 1
    else:
        assert response.status_code in (302, 403, 404) and not TrialDay.objects.exists()
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login"))


def test_a_patient_cannot_stop_their_trial(client: Client, tri: Triangle) -> None:
    trial = make_trial(tri)
    client.force_login(tri.patient.user)
    url = reverse("trial_stop", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid})
    assert client.post(url, {"reason": "I want to stop"}).status_code == 403
    trial.refresh_from_db()
    assert trial.status == TrialStatus.RUNNING and trial.stopped_by is None


def test_the_analysis_appears_after_the_trial_ends(client: Client, tri: Triangle) -> None:
    today = timezone.localdate()
    start = today - timedelta(days=40)  # 2 pairs x 7 days + 3 washout days: ended 23 days ago
    trial = make_trial(tri, start, sync=False)
    assert trial.status == TrialStatus.PLANNED  # as stored; nobody has looked since
    schedule = TrialSchedule.from_dict(trial.schedule)
    rng = random.Random(3)
    for plan in schedule.days():
        if plan.arm is not None:
            add_pain(tri.patient, plan.day, (6.0 if plan.arm is Arm.A else 3.5) + rng.gauss(0, 0.5))
            TrialDay.objects.create(
                trial=trial,
                day=plan.day,
                followed=plan.day_in_period != 2,
                recorded_by=tri.patient.user,
            )
    client.force_login(tri.clinician)
    body = client.get(
        reverse("trial_detail", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid})
    ).content.decode()
    trial.refresh_from_db()
    assert trial.status == TrialStatus.COMPLETED
    result = trial.result
    assert result is not None and result["sufficient"] is True
    assert result["n_days_a"] == result["n_days_b"] == 14
    assert result["difference_b_minus_a"]["mean"] < -1.5
    assert result["prob_b_better"] > 0.9
    assert result["adherence"]["scheduled_days"] == 28 and result["adherence"]["on_schedule"] == 24
    assert "Difference B − A" in body and "P(B better by ≥ 1 point)" in body
    assert "What the patient sees" in body and "Stop the trial" not in body
    assert AuditEvent.objects.filter(action="nof1.complete", actor=None).count() == 1
    client.force_login(tri.patient.user)
    body = client.get(reverse("my_trial")).content.decode()
    assert "What your trial showed" in body
    assert "very likely at least 1 point lower on B" in body
    assert "talk it over with your clinician before changing anything" in body


def test_a_running_trial_shows_an_interim_analysis_to_the_clinician_only(
    client: Client, tri: Triangle
) -> None:
    trial = make_trial(tri, timezone.localdate() - timedelta(days=10))
    for k in range(10):
        add_pain(tri.patient, trial.start_date + timedelta(days=k), 5)
    client.force_login(tri.clinician)
    url = reverse(
        "trial_detail", kwargs={"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid}
    )
    body = client.get(url).content.decode()
    assert "Interim analysis (trial still running)" in body
    assert "Insufficient data" in body  # 7 + 2 days so far: fewer than 7 on B
    trial.refresh_from_db()
    assert trial.result is None
    client.force_login(tri.patient.user)
    body = client.get(reverse("my_trial")).content.decode()
    assert "Interim" not in body and "What your trial showed" not in body
