"""One function per change. Each runs in one transaction and sends side effects on commit.

Views and the API validate input, then call exactly one ``do_*`` function here. Business
rules live in :mod:`kratomwatch.domain`; these functions persist and orchestrate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kratomwatch.domain.doses import CheckedDose
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.safety import ScreeningResult
from kratomwatch.domain.safety import screen as run_screen
from kratomwatch.domain.safety.engine import cannot_run

from . import rows
from .audit_chain import append as append_audit_event
from .audit_chain import next_event as next_audit_event
from .models import (
    DoseEntry,
    EntrySource,
    Finding,
    FindingStatus,
    PatientProfile,
    Plan,
    Product,
    User,
)
from .signals import screening_mark
from .snapshot import patient_snapshot

logger = logging.getLogger(__name__)


def audit(
    actor: User | None,
    action: str,
    *,
    patient: PatientProfile | None = None,
    object_type: str = "",
    object_uuid: object = None,
    ip: str | None = None,
) -> None:
    """Append an event to the hash-chained audit trail (see :mod:`.audit_chain`)."""
    append_audit_event(
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
    first_in_transaction: Callable[[], None] | None = None,
) -> tuple[DoseEntry, bool]:
    """Store a checked dose once per idempotency key. Returns the entry and whether it is new.

    ``first_in_transaction`` runs first in the transaction that stores the dose (the API
    counts the request for its rate limit there); it is rolled back with it.

    Every API dose comes through here, so the dose, its audit event and the screening mark
    are written out (:mod:`.rows`) rather than saved through the ORM: on PostgreSQL in one
    round trip, after the one that takes the audit trail's lock. What is stored is what
    ``save()`` would store, and the screening is scheduled as a saved record's would be.
    """
    if product.patient_id != patient.pk:
        raise ValueError("product belongs to another patient")
    entry = DoseEntry(
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
    # A repeated key is caught by the unique constraint: no look-up on the common path.
    try:
        with transaction.atomic():
            if first_in_transaction is not None:
                first_in_transaction()
            event = next_audit_event(
                actor=entered_by,
                action="dose.create",
                patient=patient,
                object_type="dose",
                object_uuid=entry.uuid,
                ip=ip,
            )
            statements = [rows.insert(entry), rows.insert(event)]
            mark = screening_mark(patient.pk)
            if mark is not None:
                statements.append(mark)
            returned = rows.run(statements)
            rows.inserted(entry, returned[0])
            rows.inserted(event, returned[1])
    except IntegrityError:
        # A retry with the same key (perhaps concurrent): answer with the first entry.
        return DoseEntry.objects.get(patient=patient, idempotency_key=idempotency_key), False
    return entry, True


def active_plan(patient: PatientProfile) -> Plan | None:
    return patient.plans.filter(active=True).order_by("-version").first()


def screen(patient: PatientProfile, now: datetime) -> ScreeningResult:
    """Run the safety engine on a patient's record as of ``now``."""
    return run_screen(patient_snapshot(patient, now))


def do_screen_patient(patient_id: int, now: datetime | None = None) -> bool:
    """Re-screen one patient and store the findings with their lifecycle.

    The record is read and screened outside any write transaction, so that on SQLite other
    writers are not held up meanwhile; then one short transaction stores the findings and
    clears the due mark. A change committed after the record was read raised the patient's
    ``change_count``: the findings are stored all the same (they are newer than those
    stored), but the patient stays due and is screened again. Findings screened from an
    older reading than the stored ones are dropped. Returns whether findings were stored.

    If building the snapshot or screening fails, that failure is itself stored as a
    high-severity finding, so that nobody mistakes "no findings" for "screened".
    """
    patient = PatientProfile.objects.get(pk=patient_id)
    read_at = patient.change_count  # read before the records the screening reads
    now = now or timezone.now()
    try:
        result = screen(patient, now)
    except Exception as exc:  # noqa: BLE001 - the failure is shown, not swallowed
        logger.exception("screening failed for patient %s", patient.uuid)
        result = ScreeningResult(
            (_screening_failed(f"{type(exc).__name__}: {exc}"),), {}, "unavailable"
        )
    with transaction.atomic():
        profile = PatientProfile.objects.filter(pk=patient_id)
        changes, stored_at = (
            profile.select_for_update().values_list("change_count", "screened_change_count").get()
        )
        if stored_at is not None and stored_at > read_at:
            return False  # a screening that read the record later has stored its findings
        do_sync_findings(patient, result, now)
        done: dict[str, object] = {"screened_change_count": read_at}
        if changes == read_at:
            done["screening_due_at"] = None
        profile.update(**done)
    return True


