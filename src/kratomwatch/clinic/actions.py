"""One function per change. Each runs in one transaction and sends side effects on commit.

Views and the API validate input, then call exactly one ``do_*`` function here. Business
rules live in :mod:`kratomwatch.domain`; these functions persist and orchestrate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from kratomwatch.domain.doses import CheckedDose
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.safety import ScreeningResult
from kratomwatch.domain.safety import screen as run_screen
from kratomwatch.domain.safety.engine import cannot_run

from . import access, audit_chain, rows
from .audit_chain import append as append_audit_event
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
from .signals import screening_deferred, screening_mark
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


class CountedInWrite(Protocol):
    """A statement to run first in a write's transaction, and the check of how many rows it
    updated (:class:`kratomwatch.api.auth.PendingCount`)."""

    def statement(self) -> rows.Statement: ...

    def check(self, updated: int) -> None: ...


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
    count: CountedInWrite | None = None,
) -> tuple[DoseEntry, bool]:
    """Store a checked dose once per idempotency key. Returns the entry and whether it is new.

    ``count``'s statement runs first in the transaction that stores the dose (the API
    counts the request for its rate limit there), and its check sees how many rows it
    updated; it is rolled back with the dose.

    The dose, its audit event and the screening mark are written out (:mod:`.rows`) rather
    than saved through the ORM. On PostgreSQL the transaction is two round trips
    (:func:`rows.read_then_write`): BEGIN, the count and the audit trail's lock with its last
    event; then the dose, its event, the screening mark and COMMIT. What is stored is what
    ``save()`` would store, and the screening is scheduled as a saved record's would be.
    """
    if product.patient_id != patient.pk:
        raise ValueError("product belongs to another patient")
    entry = _dose_entry(
        patient, product, checked, entered_by, idempotency_key, preparation, route, source
    )
    return _store_dose([], lambda _read: entry, count=count, ip=ip)


class _NoSuchProduct(Exception):
    """The patient has no live product with the id sent; nothing was written."""


def do_record_own_dose(
    *,
    user: User,
    patient_uuid: object,
    product_uuid: object,
    check: Callable[[Product], CheckedDose],
    idempotency_key: str,
    preparation: str = "",
    route: str = "oral",
    source: str = EntrySource.API,
    ip: str | None = None,
    count: CountedInWrite | None = None,
) -> tuple[DoseEntry, bool] | None:
    """:func:`do_record_dose` for a patient recording a dose of their own (the dose API),
    with the look-up of their record and product in the dose's transaction where statements
    go together (:func:`rows.in_one_round_trip`, PostgreSQL): the look-up goes with BEGIN,
    the count and the audit trail's lock, so that the whole request after authentication is
    two round trips. Elsewhere (SQLite) the look-up comes first, outside the write lock.

    ``check`` turns the product found into the checked dose; whatever it raises (a refused
    dose) rolls the transaction back and goes on to the caller. Returns ``None``, having
    written nothing, if ``user`` has no live product with this id on this record (the
    caller answers 404 or 422 as :func:`.access.product_of` finds).
    """
    if not rows.in_one_round_trip():
        # No round trip to save (SQLite): the look-up stays out of the write lock.
        found = access.own_product(user, patient_uuid, product_uuid)
        if found is None:
            return None
        patient, product = found
        return do_record_dose(
            patient=patient,
            entered_by=user,
            product=product,
            checked=check(product),
            idempotency_key=idempotency_key,
            preparation=preparation,
            route=route,
            source=source,
            ip=ip,
            count=count,
        )
    look_up = access.own_product_statement(user, patient_uuid, product_uuid)
    if look_up is None:
        return None

    def entry(read: list[rows.Result]) -> DoseEntry:
        row = read[0].first
        if row is None:
            raise _NoSuchProduct
        patient, product = access.own_product_from_row(row)
        return _dose_entry(
            patient, product, check(product), user, idempotency_key, preparation, route, source
        )

    try:
        return _store_dose([look_up], entry, count=count, ip=ip)
    except _NoSuchProduct:
        return None


def _dose_entry(
    patient: PatientProfile,
    product: Product,
    checked: CheckedDose,
    entered_by: User | None,
    idempotency_key: str,
    preparation: str,
    route: str,
    source: str,
) -> DoseEntry:
    return DoseEntry(
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


def _dose_writes(
    entry: DoseEntry, last: Sequence[Any] | None, ip: str | None
) -> list[rows.Statement]:
    """The dose, its audit event after ``last`` (see :func:`audit_chain.lock_statements`)
    and the patient's screening mark."""
    event = audit_chain.event_after(
        last,
        actor=entry.entered_by,
        action="dose.create",
        patient=entry.patient,
        object_type="dose",
        object_uuid=entry.uuid,
        ip=ip,
    )
    statements = [rows.insert(entry), rows.insert(event)]
    mark = screening_mark(entry.patient_id)
    return statements if mark is None else [*statements, mark]


