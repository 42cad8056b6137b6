"""The audit trail as a hash chain: appending under a lock, verifying, and reading it back.

Every :class:`~kratomwatch.clinic.models.AuditEvent` carries ``seq`` (1, 2, 3, … with no
gaps), ``prev_hash`` (the ``hash`` of the event with the previous ``seq``; :data:`GENESIS` for
the first) and ``hash``: the hex SHA-256 of :func:`canonical`, a JSON serialization of the
event's fields and ``prev_hash``. Editing a stored event changes what its hash should be;
removing or inserting one breaks the numbering or the link to the previous hash. So
:func:`verify_chain` finds any such change made behind the application's back, e.g. with SQL,
unless whoever made it rewrote every later event too, or only removed events at the very end:
to detect those, keep the last seq and hash that ``kratomwatch audit verify`` prints
somewhere the database's users cannot write, and compare.

Appends are serialized so that two concurrent writers can never both link to the same
previous event: on PostgreSQL by a transaction-level advisory lock held until the writer's
transaction ends; on SQLite every transaction is ``IMMEDIATE`` (see settings), so it holds
the database's write lock from its start. The unique ``seq`` refuses a fork in any case.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from kratomwatch.clinic.models import AuditEvent, PatientProfile, User

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

FORMAT_VERSION = 1

# pg_advisory_xact_lock key: the first 8 bytes of sha256(b"kratomwatch.audit_chain"), signed.
ADVISORY_LOCK_KEY = -4158867743941010707

VIEW_ACTIONS: dict[str, str] = {
    "patient.view": gettext_noop("Your record (care team's patient page)"),
    "report.view": gettext_noop("Visit report (on screen)"),
    "report.pdf": gettext_noop("Visit report (PDF download)"),
    "fhir.export": gettext_noop("Export of your record (FHIR)"),
    "csv.export": gettext_noop("Export of your record (CSV)"),
    "patient.export_csv": gettext_noop("Download of your data (CSV)"),
    "patient.export_pdf": gettext_noop("Download of your data (PDF)"),
    "certificate.view": gettext_noop("A lab certificate of one of your products"),
    "cds.patient-view": gettext_noop("Safety advice sent to the clinic's EHR (chart opened)"),
    "cds.order-select": gettext_noop("Safety advice sent to the clinic's EHR (order chosen)"),
    "cds.order-sign": gettext_noop("Safety advice sent to the clinic's EHR (order to sign)"),
}
"""Audit actions by which someone saw or took away a patient's record, with what they saw."""


def canonical_ip(ip: object) -> str | None:
    """One spelling per address, the same on every database and Python version.

    IPv4 in dotted decimal; IPv6 as eight groups of four hex digits (the standard library's
    own text form of IPv4-mapped addresses changed between Python versions).
    """
    if ip is None or ip == "":
        return None
    text = str(ip).strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text  # not an address (append() stores none): hashed as written
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    packed = address.packed
    return ":".join(packed[i : i + 2].hex() for i in range(0, 16, 2))


def storable_ip(ip: str | None) -> str | None:
    """The address as the database stores it, or None if it is not an IP address (e.g. a
    proxy's placeholder, which PostgreSQL would refuse)."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip().split("%")[0]))  # without a zone id
    except ValueError:
        return None


def _uuid_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _time_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    seq: int,
    at: datetime,
    actor_uuid: object,
    action: str,
    object_type: str,
    object_uuid: object,
    patient_uuid: object,
    ip: object,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash is computed over: sorted-key, ASCII-only JSON.

    People are named by their public UUIDs, which never change (usernames might).
    """
    fields: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "seq": int(seq),
        "at": _time_text(at),
        "actor": _uuid_text(actor_uuid),
        "action": action,
        "object_type": object_type,
        "object_uuid": _uuid_text(object_uuid),
        "patient": _uuid_text(patient_uuid),
        "ip": canonical_ip(ip),
        "prev_hash": prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(**fields: Any) -> str:
    """Hex SHA-256 of :func:`canonical` of these fields."""
    return hashlib.sha256(canonical(**fields)).hexdigest()


