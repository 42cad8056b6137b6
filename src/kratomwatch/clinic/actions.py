"""One function per change. Each runs in one transaction and sends side effects on commit.

Views and the API validate input, then call exactly one ``do_*`` function here. Business
rules live in :mod:`kratomwatch.domain`; these functions persist and orchestrate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kratomwatch.domain.doses import CheckedDose
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.plan_check import check_plan

from .models import (
    AuditEvent,
    DoseEntry,
    EntrySource,
    Finding,
    FindingStatus,
    PatientProfile,
    Plan,
    Product,
    User,
)
from .snapshot import dose_event, plan_limits

SCREENING_WINDOW = timedelta(days=35)


def audit(
    actor: User | None,
    action: str,
    *,
    patient: PatientProfile | None = None,
    object_type: str = "",
    object_uuid: object = None,
    ip: str | None = None,
) -> None:
    AuditEvent.objects.create(
        actor=actor,
        action=action,
        patient=patient,
        object_type=object_type,
        object_uuid=object_uuid,
        ip=ip,
    )


def do_record_dose(
    *,
    patient: PatientProfile,
    entered_by: User | None,
    product: Product,
    checked: CheckedDose,
    idempotency_key: str,
    preparation: str = "",
    route: str = "oral",
    source: str = EntrySource.WEB,
    ip: str | None = None,
) -> tuple[DoseEntry, bool]:
    """Store a checked dose once per idempotency key. Returns the entry and whether it is new."""
    if product.patient_id != patient.pk:
        raise ValueError("product belongs to another patient")
    existing = DoseEntry.objects.filter(patient=patient, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = DoseEntry.objects.create(
                patient=patient,
                product=product,
                taken_at=checked.taken_at,
                amount=checked.quantity.amount,
                unit=checked.quantity.unit.value,
                preparation=preparation,
                route=route,
                leaf_equivalent_g=checked.exposure.leaf_equivalent_g,
                mitragynine_mg=checked.exposure.mitragynine_mg,
                hydroxymitragynine_mg=checked.exposure.hydroxymitragynine_mg,
                confirmed_warnings=[c.code for c in checked.confirmations],
                source=source,
                entered_by=entered_by,
                idempotency_key=idempotency_key,
            )
            audit(entered_by, "dose.create", patient=patient, object_type="dose",
                  object_uuid=entry.uuid, ip=ip)
            patient_id = patient.pk
            transaction.on_commit(lambda: do_screen_patient(patient_id))
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its entry.
        return DoseEntry.objects.get(patient=patient, idempotency_key=idempotency_key), False
    return entry, True


def active_plan(patient: PatientProfile) -> Plan | None:
    return patient.plans.filter(active=True).order_by("-version").first()


def screen(patient: PatientProfile, now: datetime) -> list[DomainFinding]:
    """Run the clinical core's checks on a patient's recent record."""
    plan = active_plan(patient)
    if plan is None:
        return []
    doses = patient.doses.filter(taken_at__gte=now - SCREENING_WINDOW).only(
        "uuid", "taken_at", "leaf_equivalent_g"
    )
    tz = ZoneInfo(settings.TIME_ZONE)
    return check_plan(plan_limits(plan), [dose_event(d) for d in doses], tz)


def do_screen_patient(patient_id: int, now: datetime | None = None) -> None:
    """Re-screen one patient and store the findings with their lifecycle."""
    now = now or timezone.now()
    with transaction.atomic():
        patient = PatientProfile.objects.select_for_update().get(pk=patient_id)
        do_sync_findings(patient, screen(patient, now), now)


def do_sync_findings(patient: PatientProfile, findings: list[DomainFinding], now: datetime) -> None:
    """Upsert findings by fingerprint; mark absent ones inactive; re-open resolved ones that recur.

    Stored findings are never deleted: a finding whose cause is gone stays, inactive, until a
    clinician acknowledges or resolves it.
    """
    stored = {f.fingerprint: f for f in Finding.objects.filter(patient=patient)}
    seen: set[str] = set()
    for found in findings:
        fingerprint = found.fingerprint()
        seen.add(fingerprint)
        values = found.to_dict()
        row = stored.get(fingerprint)
        if row is None:
            Finding.objects.create(
                patient=patient,
                fingerprint=fingerprint,
                first_seen=now,
                last_seen=now,
                **{k: ("" if v is None else v) for k, v in values.items()},
            )
            continue
        for key, value in values.items():
            setattr(row, key, "" if value is None else value)
        row.last_seen = now
        row.active = True
        if row.status == FindingStatus.RESOLVED:
            row.status = FindingStatus.OPEN
        row.save()
    for fingerprint, row in stored.items():
        if fingerprint not in seen and row.active:
            row.active = False
            row.save(update_fields=["active", "modified"])