def _store_dose(
    reads: Sequence[rows.Statement],
    entry: Callable[[list[rows.Result]], DoseEntry],
    *,
    count: CountedInWrite | None,
    ip: str | None,
) -> tuple[DoseEntry, bool]:
    """The dose's transaction (:func:`rows.read_then_write`): ``count``'s statement, the
    ``reads``, the audit trail's lock and last event; then the dose that ``entry`` makes of
    what the ``reads`` returned, its audit event and the screening mark. A repeated
    idempotency key is caught by the unique constraint, with no look-up on the common
    path."""
    first = [] if count is None else [count.statement()]
    built: list[DoseEntry] = []

    def write(read: list[rows.Result]) -> list[rows.Statement]:
        if count is not None:
            count.check(read[0].count)
        built.append(entry(read[len(first) : len(first) + len(reads)]))
        return _dose_writes(built[0], read[-1].first, ip)

    try:
        returned = rows.read_then_write(
            [*first, *reads, *audit_chain.lock_statements()],
            write,
            # Screening right after commit is a callback on Django's commit; the screening
            # queue (the API's) needs only the mark.
            on_commit=not screening_deferred(),
        )
    except IntegrityError:
        # A retry with the same key (perhaps concurrent): answer with the first entry.
        first_stored = DoseEntry.objects.get(
            patient_id=built[0].patient_id, idempotency_key=built[0].idempotency_key
        )
        return first_stored, False
    rows.inserted(built[0], returned[0].first)
    return built[0], True


def active_plan(patient: PatientProfile) -> Plan | None:
    return patient.plans.filter(active=True).order_by("-version").first()


def screen(patient: PatientProfile, now: datetime) -> ScreeningResult:
    """Run the safety engine on a patient's record as of ``now``."""
    return run_screen(patient_snapshot(patient, now))


def do_screen_patient(
    patient_id: int, now: datetime | None = None, *, patient: PatientProfile | None = None
) -> bool:
    """Re-screen one patient and store the findings with their lifecycle.

    The record is read and screened outside any write transaction, so that on SQLite other
    writers are not held up meanwhile; then one short transaction stores the findings and
    clears the due mark. A change committed after the record was read raised the patient's
    ``change_count``: the findings are stored all the same (they are newer than those
    stored), but the patient stays due and is screened again. Findings screened from an
    older reading than the stored ones are dropped. Returns whether findings were stored.
    ``patient``, if given, is the patient's row as just read (the queue's claim returns it).

    If building the snapshot or screening fails, that failure is itself stored as a
    high-severity finding, so that nobody mistakes "no findings" for "screened".

    Screening runs after every change, so its statements are written out (:mod:`.rows`):
    the patient, the record (one round trip on PostgreSQL), then in the transaction the
    patient's lock with the stored findings, and the writes.
    """
    if patient is None:
        patient = rows.get(PatientProfile, patient_id)
    read_at = patient.change_count  # read before the records the screening reads
    now = now or timezone.now()
    try:
        result = screen(patient, now)
    except Exception as exc:  # noqa: BLE001 - the failure is shown, not swallowed
        logger.exception("screening failed for patient %s", patient.uuid)
        result = ScreeningResult(
            (_screening_failed(f"{type(exc).__name__}: {exc}"),), {}, "unavailable"
        )
    profile = rows.table(PatientProfile)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic():
        # On SQLite the transaction itself holds the database's write lock.
        [[(changes, stored_at)], stored] = rows.fetch(
            [
                (f"SELECT change_count, screened_change_count FROM {profile}"  # noqa: S608
                 f" WHERE id = %s{lock}", [patient_id]),
                (f"SELECT {rows.columns(Finding, 'f')} FROM {rows.table(Finding)} f"  # noqa: S608
                 " WHERE f.patient_id = %s", [patient_id]),
            ]
        )  # fmt: skip
        if stored_at is not None and stored_at > read_at:
            return False  # a screening that read the record later has stored its findings
        done = (
            f"UPDATE {profile} SET screened_change_count = %s"  # noqa: S608
            + (", screening_due_at = NULL" if changes == read_at else "")
            + " WHERE id = %s",
            [read_at, patient_id],
        )
        found = [rows.instance(Finding, row) for row in stored]
        _write_findings(*findings_changes(patient, found, result, now), now, also=[done])
    return True


