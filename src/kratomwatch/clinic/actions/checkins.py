"""Changes a patient makes in their own app. One function per change, one transaction each.

Every submission carries an idempotency key: a repeated submission (double tap, retried
request) returns what the first one stored and creates nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Literal

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.doses import do_record_dose
from kratomwatch.clinic.actions.idempotent import create_once, derived_key
from kratomwatch.clinic.models import (
    CheckIn,
    EntrySource,
    PatientProfile,
    Product,
    ProductLot,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kratomwatch.domain.doses import CheckedDose
from kratomwatch.domain.findings import Finding
from kratomwatch.domain.questionnaires import Instrument, score
from kratomwatch.domain.safety import load_knowledge, urgent_findings

#: The daily ratings every check-in asks, and the withdrawal checklist it asks as well where
#: the care team schedules that daily.
DAILY = "kw-daily-pain"
WITHDRAWAL = "kw-withdrawal"


def withdrawal_in_checkin(patient: PatientProfile) -> bool:
    """Whether the patient's check-in asks the withdrawal checklist too."""
    return patient.questionnaire_schedules.filter(
        active=True, instrument_id=WITHDRAWAL, every_days=1
    ).exists()


def _response(
    patient: PatientProfile,
    user: User | None,
    instrument: Instrument,
    answers: Mapping[str, int | None],
    taken_at: datetime,
    key: str,
    checkin: CheckIn | None = None,
    source: str = EntrySource.WEB,
) -> QuestionnaireResponse:
    result = score(instrument, dict(answers))
    data = result.to_dict()
    return QuestionnaireResponse.objects.create(
        patient=patient,
        checkin=checkin,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        answers=[answers[i.id] for i in instrument.items],
        total=None if result.total is None else str(result.total),
        scores={k: data[k] for k in ("subscales", "band", "flags")},
        taken_at=taken_at,
        completed_by=user,
        source=source,
        idempotency_key=key,
    )


def do_submit_checkin(
    *,
    patient: PatientProfile,
    user: User,
    key: str,
    day: date,
    daily: tuple[Instrument, Mapping[str, int | None]],
    extra: Sequence[tuple[Instrument, Mapping[str, int | None]]] = (),
    # Each dose with its product and the lot it names (or None).
    doses: Sequence[tuple[Product, CheckedDose, ProductLot | None]] = (),
    side_effects: Mapping[str, int] | None = None,
    red_flags: Sequence[str] = (),
    note: str = "",
    ip: str | None = None,
    entered_at: datetime | None = None,
    source: str = EntrySource.WEB,
) -> tuple[CheckIn, bool]:
    """Store a whole check-in, or nothing. Returns the check-in and whether it is new.

    ``entered_at`` is the moment a check-in entered on a phone with no connection was
    entered: the check-in, its answers and its symptoms keep that time, and
    ``received_at`` says when it arrived."""
    received = timezone.now()
    now = entered_at or received
    labels = {s.id: s.label for s in load_knowledge().symptoms.values()}

    def store() -> CheckIn:
        checkin = CheckIn.objects.create(
            patient=patient,
            day=day,
            submitted_at=now,
            received_at=received if entered_at else None,
            note=note,
            idempotency_key=key,
        )
        for n, (instrument, answers) in enumerate((daily, *extra)):
            _response(
                patient, user, instrument, answers, now, derived_key(key, f"-q{n}"), checkin, source
            )
        for n, (product, checked, lot) in enumerate(doses):
            do_record_dose(
                patient=patient,
                entered_by=user,
                product=product,
                lot=lot,
                checked=checked,
                idempotency_key=derived_key(key, f"-d{n}"),
                checkin=checkin,
                source=source,
                ip=ip,
            )
        for sid, severity in (side_effects or {}).items():
            SymptomReport.objects.create(
                patient=patient,
                checkin=checkin,
                term=labels.get(sid, sid),
                severity=severity,
                reported_at=now,
                source=source,
            )
        # Red flags saved ahead of this check-in (do_report_red_flags, same key) join it
        # as they are; the others are saved now.
        ahead = [red_flag_key(key, s.id) for s in load_knowledge().symptoms.values() if s.red_flag]
        for report in patient.symptoms.filter(idempotency_key__in=ahead):
            report.checkin = checkin
            report.save(update_fields=["checkin", "modified"])
        for sid in red_flags:
            _red_flag_report(patient, key, sid, labels, now, checkin, source)
        audit_chain.append(
            user,
            "checkin.create",
            patient=patient,
            object_type="checkin",
            object_uuid=checkin.uuid,
            ip=ip,
        )
        return checkin

    return create_once(CheckIn.objects.filter(patient=patient), key, store)


