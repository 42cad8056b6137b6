"""Record an action in the hash-chained audit trail."""

from __future__ import annotations

from kratomwatch.clinic.audit_chain import append as append_audit_event
from kratomwatch.clinic.models import (
    PatientProfile,
    User,
)


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