def do_screen_if_due(patient_id: int, now: datetime | None = None, *, gap: float = 0.0) -> bool:
    """Screen the patient if still due and no server took them from the queue in the last
    ``gap`` seconds (the taking is recorded first, so two servers never both do). Returns
    whether it screened."""
    taken_at = timezone.now()
    claim = (
        f"UPDATE {rows.table(PatientProfile)} SET screening_claimed_at = %s"  # noqa: S608
        " WHERE id = %s AND screening_due_at IS NOT NULL"
        " AND (screening_claimed_at IS NULL OR screening_claimed_at <= %s)",
        [
            rows.param(PatientProfile, "screening_claimed_at", taken_at),
            patient_id,
            rows.param(PatientProfile, "screening_claimed_at", taken_at - timedelta(seconds=gap)),
        ],
    )
    if connection.features.can_return_columns_from_insert:  # UPDATE ... RETURNING too
        sql, params = claim
        [taken] = rows.fetch([(f"{sql} RETURNING {rows.columns(PatientProfile)}", params)])
        if not taken:
            return False
        return do_screen_patient(patient_id, now, patient=rows.instance(PatientProfile, taken[0]))
    with connection.cursor() as cursor:
        cursor.execute(*claim)
        claimed = cursor.rowcount
    return bool(claimed) and do_screen_patient(patient_id, now)


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
    resolved; one whose cause went away and came back is opened again. A red flag that
    happened again after it was acknowledged or resolved (a new report) is opened again.
    """
    stored = Finding.objects.filter(patient=patient)
    _write_findings(*findings_changes(patient, stored, result, now), now)


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
    new report of the symptom (or a new answer) opens it again, so that it is seen."""
    if row.category != "red_flag" or not isinstance(cause_last_at, datetime):
        return False
    closed = {
        FindingStatus.ACKNOWLEDGED: row.acknowledged_at,
        FindingStatus.RESOLVED: row.resolved_at,
    }.get(FindingStatus(row.status))
    return closed is not None and cause_last_at > closed


def _write_findings(
    created: list[Finding],
    changed: list[Finding],
    still: list[int],
    now: datetime,
    *,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> None:
    """Screening runs on every submission: new findings are one INSERT, findings seen again
    one UPDATE (sent with ``also``, in one round trip on PostgreSQL), and changed ones one
    batch of UPDATEs (one per finding, sent together), whatever their number."""
    if created:
        Finding.objects.bulk_create(created)
    statements = list(also)
    if still:
        marks = ", ".join(["%s"] * len(still))
        statements.insert(0, (
            f"UPDATE {rows.table(Finding)} SET last_seen = %s WHERE id IN ({marks})",  # noqa: S608
            [rows.param(Finding, "last_seen", now), *still],
        ))  # fmt: skip
    if statements:
        rows.run(statements)
    if changed:
        rows.update_many(changed, [*SYNCED_FIELDS, "status", "last_seen", "active", "modified"])


def finding_values(
    found: DomainFinding, result: ScreeningResult, *, found_at: datetime
) -> dict[str, object]:
    """The stored fields of a finding from the engine, its references resolved. Its cause's
    times are those of its triggering events; a cause with no time of its own (a medication
    on the list) counts from ``found_at``, when screening first found it."""
    values: dict[str, object] = {k: ("" if v is None else v) for k, v in found.to_dict().items()}
    values["references"] = [result.references.get(r, {"id": r}) for r in found.references]
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
    "cause_first_at",
    "cause_last_at",
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