def red_flag_key(key: str, symptom_id: str) -> str:
    """The idempotency key of a red flag reported with the form whose key is ``key``."""
    return derived_key(key, f"-rf-{symptom_id}")


def _red_flag_report(
    patient: PatientProfile,
    key: str,
    symptom_id: str,
    labels: Mapping[str, str],
    now: datetime,
    checkin: CheckIn | None = None,
    source: str = EntrySource.WEB,
) -> tuple[SymptomReport, bool]:
    """The red flag reported with the form whose key is ``key``: the one saved before under
    that key, or a new one. Returns it and whether it is new."""
    return SymptomReport.objects.get_or_create(
        patient=patient,
        idempotency_key=red_flag_key(key, symptom_id),
        defaults={
            "checkin": checkin,
            "term": labels.get(symptom_id, symptom_id),
            "severity": 3,
            "reported_at": now,
            "source": source,
        },
    )


def do_report_red_flags(
    *,
    patient: PatientProfile,
    user: User | None,
    key: str,
    symptoms: Sequence[str],
    ip: str | None = None,
    reported_at: datetime | None = None,
    source: str = EntrySource.WEB,
) -> tuple[Finding, ...]:
    """Save red-flag symptoms on their own, ahead of the form they came with (a check-in or a
    questionnaire that cannot be saved yet). Each is saved once per form (``key``): sending
    the form again, or saving it whole later, adds nothing twice. Screening runs on commit.
    ``reported_at`` is when they were entered, if on a phone with no connection. Returns
    their urgent guidance, to show at once (:func:`urgent_findings`)."""
    labels = {s.id: s.label for s in load_knowledge().symptoms.values()}
    now = reported_at or timezone.now()
    with transaction.atomic():
        for sid in dict.fromkeys(symptoms):
            report, created = _red_flag_report(patient, key, sid, labels, now, source=source)
            if created:
                audit_chain.append(
                    user,
                    "symptom.red_flag",
                    patient=patient,
                    object_type="symptom",
                    object_uuid=report.uuid,
                    ip=ip,
                )
    return urgent_findings(symptoms, now)


def do_report_symptom(
    *,
    patient: PatientProfile,
    user: User,
    key: str,
    symptom: str,
    severity: int,
    ip: str | None = None,
    source: str = EntrySource.WEB,
) -> tuple[SymptomReport, bool]:
    """Save one symptom that is not a red flag (those go through :func:`do_report_red_flags`,
    for their urgent guidance), once per ``key``. Returns it and whether it is new; screening
    runs on commit."""
    labels = {s.id: s.label for s in load_knowledge().symptoms.values()}

    def store() -> SymptomReport:
        report = SymptomReport.objects.create(
            patient=patient,
            term=labels.get(symptom, symptom),
            severity=severity,
            reported_at=timezone.now(),
            source=source,
            idempotency_key=key,
        )
        audit_chain.append(
            user,
            "symptom.create",
            patient=patient,
            object_type="symptom",
            object_uuid=report.uuid,
            ip=ip,
        )
        return report

    return create_once(SymptomReport.objects.filter(patient=patient), key, store)


def do_submit_questionnaire(
    *,
    patient: PatientProfile,
    user: User | None,
    instrument: Instrument,
    answers: Mapping[str, int | None],
    key: str,
    ip: str | None = None,
    taken_at: datetime | None = None,
    source: str = EntrySource.WEB,
    completed_by: User | Literal["unknown"] | None = None,
) -> tuple[QuestionnaireResponse, bool]:
    """Score and store one questionnaire response, once per ``key``; the one way a response is
    recorded (web form, API, FHIR import). ``taken_at`` is now unless the answers were given
    earlier (an imported response keeps its time); ``completed_by`` is ``user`` unless
    someone else answered, ``"unknown"`` when who answered has no account here (an imported
    response by another clinic's practitioner: stored without one). Storing it marks the
    patient for screening, so a crisis answer raises its finding whatever the entry point."""
    respondent = None if completed_by == "unknown" else (completed_by or user)

    def store() -> QuestionnaireResponse:
        response = _response(
            patient,
            respondent,
            instrument,
            answers,
            taken_at or timezone.now(),
            key,
            source=source,
        )
        audit_chain.append(
            user,
            "response.import" if source == EntrySource.IMPORT else "response.create",
            patient=patient,
            object_type="response",
            object_uuid=response.uuid,
            ip=ip,
        )
        return response

    return create_once(QuestionnaireResponse.objects.filter(patient=patient), key, store)
