"""Stored findings keep their lifecycle across re-screening."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kratomwatch.clinic.actions.screening import do_sync_findings
from kratomwatch.clinic.models import Finding, FindingStatus
from kratomwatch.domain.findings import Finding as DomainFinding
from kratomwatch.domain.findings import Severity
from kratomwatch.domain.safety import ScreeningResult

from .conftest import Triangle

CODE = "plan.daily_total_exceeded"


def result(*findings: DomainFinding) -> ScreeningResult:
    return ScreeningResult(findings, {}, "test")


def found(key: str = "2026-11-01") -> DomainFinding:
    return DomainFinding(
        code="plan.daily_total_exceeded",
        severity=Severity.MODERATE,
        category="plan",
        title="Daily total above the plan's limit",
        rationale="12 g > 10 g",
        management="Review",
        patient_message=None,
        references=("clinician-plan",),
        key=key,
    )


def test_it_deduplicates_by_fingerprint(tri: Triangle) -> None:
    now = timezone.now()
    do_sync_findings(tri.patient, result(found()), now)
    do_sync_findings(tri.patient, result(found()), now + timedelta(minutes=5))
    row = Finding.objects.get(code=CODE)
    assert row.first_seen == now and row.last_seen == now + timedelta(minutes=5)


def test_a_finding_whose_cause_is_gone_stays_but_is_inactive(tri: Triangle) -> None:
    now = timezone.now()
    do_sync_findings(tri.patient, result(found()), now)
    do_sync_findings(tri.patient, result(), now)
    row = Finding.objects.get(code=CODE)
    assert row.status == FindingStatus.OPEN and row.active is False


def test_a_resolved_finding_stays_resolved_while_its_cause_persists(tri: Triangle) -> None:
    now = timezone.now()
    do_sync_findings(tri.patient, result(found()), now)
    Finding.objects.filter(code=CODE).update(
        status=FindingStatus.RESOLVED, resolved_reason="discussed"
    )
    do_sync_findings(tri.patient, result(found()), now)
    assert Finding.objects.get(code=CODE).status == FindingStatus.RESOLVED


def test_a_resolved_finding_reopens_when_its_cause_returns(tri: Triangle) -> None:
    now = timezone.now()
    do_sync_findings(tri.patient, result(found()), now)
    Finding.objects.filter(code=CODE).update(
        status=FindingStatus.RESOLVED,
        resolved_by=tri.clinician,
        resolved_at=now,
        resolved_reason="discussed",
    )
    do_sync_findings(tri.patient, result(), now)
    assert Finding.objects.get(code=CODE).status == FindingStatus.RESOLVED
    do_sync_findings(tri.patient, result(found()), now)
    row = Finding.objects.get(code=CODE)
    assert row.status == FindingStatus.OPEN and row.active
    assert row.resolved_reason == "discussed"  # history kept


def test_different_days_are_different_findings(tri: Triangle) -> None:
    now = timezone.now()
    do_sync_findings(tri.patient, result(found("2026-11-01"), found("2026-11-02")), now)
    assert Finding.objects.filter(code=CODE).count() == 2
