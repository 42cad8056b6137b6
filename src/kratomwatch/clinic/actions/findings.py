"""A finding's life cycle: acknowledging and resolving, one or many."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    Finding,
    FindingStatus,
    User,
)


class LifecycleError(ValueError):
    """The requested change of a finding's status is not allowed; the message says why."""


#: The status a finding moves to, from which statuses, and the fields and audit action of it.
_STEPS = {
    FindingStatus.ACKNOWLEDGED: (
        (FindingStatus.OPEN,),
        "acknowledged",
        "finding.acknowledge",
    ),
    FindingStatus.RESOLVED: (
        (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED),
        "resolved",
        "finding.resolve",
    ),
}


def _move(finding: Finding, to: FindingStatus, user: User, reason: str, ip: str | None) -> None:
    """One step of a finding's life cycle, recording who, when and why, and its audit event."""
    allowed, prefix, action = _STEPS[to]
    if finding.status not in allowed:
        if to == FindingStatus.RESOLVED:
            raise LifecycleError(gettext("This finding is already resolved."))
        raise LifecycleError(
            gettext("Only an open finding can be acknowledged (this one is %(status)s).")
            % {"status": str(finding.get_status_display()).lower()}
        )
    with transaction.atomic():
        finding.status = to
        setattr(finding, f"{prefix}_by", user)
        setattr(finding, f"{prefix}_at", timezone.now())
        setattr(finding, f"{prefix}_reason", reason)
        finding.save()
        audit_chain.append(
            user,
            action,
            patient=finding.patient,
            object_type="finding",
            object_uuid=finding.uuid,
            ip=ip,
        )


def do_acknowledge_finding(
    finding: Finding, user: User, reason: str, ip: str | None = None
) -> None:
    """Open -> acknowledged, recording who, when and why."""
    _move(finding, FindingStatus.ACKNOWLEDGED, user, reason, ip)


def do_resolve_finding(finding: Finding, user: User, reason: str, ip: str | None = None) -> None:
    """Open or acknowledged -> resolved, recording who, when and why."""
    _move(finding, FindingStatus.RESOLVED, user, reason, ip)


def do_bulk_acknowledge(
    *, findings: Sequence[Finding], user: User, reason: str, ip: str | None = None
) -> int:
    """Acknowledge many findings at once: low severity only, by design."""
    if any(f.severity != "low" for f in findings):
        raise LifecycleError(
            gettext(
                "Only low-severity findings can be acknowledged together; "
                "review moderate and high ones one by one."
            )
        )
    with transaction.atomic():
        count = 0
        for finding in findings:
            if finding.status != FindingStatus.OPEN:
                continue
            do_acknowledge_finding(finding, user, reason, ip=ip)
            count += 1
    return count
