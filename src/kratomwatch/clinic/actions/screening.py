"""Screening a patient and keeping the stored findings in step with the engine's result."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kratomwatch.clinic import alerts
from kratomwatch.clinic.models import (
    Finding,
    FindingStatus,
    PatientProfile,
    Plan,
    SymptomReport,
)
from kratomwatch.clinic.screening_input import patient_snapshot
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.safety import Medication, ScreeningResult, load_knowledge
from kratomwatch.domain.safety import screen as run_screen
from kratomwatch.domain.safety.engine import cannot_run
from kratomwatch.domain.substances import InvalidQueryError, Match, recognize

logger = logging.getLogger(__name__)


def active_plan(patient: PatientProfile) -> Plan | None:
    return patient.plans.filter(active=True).order_by("-version").first()


def screen(patient: PatientProfile, now: datetime) -> ScreeningResult:
    """Run the safety engine on a patient's record as of ``now``."""
    return run_screen(patient_snapshot(patient, now))


def screen_drafts(
    patient: PatientProfile,
    now: datetime,
    current: Sequence[Medication],
    drafts: Sequence[Medication],
) -> list[tuple[ScreeningResult, ScreeningResult]]:
    """Screen a patient's record as if each drafted medication were added (nothing is
    stored): for each draft, the result without it and the result with it. ``current`` are
    medications the caller knows of beside the record (an EHR's active medication list, the
    other orders being drafted); both screenings include them.

    The screening without the draft leaves out the medications of the draft's own
    ingredients (from the record or ``current``): a re-order, or a second order of a substance
    already taken, is screened as the order it is, not hidden by the list it renews."""
    snapshot = patient_snapshot(patient, now)
    known = (*snapshot.medications, *current)
    screened: dict[tuple[Medication, ...], ScreeningResult] = {}

    def screened_with(medications: tuple[Medication, ...]) -> ScreeningResult:
        if medications not in screened:
            screened[medications] = run_screen(replace(snapshot, medications=medications))
        return screened[medications]

    results = []
    for draft in drafts:
        own = _ingredients(draft)
        base = tuple(m for m in known if not (own and own & _ingredients(m)))
        results.append((screened_with(base), screened_with((*base, draft))))
    return results


def _ingredients(medication: Medication) -> frozenset[str]:
    """The substances a medication's name names; empty when it is not recognized."""
    try:
        found = recognize(medication.name)
    except InvalidQueryError:
        return frozenset()
    return frozenset(found.ids) if isinstance(found, Match) else frozenset()


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
        # On SQLite the transaction itself holds the database's write lock.
        profile = PatientProfile.objects.filter(pk=patient_id)
        changes, stored_at = (
            profile.select_for_update().values_list("change_count", "screened_change_count").get()
        )
        if stored_at is not None and stored_at > read_at:
            return False  # a screening that read the record later has stored its findings
        do_sync_findings(patient, result, now)
        done: dict[str, object] = {
            "screened_change_count": read_at,
            "screened_knowledge": result.knowledge_version,
            "screening_notes": [note_values(n, result.references) for n in result.notes],
        }
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


def note_values(
    note: DomainFinding, references: Mapping[str, Mapping[str, object]]
) -> dict[str, object]:
    """What is kept of a note: what it says, its references as cited, and what it concerns
    (the medications or products among its triggers, by name as entered)."""
    return {
        "code": note.code,
        "title": note.title,
        "rationale": note.rationale,
        "management": note.management,
        "patient_message": note.patient_message,
        "evidence_level": note.evidence_level,
        "references": [dict(references.get(r, {"id": r})) for r in note.references],
        "about": [
            {"type": t["type"], "name": t["name"], "dose": t.get("dose")}
            for t in note.triggers
            if t.get("type") in ("medication", "product") and "name" in t
        ],
    }


def notes_about(
    patient: PatientProfile, kind: str, name: str, dose: str | None = None
) -> list[dict[str, object]]:
    """The stored notes of the last screening that concern one medication (by its name and
    dose as entered: two entries of one medicine can differ) or one product."""
    wanted = {"type": kind, "name": name, "dose": dose or None}
    return [
        note
        for note in patient.screening_notes or []
        if any(
            {"type": a.get("type"), "name": a.get("name"), "dose": a.get("dose") or None} == wanted
            for a in note.get("about", [])
        )
    ]


def _screening_failed(reason: str) -> DomainFinding:
    return cannot_run(f"screening this patient's record failed: {reason}")