def do_screen_if_due(patient_id: int, now: datetime | None = None, *, gap: float = 0.0) -> bool:
    """Screen the patient if still due and no server took them from the queue in the last
    ``gap`` seconds (the taking is recorded first, so two servers never both do). Returns
    whether it screened."""
    taken_at = timezone.now()
    free = Q(screening_claimed_at__isnull=True) | Q(
        screening_claimed_at__lte=taken_at - timedelta(seconds=gap)
    )
    taken = PatientProfile.objects.filter(
        free, pk=patient_id, screening_due_at__isnull=False
    ).update(screening_claimed_at=taken_at)
    return bool(taken) and do_screen_patient(patient_id, now)


def screen_now_if_due(patients: QuerySet[PatientProfile]) -> None:
    """Screen those of ``patients`` still waiting in the screening queue, before showing them."""
    for pk in patients.filter(screening_due_at__isnull=False).values_list("pk", flat=True):
        do_screen_patient(pk)


def _screening_failed(reason: str) -> DomainFinding:
    return cannot_run(f"screening this patient's record failed: {reason}")


def do_sync_findings(patient: PatientProfile, result: ScreeningResult, now: datetime) -> None:
    """Upsert findings by fingerprint; mark absent ones inactive; re-open resolved ones that recur.

    Stored findings are never deleted: a finding whose cause is gone stays, inactive, until a
    clinician acknowledges or resolves it. A resolved finding whose cause persists stays
    resolved; one whose cause went away and came back is opened again.
    """
    stored = {f.fingerprint: f for f in Finding.objects.filter(patient=patient)}
    seen: set[str] = set()
    created: list[Finding] = []
    changed: list[Finding] = []  # content, status or activity changed: rewritten
    still: list[int] = []  # the same finding seen again: only last_seen moves
    for found in result.findings:
        fingerprint = found.fingerprint()
        seen.add(fingerprint)
        values = finding_values(found, result)
        row = stored.get(fingerprint)
        if row is None:
            created.append(
                Finding(
                    patient=patient,
                    fingerprint=fingerprint,
                    first_seen=now,
                    last_seen=now,
                    **values,
                )
            )
            continue
        reopen = row.status == FindingStatus.RESOLVED and not row.active
        if row.active and not reopen and all(getattr(row, k) == v for k, v in values.items()):
            still.append(row.pk)
            continue
        for key, value in values.items():
            setattr(row, key, value)
        if reopen:
            row.status = FindingStatus.OPEN
        row.last_seen = now
        row.active = True
        row.modified = now
        changed.append(row)
    for fingerprint, row in stored.items():
        if fingerprint not in seen and row.active:
            row.active = False
            row.modified = now
            changed.append(row)
    # Screening runs on every submission: new findings are one INSERT, findings seen again
    # one UPDATE, and changed ones one batch of UPDATEs (one per finding, sent together),
    # whatever their number.
    Finding.objects.bulk_create(created)
    if still:
        Finding.objects.filter(pk__in=still).update(last_seen=now)
    if changed:
        rows.update_many(changed, [*SYNCED_FIELDS, "status", "last_seen", "active", "modified"])


def finding_values(found: DomainFinding, result: ScreeningResult) -> dict[str, object]:
    """The stored fields of a finding from the engine, its references resolved."""
    values: dict[str, object] = {k: ("" if v is None else v) for k, v in found.to_dict().items()}
    values["references"] = [result.references.get(r, {"id": r}) for r in found.references]
    return values


SYNCED_FIELDS = (
    "code",
    "severity",
    "category",
    "title",
    "rationale",
    "management",
    "patient_message",
    "references",
    "triggers",
    "evidence_level",
)


class LifecycleError(ValueError):
    """The requested change of a finding's status is not allowed; the message says why."""


def do_acknowledge_finding(
    finding: Finding, user: User, reason: str, ip: str | None = None
) -> None:
    """Open -> acknowledged, recording who, when and why."""
    if finding.status != FindingStatus.OPEN:
        raise LifecycleError(
            f"Only an open finding can be acknowledged (this one is {finding.status})."
        )
    with transaction.atomic():
        finding.status = FindingStatus.ACKNOWLEDGED
        finding.acknowledged_by = user
        finding.acknowledged_at = timezone.now()
        finding.acknowledged_reason = reason
        finding.save()
        audit(
            user,
            "finding.acknowledge",
            patient=finding.patient,
            object_type="finding",
            object_uuid=finding.uuid,
            ip=ip,
        )


def do_resolve_finding(finding: Finding, user: User, reason: str, ip: str | None = None) -> None:
    """Open or acknowledged -> resolved, recording who, when and why."""
    if finding.status == FindingStatus.RESOLVED:
        raise LifecycleError("This finding is already resolved.")
    with transaction.atomic():
        finding.status = FindingStatus.RESOLVED
        finding.resolved_by = user
        finding.resolved_at = timezone.now()
        finding.resolved_reason = reason
        finding.save()
        audit(
            user,
            "finding.resolve",
            patient=finding.patient,
            object_type="finding",
            object_uuid=finding.uuid,
            ip=ip,
        )
