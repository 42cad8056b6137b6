"""The shape of a safety finding, shared by every rule and by the app that stores findings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """As FHIR DetectedIssue.severity."""

    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


SEVERITY_ORDER = {Severity.HIGH: 3, Severity.MODERATE: 2, Severity.LOW: 1}

#: The fields of a trigger that say when its event happened (a dose taken, a questionnaire
#: answered, a symptom reported).
EVENT_TIMES = ("taken_at", "reported_at")


def cause_times(triggers: Iterable[Mapping[str, Any]]) -> tuple[datetime | None, datetime | None]:
    """When a finding's cause began and when it last happened: the earliest and the latest
    time of the events among its triggers, or ``(None, None)`` when its cause has no time of
    its own (a medication on the list, a condition)."""
    times = []
    for trigger in triggers:
        for key in EVENT_TIMES:
            value = trigger.get(key)
            if isinstance(value, str):
                try:
                    when = datetime.fromisoformat(value)
                except ValueError:
                    continue
                if when.tzinfo is not None:
                    times.append(when)
    return (min(times), max(times)) if times else (None, None)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    category: str
    title: str
    rationale: str
    management: str
    patient_message: str | None
    references: tuple[str, ...]
    triggers: tuple[dict[str, Any], ...] = field(default=())
    key: str = ""
    """What distinguishes two findings with the same code (e.g. the week a limit was broken)."""
    evidence_level: str | None = None

    def fingerprint(self) -> str:
        """Stable identity used to deduplicate stored findings across re-screening."""
        raw = json.dumps([self.code, self.key], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def cause_times(self) -> tuple[datetime | None, datetime | None]:
        """When its cause began and last happened (see :func:`cause_times`)."""
        return cause_times(self.triggers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "category": self.category,
            "title": self.title,
            "rationale": self.rationale,
            "management": self.management,
            "patient_message": self.patient_message,
            "references": list(self.references),
            "triggers": [dict(t) for t in self.triggers],
            "evidence_level": self.evidence_level,
        }