def do_sync_findings(patient: PatientProfile, result: ScreeningResult, now: datetime) -> None:
    """Upsert findings by fingerprint; mark absent ones inactive; re-open resolved ones that recur.

    Stored findings are never deleted: a finding whose cause is gone stays, inactive, until a
    clinician acknowledges or resolves it. A resolved finding whose cause persists stays
    resolved; one whose cause went away and came back is opened again. A red flag that
    happened again after it was acknowledged or resolved (a new report) is opened again.

    The care team is told of the new findings and of those opened again: the high-severity
    ones are put in the alerts outbox in this transaction (:mod:`kratomwatch.clinic.alerts`),
    sent by the screening worker within seconds; the rest go in the daily digest.
    """
    stored = list(Finding.objects.filter(patient=patient))
    was_open = {f.pk for f in stored if f.status == FindingStatus.OPEN}
    created, changed, still = findings_changes(patient, stored, result, now)
    _write_findings(created, changed, still, now)
    reopened = [f for f in changed if f.status == FindingStatus.OPEN and f.pk not in was_open]
    alerts.queue_alerts(patient, [*created, *reopened])


def findings_changes(
    patient: PatientProfile, stored: Iterable[Finding], result: ScreeningResult, now: datetime
) -> tuple[list[Finding], list[Finding], list[int]]:
    """What :func:`do_sync_findings` writes: the findings to create, the stored ones whose
    content, status or activity changed (to rewrite), and the ids of those seen again
    unchanged (only their ``last_seen`` moves)."""
    by_fingerprint = {f.fingerprint: f for f in stored}
    seen: set[str] = set()
    created: list[Finding] = []
    changed: list[Finding] = []
    still: list[int] = []
    for found in result.findings:
        fingerprint = found.fingerprint()
        seen.add(fingerprint)
        row = by_fingerprint.get(fingerprint)
        reopen = row is not None and row.status == FindingStatus.RESOLVED and not row.active
        values = finding_values(
            found, result, found_at=now if row is None or reopen else row.first_seen
        )
        if row is not None and _red_flag_again(row, values["cause_last_at"]):
            reopen = True
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
    for fingerprint, row in by_fingerprint.items():
        if fingerprint not in seen and row.active:
            row.active = False
            row.modified = now
            changed.append(row)
    return created, changed, still


def _red_flag_again(row: Finding, cause_last_at: object) -> bool:
    """Whether a red flag that a clinician acknowledged or resolved happened again since: a
    new report of the symptom (or a new answer) opens it again, so that it is seen. A report
    kept on a phone with no connection arrives after the moment it was made: one that
    reached the server after the finding was closed is news to the clinician too."""
    if row.category != "red_flag" or not isinstance(cause_last_at, datetime):
        return False
    closed = {
        FindingStatus.ACKNOWLEDGED: row.acknowledged_at,
        FindingStatus.RESOLVED: row.resolved_at,
    }.get(FindingStatus(row.status))
    if closed is None:
        return False
    if cause_last_at > closed:
        return True
    return SymptomReport.objects.filter(
        patient_id=row.patient_id, term__in=_red_flag_terms(row.code), created__gt=closed
    ).exists()


def _red_flag_terms(rule_id: str) -> list[str]:
    """The words a report of the symptoms of red-flag rule ``rule_id`` is stored under."""
    kb = load_knowledge()
    rule = next((r for r in kb.rules if r.id == rule_id), None)
    symptoms = rule.trigger.get("symptoms", ()) if rule is not None else ()
    return [kb.symptoms[s].label if s in kb.symptoms else s for s in symptoms]


def _write_findings(
    created: list[Finding], changed: list[Finding], still: list[int], now: datetime
) -> None:
    """Screening runs on every submission: new findings are one INSERT, findings seen again
    one UPDATE, and changed ones one batch update, whatever their number."""
    if created:
        Finding.objects.bulk_create(created)
    if still:
        Finding.objects.filter(pk__in=still).update(last_seen=now)
    if changed:
        Finding.objects.bulk_update(
            changed, [*SYNCED_FIELDS, "status", "last_seen", "active", "modified"]
        )


def finding_values(
    found: DomainFinding, result: ScreeningResult, *, found_at: datetime
) -> dict[str, object]:
    """The stored fields of a finding from the engine, its references resolved. Its cause's
    times are those of its triggering events; a cause with no time of its own (a medication
    on the list) counts from ``found_at``, when screening first found it."""
    values: dict[str, object] = {k: ("" if v is None else v) for k, v in found.to_dict().items()}
    values["references"] = [result.references.get(r, {"id": r}) for r in found.references]
    values["knowledge_version"] = result.knowledge_version
    values["knowledge_released"] = result.knowledge_released
    first, last = found.cause_times()
    values["cause_first_at"] = first or found_at
    values["cause_last_at"] = last or first or found_at
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
    "knowledge_version",
    "knowledge_released",
    "cause_first_at",
    "cause_last_at",
)
