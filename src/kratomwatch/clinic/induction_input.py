"""Turn a patient's stored record into the facts of the buprenorphine readiness checklist."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from kratomwatch.clinic.models import InductionPlan, PatientProfile, QuestionnaireResponse
from kratomwatch.domain.conditions import ConditionCode
from kratomwatch.domain.induction import (
    COWS_FRESH_HOURS,
    CowsScore,
    MedicationFacts,
    Readiness,
    ReadinessFacts,
    readiness,
)
from kratomwatch.domain.substances import Match, recognize

#: The questionnaires shown as the context of a transition: the use-disorder checklist and
#: the latest withdrawal scores.
CONTEXT_INSTRUMENTS = ("kw-use-criteria", "kw-withdrawal", "cows")


def medication_facts(patient: PatientProfile, now: datetime) -> list[MedicationFacts]:
    today = now.date()
    facts = []
    for name, dose in (
        patient.medications.filter(Q(stopped_on__isnull=True) | Q(stopped_on__gte=today))
        .order_by("name_entered")
        .values_list("name_entered", "dose_text")
    ):
        match = recognize(name)
        entry = f"{name} {dose}".strip()
        if isinstance(match, Match):
            facts.append(MedicationFacts(entry, frozenset(match.ids), match.classes))
        else:
            facts.append(MedicationFacts(entry))
    return facts


def cows_scores(patient: PatientProfile, now: datetime) -> list[CowsScore]:
    """COWS totals of the last day and a half, from questionnaires and the induction log."""
    since = now - timedelta(hours=COWS_FRESH_HOURS + 12)
    scores = [
        CowsScore(at, int(total))
        for at, total in patient.responses.filter(
            instrument_id="cows", taken_at__gte=since, taken_at__lte=now, total__isnull=False
        ).values_list("taken_at", "total")
    ]
    scores += [
        CowsScore(at, cows)
        for at, cows in patient.induction_log.filter(
            at__gte=since, at__lte=now, cows__isnull=False
        ).values_list("at", "cows")
    ]
    return scores


def patient_readiness(patient: PatientProfile, plan: InductionPlan, now: datetime) -> Readiness:
    last = (
        patient.doses.filter(taken_at__lte=now)
        .order_by("-taken_at")
        .values_list("taken_at", flat=True)
        .first()
    )
    return readiness(
        ReadinessFacts(
            now=now,
            last_kratom_dose_at=last,
            min_hours_since_kratom=plan.min_hours_since_kratom,
            cows_threshold=plan.cows_threshold,
            cows=cows_scores(patient, now),
            medications=medication_facts(patient, now),
            pregnant=patient.conditions.filter(
                active=True, code=ConditionCode.PREGNANCY.value
            ).exists(),
        )
    )


def latest_scores(patient: PatientProfile) -> dict[str, Any]:
    """The latest response of each context questionnaire, by instrument id (with _ for -)."""
    latest: dict[str, QuestionnaireResponse | None] = {}
    for instrument in CONTEXT_INSTRUMENTS:
        latest[instrument.replace("-", "_")] = (
            patient.responses.filter(instrument_id=instrument).order_by("-taken_at").first()
        )
    return latest
