"""What comes first for a clinician: red flags reported since they last looked.

"Since the clinician last looked" means, concretely: a red-flag finding is **new** for a
clinician while it is open (nobody has acknowledged or resolved it) and its cause last happened
(the latest report of the symptom, or the answer, that triggers it) after that clinician last
opened the patient's record (their latest ``patient.view`` in the audit trail), or they have
never opened it. Opening the record, or acknowledging the finding, makes it no longer new;
a new report of the symptom afterwards makes it new again.

Only views that show the findings count as looking: the patient page and its Findings section
(audit object type ``patient``). Other sections, other pages about the patient and API reads
are audited too, under other object types, and do not count.

A report kept on a phone with no connection reaches the server after the moment it was made:
a finding is also new when it reached the record after the clinician last looked, that is
when it was first found, or (while its cause is present) last re-opened or rewritten with a
new report of its cause (:func:`arrived_at`).

Times of a finding are those of its cause (:attr:`.models.Finding.caused_at`), not of the
screening that stored it: "waiting 3 hours" counts from the report, not from the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, F, Max, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.models import AuditEvent, Finding, FindingStatus, User

RED_FLAG = "red_flag"
LOOKED = "patient.view"
#: The audit object type of a view that shows the patient's findings to the clinician.
SHOWN = "patient"
#: The audit object type of a section of the patient page that does not show them.
SECTION = "patient_section"
SEVERITY_LEVEL = {"high": 0, "moderate": 1, "low": 2}


def last_looked(user: User | None, patient_ids: Iterable[int]) -> dict[int, datetime]:
    """When ``user`` last opened each of these patients' records (one query)."""
    if user is None:
        return {}
    return dict(
        AuditEvent.objects.filter(
            actor=user, action=LOOKED, object_type=SHOWN, patient_id__in=list(patient_ids)
        )
        .values("patient_id")
        .annotate(at=Max("at"))
        .values_list("patient_id", "at")
    )


def arrived_at(finding: Finding) -> datetime:
    """The latest of: when its cause last happened, when the finding was first found and,
    while its cause is present, when it was last re-opened or rewritten (a new report of its
    cause, even one made earlier on a phone with no connection). A finding that merely went
    inactive does not count as news."""
    moments = [finding.last_caused_at, finding.first_seen]
    if finding.active and finding.modified is not None:
        moments.append(finding.modified)
    return max(moments)


def arrived_expression() -> Greatest:
    """:func:`arrived_at` as a database expression, for aggregates."""
    return Greatest(
        Coalesce("cause_last_at", "cause_first_at", "first_seen"),
        F("first_seen"),
        Case(When(active=True, then=F("modified")), default=F("first_seen")),
    )


def since_looked(status: str, arrived: datetime, looked: datetime | None) -> bool:
    """Whether an open finding's news (:func:`arrived_at`) came after the clinician last looked
    (or they never did): the one notion of "new since the clinician last looked"."""
    return status == FindingStatus.OPEN and (looked is None or arrived > looked)


def is_new(category: str, status: str, arrived: datetime, looked: datetime | None) -> bool:
    """Whether a finding is a red flag the clinician has not seen since it arrived."""
    return category == RED_FLAG and since_looked(status, arrived, looked)


def finding_is_new(finding: Finding, looked: Mapping[int, datetime]) -> bool:
    return is_new(
        finding.category, finding.status, arrived_at(finding), looked.get(finding.patient_id)
    )


def urgency(finding: Finding, looked: Mapping[int, datetime]) -> tuple[int, int, float]:
    """Sort key: the most severe first; among equals new red flags, then the longest waiting."""
    return (
        SEVERITY_LEVEL.get(finding.severity, 3),
        0 if finding_is_new(finding, looked) else 1,
        finding.caused_at.timestamp(),
    )


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():  # an abbreviation: "PHQ-9 …"
        return text
    return text[:1].lower() + text[1:]


def what(finding: Finding) -> str:
    """The cause in words: the symptoms reported, else the finding's title."""
    labels = [
        data_text(str(t["label"]))
        for t in finding.triggers or []
        if isinstance(t, dict) and t.get("type") == "symptom" and t.get("label")
    ]
    return ", ".join(dict.fromkeys(_lower_first(label) for label in labels)) or data_text(
        finding.title
    )


def when(moment: datetime, now: datetime | None = None) -> str:
    """A moment in words, in local time: "today 06:12", "yesterday 21:40", "3 Dec 06:12"."""
    local = timezone.localtime(moment)
    today = timezone.localtime(now or timezone.now()).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return gettext("today %(clock)s") % {"clock": clock}
    if local.date() == today - timedelta(days=1):
        return gettext("yesterday %(clock)s") % {"clock": clock}
    day = date_format(local, "j M" if local.year == today.year else "j M Y")
    return f"{day} {clock}"


def reason(finding: Finding, now: datetime | None = None) -> str:
    """What happened and when, for a panel row: "difficulty breathing, today 06:12"."""
    return f"{what(finding)}, {when(finding.last_caused_at, now)}"


def annotate(findings: Iterable[Finding], looked: Mapping[int, datetime]) -> list[Any]:
    """Set ``is_new`` and ``happened`` (its cause's last time in words) on each finding, for
    templates, and return them, most urgent first."""
    ranked = sorted(findings, key=lambda f: urgency(f, looked))
    now = timezone.now()
    for finding in ranked:
        finding.is_new = finding_is_new(finding, looked)  # type: ignore[attr-defined]
        finding.happened = when(finding.last_caused_at, now)  # type: ignore[attr-defined]
    return ranked


def by_patient(findings: Iterable[Finding]) -> list[tuple[Any, list[Finding]]]:
    """Findings already in order, grouped per patient: each patient where their first (most
    urgent) finding stands."""
    groups: dict[int, tuple[Any, list[Finding]]] = {}
    for finding in findings:
        groups.setdefault(finding.patient_id, (finding.patient, []))[1].append(finding)
    return list(groups.values())
