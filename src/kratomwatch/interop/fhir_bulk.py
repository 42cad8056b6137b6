"""FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html) of a clinic, as jobs.

The kick-off request (``clinic/views/bulk.py``) stores a :class:`BulkExportJob`; a worker
(:mod:`kratomwatch.clinic.bulk_queue`) runs it with :func:`run_job`: patients are read a page
at a time (never the whole clinic in memory), each patient's resources are built by
:func:`.fhir_export.patient_resources` (the one implementation of the mapping, every resource
validated against its R4B model) and appended to NDJSON parts, one part per resource type
stored in the database when it reaches :data:`PART_RESOURCES` resources or
:data:`PART_BYTES` bytes (UTF-8). The manifest of a finished job lists the parts.

Also here: the SMART system scopes (which resource types a granted scope reads) and the
kick-off parameters (``_type``, ``_since``, ``_outputFormat``), checked before a job exists.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.models import (
    BulkExportFile,
    BulkExportJob,
    BulkJobStatus,
    PatientProfile,
)

from .fhir_export import (
    NDJSON_TYPES,
    Exporter,
    Resource,
    fhir_time,
    patient_resources,
    provenance_resource,
    validated,
)

logger = logging.getLogger(__name__)

#: The resource types a bulk export writes, in this order (lots are Medication resources).
EXPORT_TYPES: tuple[str, ...] = (
    *NDJSON_TYPES[:3],
    "Medication",
    *NDJSON_TYPES[3:],
)
#: ``_outputFormat`` values accepted: all mean FHIR NDJSON.
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
NDJSON = "application/fhir+ndjson"
#: A part is stored when it holds this many resources ...
PART_RESOURCES = 5000
#: ... or would pass this many bytes of NDJSON (UTF-8) with the next resource.
PART_BYTES = 8_000_000
#: Patients read from the database at a time.
PAGE = 200
#: How long a finished job's files are kept.
KEPT_FOR = timedelta(hours=24)
#: A running job whose worker has not reported for this long is queued again (the worker died).
STALLED_AFTER = timedelta(minutes=10)
#: A job taken this many times (its workers died or stalled) fails instead of running again.
MAX_ATTEMPTS = 3


class BadRequest(ValueError):
    """A kick-off parameter or scope that cannot be honoured; the message says why."""


# --------------------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Scope:
    """One SMART system scope: ``system/<type>.<permissions>`` (v1 ``read``/``write``/``*``
    or v2 letters ``cruds``)."""

    text: str
    resource_type: str
    permissions: frozenset[str]


_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
#: The longest scope string granted (what :class:`BulkAccessToken` keeps).
MAX_SCOPE_CHARS = 500


def parse_scope(text: str) -> Scope | None:
    """The system scope ``text``, or ``None`` if it is not one (user/patient scopes, scopes
    with a query, unknown permissions)."""
    if not text.startswith("system/") or "?" in text or "." not in text:
        return None
    resource_type, _, perms = text[len("system/") :].rpartition(".")
    if resource_type != "*" and resource_type not in EXPORT_TYPES:
        return None  # a type this server does not export is never granted
    letters = _V1.get(perms, perms)
    if (
        not letters
        or any(c not in "cruds" for c in letters)
        or list(letters) != sorted(set(letters), key="cruds".index)
    ):
        return None
    return Scope(text, resource_type, frozenset(letters))


def _covers(allowed: Scope, wanted: Scope) -> bool:
    return (
        allowed.resource_type in ("*", wanted.resource_type)
        and wanted.permissions <= allowed.permissions
    )


def _read_form(scope: Scope) -> str:
    """The scope reduced to reading, in its own version: ``.read`` (v1) or ``.rs`` (v2)."""
    v1 = scope.text.rpartition(".")[2] in _V1
    return f"system/{scope.resource_type}.{'read' if v1 else 'rs'}"


def granted_scopes(requested: str, allowed: str) -> list[str]:
    """The requested scopes the client is allowed, that read, granted in their read form
    only (export only reads: a client allowed ``system/*.*`` asking ``system/Patient.cruds``
    gets ``system/Patient.rs``)."""
    allowed_scopes = [s for s in map(parse_scope, allowed.split()) if s is not None]
    out = []
    for text in requested.split():
        wanted = parse_scope(text)
        if wanted is None or not {"r", "s"} <= wanted.permissions:
            continue
        if any(_covers(a, wanted) for a in allowed_scopes):
            grant = [_read_form(wanted)]
        else:  # a wider request is narrowed to the allowed scopes it covers
            grant = [
                _read_form(a)
                for a in allowed_scopes
                if {"r", "s"} <= a.permissions and _covers(wanted, a)
            ]
        out += [g for g in grant if g not in out]
    return out if len(" ".join(out)) <= MAX_SCOPE_CHARS else []


def readable_types(scope: str) -> tuple[str, ...]:
    """The exported resource types a granted scope string lets its client read."""
    scopes = [s for s in map(parse_scope, scope.split()) if s is not None]
    readable = {s.resource_type for s in scopes if {"r", "s"} <= s.permissions}
    if "*" in readable:
        return EXPORT_TYPES
    return tuple(t for t in EXPORT_TYPES if t in readable)


# --------------------------------------------------------------------------- kick-off


@dataclass(frozen=True)
class ExportRequest:
    types: list[str]
    since: datetime | None


#: Parameters of the kick-off request this server honours.
PARAMETERS = ("_outputFormat", "_type", "_since")


def parse_kickoff(params: Any, readable: tuple[str, ...], *, lenient: bool) -> ExportRequest:
    """The export asked for by the kick-off query ``params`` (a QueryDict); :class:`BadRequest`
    for a value this server does not support, or (unless ``lenient``) an unknown parameter."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown and not lenient:
        raise BadRequest(
            f"Unsupported parameter {', '.join(unknown)}; this server supports "
            f"{', '.join(PARAMETERS)} (or send Prefer: handling=lenient to ignore others)."
        )
    output_format = params.get("_outputFormat")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise BadRequest(
            f"_outputFormat {output_format!r} is not supported; use {NDJSON} (NDJSON)."
        )
    types = list(readable)
    if params.getlist("_type"):
        asked = [t.strip() for value in params.getlist("_type") for t in value.split(",")]
        unknown_types = [t or "(empty)" for t in asked if t not in EXPORT_TYPES]
        if unknown_types:
            raise BadRequest(
                f"_type {', '.join(unknown_types)} is not exported; "
                f"the types are {', '.join(EXPORT_TYPES)}."
            )
        refused = [t for t in asked if t not in readable]
        if refused:
            raise BadRequest(f"The access token's scopes do not read {', '.join(refused)}.")
        types = [t for t in EXPORT_TYPES if t in asked]
    if not types:
        raise BadRequest("The access token's scopes read none of the exported resource types.")
    raw_since = params.get("_since")
    since = None if raw_since is None else parse_since(raw_since)
    return ExportRequest(types, since)


#: UTC offsets in use (-12:00 to +14:00) and the years a ``_since`` may name.
_OFFSETS = (timedelta(hours=-12), timedelta(hours=14))
_FIRST_YEAR = 1900


def parse_since(raw: str, now: datetime | None = None) -> datetime:
    """``_since`` as a UTC time; :class:`BadRequest` unless it is a FHIR instant with a real
    time zone, from 1900 to a day from now (a value the database can store and compare)."""
    latest = (now or timezone.now()) + timedelta(days=1)
    try:
        since = parse_datetime(raw)
        offset = since.utcoffset() if since is not None else None
        if since is None or offset is None:
            raise ValueError(raw)
        if not _OFFSETS[0] <= offset <= _OFFSETS[1]:
            raise BadRequest(f"_since {raw!r} has a time zone offset outside -12:00 to +14:00.")
        since = since.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, BadRequest):
            raise
        raise BadRequest(
            f"_since {raw!r} is not a FHIR instant (e.g. 2026-01-31T09:00:00Z, with its time zone)."
        ) from None
    if not _FIRST_YEAR <= since.year or since > latest:
        raise BadRequest(f"_since {raw!r} must be between {_FIRST_YEAR} and now.")
    return since


# --------------------------------------------------------------------------- writing


@dataclass
class _Part:
    lines: list[str] = field(default_factory=list)
    size: int = 0  # bytes, UTF-8
    number: int = 0


class PartWriter:
    """NDJSON parts of one job, each stored when full (:data:`PART_RESOURCES`,
    :data:`PART_BYTES`): at most one part per type is held in memory. A part stays within
    ``max_bytes`` unless one resource alone is larger."""

    def __init__(self, job: BulkExportJob, *, max_resources: int, max_bytes: int) -> None:
        self.job = job
        self.max_resources = max_resources
        self.max_bytes = max_bytes
        self.parts: dict[str, _Part] = {}

    def write(self, resource: Resource) -> None:
        kind = resource["resourceType"]
        part = self.parts.setdefault(kind, _Part())
        line = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        size = len(line.encode()) + 1
        if part.lines and part.size + size > self.max_bytes:
            self.flush(kind)
        part.lines.append(line)
        part.size += size
        if len(part.lines) >= self.max_resources or part.size >= self.max_bytes:
            self.flush(kind)

    def flush(self, kind: str) -> None:
        part = self.parts[kind]
        if not part.lines:
            return
        part.number += 1
        BulkExportFile.objects.create(
            job=self.job,
            resource_type=kind,
            part=part.number,
            attempt=self.job.attempt,
            count=len(part.lines),
            content="\n".join(part.lines) + "\n",
        )
        part.lines, part.size = [], 0

    def flush_all(self) -> None:
        for kind in list(self.parts):
            self.flush(kind)


def _changed_since(resource: Resource, since: datetime) -> bool:
    """Whether the resource may have changed after ``since``: ``meta.lastUpdated`` is cut to
    the second, so a resource of ``since``'s own second is included (the specification allows
    resources that did not change; it never allows missing one that did)."""
    updated = parse_datetime(resource.get("meta", {}).get("lastUpdated", "") or "")
    return updated is None or updated >= since.replace(microsecond=0)


def selected_resources(
    ex: Exporter, patient: PatientProfile, types: Iterable[str], since: datetime | None
) -> list[Resource]:
    """The patient's resources of ``types`` (changed after ``since``, when given), the
    Questionnaires their answers use, and a Provenance of those of them exported; empty when
    nothing is left.

    A resource without ``meta.lastUpdated`` (a lot's Medication) is always included; a
    product's MedicationStatement, which summarises the product's doses, is included when the
    product or any dose of the patient changed after ``since``.
    """
    wanted = set(types)
    resources, questionnaires = patient_resources(ex, patient)
    doses_changed = since is not None and patient.doses.filter(modified__gt=since).exists()
    changed = [
        r
        for r in resources
        if since is None
        or _changed_since(r, since)
        or (doses_changed and r["resourceType"] == "MedicationStatement")
    ]
    if not changed:
        return []
    used = {r.get("questionnaire") for r in changed if r["resourceType"] == "QuestionnaireResponse"}
    used_questionnaires = [
        q for q in questionnaires if f"{q.get('url')}|{q.get('version')}" in used
    ]
    out = used_questionnaires if "Questionnaire" in wanted else []
    out += [r for r in changed if r["resourceType"] in wanted]
    if "Provenance" in wanted and out:
        # Of the records exported only: its targets name no resource of a type the client
        # did not ask for or may not read.
        out.append(validated(provenance_resource(ex, list(out))))
    return out


def _patients(job: BulkExportJob) -> Iterator[list[PatientProfile]]:
    """The job's patients a page at a time, by primary key (no cursor held between pages)."""
    last = 0
    query = access.bulk_export_patients(job).select_related("user", "clinic").order_by("pk")
    while True:
        page = list(query.filter(pk__gt=last)[:PAGE])
        if not page:
            return
        yield page
        last = page[-1].pk


def _mine(job: BulkExportJob) -> Any:
    """The job's row while it is running on this worker's claim (its ``attempt``)."""
    return BulkExportJob.objects.filter(
        pk=job.pk, status=BulkJobStatus.RUNNING, attempt=job.attempt
    )


def _still_running(job: BulkExportJob) -> bool:
    """Whether the job still runs on this claim; if so its heartbeat (``modified``) is noted,
    so a job is not taken as stalled while its worker works."""
    return bool(_mine(job).update(modified=timezone.now()))


def _stop_if_client_deactivated(job: BulkExportJob) -> None:
    """A job of a client deactivated meanwhile is cancelled (its tokens stopped working)."""
    _mine(job).filter(client__active=False).update(
        status=BulkJobStatus.CANCELLED, modified=timezone.now()
    )


def outcome(text: str, *, severity: str = "error", code: str = "processing") -> Resource:
    """An OperationOutcome with one issue."""
    return validated(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}],
        }
    )


def run_job(
    job: BulkExportJob,
    *,
    max_resources: int = PART_RESOURCES,
    max_bytes: int = PART_BYTES,
    stop: threading.Event | None = None,
) -> str:
    """Write the export of a claimed (running) job; returns its final status.

    Cancellation is noticed between patients: the job's files are then removed. So is
    ``stop`` (the worker is shutting down): the job is then queued again for another worker,
    without this run counting as an attempt. A patient
    whose record cannot be exported gets an OperationOutcome in the error file and the export
    goes on; a failure of the job itself marks it failed with an OperationOutcome.
    """
    ex = Exporter("relative", job.transaction_time or timezone.now(), None)
    writer = PartWriter(job, max_resources=max_resources, max_bytes=max_bytes)
    seen_questionnaires: set[str] = set()
    try:
        for page in _patients(job):
            _stop_if_client_deactivated(job)
            exported = []
            for patient in page:
                if stop is not None and stop.is_set():
                    return _put_back(job)
                if not _still_running(job):
                    return _drop_files(job)
                try:
                    resources = selected_resources(ex, patient, job.types, job.since)
                except Exception:  # noqa: BLE001 - one record's failure is reported, not fatal
                    logger.exception("bulk export: patient %s could not be exported", patient.pk)
                    writer.write(outcome(f"Patient/{patient.uuid} could not be exported."))
                    continue
                for resource in resources:
                    if resource["resourceType"] == "Questionnaire":
                        if resource["id"] in seen_questionnaires:
                            continue
                        seen_questionnaires.add(resource["id"])
                    writer.write(resource)
                exported.append(patient)
            with transaction.atomic():
                for patient in exported:
                    audit_chain.append(
                        None,
                        "fhir.export",
                        patient=patient,
                        object_type="patient",
                        object_uuid=patient.uuid,
                    )
                _mine(job).update(
                    patients_done=job.patients_done + len(page), modified=timezone.now()
                )
                job.patients_done += len(page)
        writer.flush_all()
    except Exception:  # noqa: BLE001 - the job fails with a report; the worker goes on
        logger.exception("bulk export %s failed", job.uuid)
        return fail_job(job, "The export failed on the server; start a new export.")
    now = timezone.now()
    finished = _mine(job).update(
        status=BulkJobStatus.DONE, finished_at=now, expires_at=now + KEPT_FOR, modified=now
    )
    if not finished:
        return _drop_files(job)
    return BulkJobStatus.DONE


def _put_back(job: BulkExportJob) -> str:
    """Queue the job again (this claim's files deleted) as its worker stops; the claim it
    had is not counted against :data:`MAX_ATTEMPTS`."""
    with transaction.atomic():
        BulkExportFile.objects.filter(job=job, attempt=job.attempt).delete()
        queued = _mine(job).update(
            status=BulkJobStatus.QUEUED,
            attempt=F("attempt") - 1,
            patients_done=0,
            modified=timezone.now(),
        )
    return BulkJobStatus.QUEUED if queued else BulkJobStatus.CANCELLED


def _drop_files(job: BulkExportJob) -> str:
    """Delete the files this claim wrote (a job cancelled, or taken by another worker)."""
    BulkExportFile.objects.filter(job=job, attempt=job.attempt).delete()
    return BulkJobStatus.CANCELLED


def fail_job(job: BulkExportJob, message: str) -> str:
    """Mark the job, running on this claim, failed with an OperationOutcome saying ``message``."""
    now = timezone.now()
    with transaction.atomic():
        BulkExportFile.objects.filter(job=job, attempt=job.attempt).delete()
        updated = _mine(job).update(
            status=BulkJobStatus.FAILED,
            error=message,
            finished_at=now,
            expires_at=now + KEPT_FOR,
            modified=now,
        )
        if updated:
            BulkExportFile.objects.create(
                job=job,
                resource_type="OperationOutcome",
                part=1,
                attempt=job.attempt,
                count=1,
                content=json.dumps(outcome(message), separators=(",", ":")) + "\n",
            )
    return BulkJobStatus.FAILED if updated else BulkJobStatus.CANCELLED


# --------------------------------------------------------------------------- manifest


def manifest(job: BulkExportJob, file_url: Any) -> dict[str, Any]:
    """The completion manifest of a finished (or failed) job; ``file_url(file)`` is each
    file's absolute address."""
    output: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    files = (
        job.files.filter(attempt=job.attempt)
        .select_related("job")
        .only("uuid", "resource_type", "part", "count", "job__uuid")
    )
    order = {name: index for index, name in enumerate(EXPORT_TYPES)}
    for f in sorted(files, key=lambda f: (order.get(f.resource_type, -1), f.part)):
        entry = {"type": f.resource_type, "url": file_url(f), "count": f.count}
        (errors if f.resource_type == "OperationOutcome" else output).append(entry)
    return {
        "transactionTime": fhir_time(job.transaction_time or job.created),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": output,
        "error": errors,
    }