def _lock_and_last() -> tuple[int, str] | None:
    """Take the chain's write lock until the current transaction ends, then read the seq and
    hash of the last event (``None`` if there is none). On PostgreSQL the lock is a
    transaction-level advisory lock, for which the ORM has no expression: this is the one
    statement of the module written out. The read that follows is a statement of its own:
    in READ COMMITTED it takes a new snapshot, once the lock is held, so it sees the last
    committed append. On SQLite the IMMEDIATE transaction already holds the write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
    return AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()


def append(
    actor: User | None,
    action: str,
    *,
    patient: PatientProfile | None = None,
    object_type: str = "",
    object_uuid: object = None,
    ip: str | None = None,
) -> AuditEvent:
    """Write one event at the end of the chain, in the caller's transaction if there is one.

    The lock is held until that transaction ends, so that nobody else appends after an event
    that may still be rolled back; a rolled-back event leaves no gap in ``seq``.
    """
    # Inside the caller's transaction no savepoint is needed: a failure here fails it all.
    with transaction.atomic(savepoint=False):
        event = event_after(
            _lock_and_last(),
            actor=actor,
            action=action,
            patient=patient,
            object_type=object_type,
            object_uuid=object_uuid,
            ip=ip,
        )
        event.save(force_insert=True)
    return event


def event_after(
    last: Sequence[Any] | None,
    *,
    actor: User | None,
    action: str,
    patient: PatientProfile | None = None,
    object_type: str = "",
    object_uuid: object = None,
    ip: str | None = None,
) -> AuditEvent:
    """The event that follows ``last`` (the seq and hash of the last event, ``None`` for an
    empty chain), with its seq and hashes, unsaved. It must be stored in the transaction
    that holds the lock (see :func:`append`)."""
    object_text = _uuid_text(object_uuid)
    seq, prev_hash = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    event = AuditEvent(
        seq=seq,
        at=timezone.now(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_uuid=uuid.UUID(object_text) if object_text else None,
        patient=patient,
        ip=storable_ip(ip),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(
        seq=seq,
        at=event.at,
        actor_uuid=actor.uuid if actor is not None else None,
        action=action,
        object_type=object_type,
        object_uuid=event.object_uuid,
        patient_uuid=patient.uuid if patient is not None else None,
        ip=event.ip,
        prev_hash=prev_hash,
    )
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    """The seq of the event at which the chain stops being intact."""
    kind: str
    """``altered``, ``unlinked``, ``missing`` or ``misnumbered``."""
    message: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    """How many events were read (up to and including the first problem)."""
    problem: ChainProblem | None
    last_seq: int | None = None
    last_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


_ROW = (
    "seq",
    "at",
    "actor__uuid",
    "action",
    "object_type",
    "object_uuid",
    "patient__uuid",
    "ip",
    "prev_hash",
    "hash",
)


def _rows() -> Iterable[tuple[Any, ...]]:
    return AuditEvent.objects.order_by("seq").values_list(*_ROW).iterator(chunk_size=2000)


def check_rows(rows: Iterable[tuple[Any, ...]]) -> ChainReport:
    """Check rows of :data:`_ROW` values in seq order; the first problem found is reported."""
    count = 0
    expected_seq = 1
    prev_hash = GENESIS
    for seq, at, actor, action, object_type, object_uuid, patient, ip, stored_prev, stored in rows:
        count += 1
        if seq != expected_seq:
            if seq > expected_seq:
                missing = seq - expected_seq
                where = f"after seq {expected_seq - 1}" if expected_seq > 1 else "at the start"
                return ChainReport(
                    count,
                    ChainProblem(
                        seq,
                        "missing",
                        f"{missing} event{'s' if missing > 1 else ''} missing {where}: "
                        f"the next event has seq {seq} (expected {expected_seq}); "
                        "events were deleted",
                    ),
                )
            return ChainReport(
                count,
                ChainProblem(
                    seq,
                    "misnumbered",
                    f"event seq {seq} comes where seq {expected_seq} was expected; "
                    "events were inserted or renumbered",
                ),
            )
        if stored_prev != prev_hash:
            before = f"event seq {seq - 1}" if seq > 1 else "the start of the chain"
            return ChainReport(
                count,
                ChainProblem(
                    seq,
                    "unlinked",
                    f"event seq {seq} does not follow {before}: its prev_hash does not match; "
                    "an event was inserted, deleted or rewritten before it",
                ),
            )
        computed = event_hash(
            seq=seq,
            at=at,
            actor_uuid=actor,
            action=action,
            object_type=object_type,
            object_uuid=object_uuid,
            patient_uuid=patient,
            ip=ip,
            prev_hash=stored_prev,
        )
        if computed != stored:
            return ChainReport(
                count,
                ChainProblem(
                    seq,
                    "altered",
                    f"event seq {seq} was altered: its fields do not match its hash",
                ),
            )
        prev_hash = stored
        expected_seq = seq + 1
    if count == 0:
        return ChainReport(0, None)
    return ChainReport(count, None, last_seq=expected_seq - 1, last_hash=prev_hash)


def verify_chain() -> ChainReport:
    """Walk every audit event in seq order and report the first break in the chain."""
    return check_rows(_rows())


SAME_VIEW = timedelta(minutes=1)
"""Events of one kind by one person within this time of the first count as one view: a page
and the parts it loads after it (each audited, e.g. the dose-response section) are one view."""


def record_views(patient: PatientProfile) -> list[AuditEvent]:
    """Each time someone viewed or exported ``patient``'s record, newest first: the first event
    of each view (see :data:`SAME_VIEW`)."""
    events = (
        AuditEvent.objects.filter(patient=patient, action__in=VIEW_ACTIONS)
        .select_related("actor")
        .order_by("seq")
    )
    views: list[AuditEvent] = []
    for event in events.iterator():
        first = views[-1] if views else None
        if (
            first is not None
            and event.actor_id is not None
            and (event.actor_id, event.action) == (first.actor_id, first.action)
            and event.at - first.at <= SAME_VIEW
        ):
            continue
        views.append(event)
    views.reverse()
    return views
