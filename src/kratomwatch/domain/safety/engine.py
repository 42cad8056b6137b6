"""The safety engine: a patient snapshot in, findings out. Pure and deterministic.

Every rule of the knowledge base is evaluated by the function for its trigger kind. A rule
that fires becomes a finding whose rationale names the data that triggered it and whose
``triggers`` are those input items exactly as given; a rule marked ``shown_as: note``
(nothing to act on now) becomes a note instead, shown beside what it concerns. Names the
engine cannot recognize are returned as "not recognized — not screened" with suggestions,
and also as a finding, so that nobody mistakes an unscreened medication for a safe one. If
a rule cannot be evaluated, the result says so in a finding of its own rather than failing
silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ..findings import Finding, Severity
from ..plan_check import PLAN_CITATION, PLAN_REFERENCE, DoseEvent, check_plan
from ..substances import InvalidQueryError, Match, recognize
from .condition_terms import IcdCondition
from .knowledge import Knowledge, KnowledgeError, Rule, load_knowledge
from .series import Daily
from .snapshot import Snapshot
from .trigger_context import SYMPTOM_DAYS, Context
from .triggers import TRIGGERS


@dataclass(frozen=True)
class NotRecognized:
    text: str
    suggestions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "status": "not recognized — not screened",
            "suggestions": list(self.suggestions),
        }


@dataclass(frozen=True)
class LocalUse:
    """A medicine used where it acts (a cream, eye drops) whose systemic exposure its
    official source calls negligible: recognized, and not screened for interactions."""

    entry: str
    substance: str
    route: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {
            "entry": self.entry,
            "substance": self.substance,
            "route": self.route,
            "source": self.source,
        }


@dataclass(frozen=True)
class WithoutConcern:
    """A condition recognized in ICD-10-CM that none of the engine's condition classes
    covers: it was read, and it raises no finding."""

    text: str
    icd10: str
    title: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "status": "recognized — no kratom-specific concern",
            "icd10": self.icd10,
            "title": self.title,
        }


@dataclass(frozen=True)
class ScreeningResult:
    findings: tuple[Finding, ...]
    not_recognized: dict[str, tuple[NotRecognized, ...]]
    knowledge_version: str
    references: dict[str, dict[str, str | None]] = field(default_factory=dict)
    without_concern: dict[str, tuple[WithoutConcern, ...]] = field(default_factory=dict)
    applied_locally: tuple[LocalUse, ...] = ()
    #: The day the knowledge base used was released (None when it could not be loaded).
    knowledge_released: date | None = None
    #: Rules shown as notes: information beside the medication or product it concerns, with
    #: nothing for the clinician to act on now; never findings.
    notes: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        findings = []
        for finding in self.findings:
            data = finding.to_dict()
            data["references"] = [self.references.get(r, {"id": r}) for r in finding.references]
            findings.append(data)
        notes = []
        for note in self.notes:
            data = note.to_dict()
            del data["severity"]
            data["references"] = [self.references.get(r, {"id": r}) for r in note.references]
            notes.append(data)
        return {
            "findings": findings,
            "notes": notes,
            "not_recognized": {k: [n.to_dict() for n in v] for k, v in self.not_recognized.items()},
            "recognized_without_concern": {
                k: [n.to_dict() for n in v] for k, v in self.without_concern.items()
            },
            "knowledge_version": self.knowledge_version,
            "knowledge_released": (
                self.knowledge_released.isoformat() if self.knowledge_released else None
            ),
            "applied_locally": [u.to_dict() for u in self.applied_locally],
        }


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MODERATE: 1, Severity.LOW: 2}
PLAN_WINDOW = timedelta(days=28)


def screen(snapshot: Snapshot, knowledge: Knowledge | None = None) -> ScreeningResult:
    """Screen one patient. Never raises for clinical content; a broken knowledge base gives a
    single "screening could not run" finding."""
    try:
        kb = knowledge or load_knowledge()
    except (KnowledgeError, OSError) as exc:
        # The plan's limits need no knowledge base: check them even so.
        plan = (
            []
            if snapshot.plan is None
            else check_plan(snapshot.plan, _plan_events(snapshot), snapshot.tz)
        )
        return ScreeningResult(
            (cannot_run(f"the knowledge base could not be loaded: {exc}"), *plan), {}, "unavailable"
        )
    context, unknown, without_concern, local = _resolve(snapshot, kb)
    findings: list[Finding] = []
    notes: list[Finding] = []
    failed: list[tuple[Rule, str]] = []
    for rule in kb.rules:
        try:
            hit = TRIGGERS[rule.kind](rule.trigger, context)
        except Exception as exc:  # noqa: BLE001 - reported as a finding below
            failed.append((rule, f"{type(exc).__name__}: {exc}"))
            continue
        if hit is not None:
            shown = notes if rule.shown_as == "note" else findings
            shown.append(_finding(rule, hit.because, hit.triggers, hit.key))
    if snapshot.plan is not None:
        findings.extend(check_plan(snapshot.plan, _plan_events(snapshot), snapshot.tz))
    if any(unknown.values()):
        findings.append(_unrecognized(unknown))
    if failed:
        findings.append(_incomplete(failed))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.category, f.code, f.key))
    notes.sort(key=lambda f: (f.category, f.code, f.key))
    used = {r for f in (*findings, *notes) for r in f.references}
    refs = {r: kb.references[r].to_dict() for r in used if r in kb.references}
    if PLAN_REFERENCE in used:
        refs[PLAN_REFERENCE] = dict(PLAN_CITATION)
    return ScreeningResult(
        tuple(findings),
        unknown,
        kb.version,
        refs,
        without_concern={"conditions": without_concern},
        applied_locally=tuple(local),
        knowledge_released=kb.released,
        notes=tuple(notes),
    )


def _plan_events(snapshot: Snapshot) -> list[DoseEvent]:
    """Doses of the last four weeks: older deviations stay stored but are no longer current."""
    since = snapshot.as_of - PLAN_WINDOW
    return [
        DoseEvent(f"{d.product}@{d.taken_at.isoformat()}", d.taken_at, d.exposure.leaf_equivalent_g)
        for d in snapshot.doses
        if d.taken_at >= since
    ]


def _resolve(
    snapshot: Snapshot, kb: Knowledge
) -> tuple[
    Context,
    dict[str, tuple[NotRecognized, ...]],
    tuple[WithoutConcern, ...],
    list[LocalUse],
]:
    meds, unknown_meds = [], []
    local: list[LocalUse] = []
    for med in snapshot.medications:
        try:
            match = recognize(med.name)
        except InvalidQueryError:
            unknown_meds.append(NotRecognized(med.name, ()))
            continue
        if isinstance(match, Match):
            route = match.route
            systemic = tuple(s for s in match.substances if not s.acts_locally(route))
            if route is not None:
                local.extend(
                    LocalUse(med.name, s.name, route, s.local_routes[route].url)
                    for s in match.substances
                    if s.acts_locally(route)
                )
            if systemic:
                meds.append((med.name, med.dose, systemic))
        else:
            unknown_meds.append(NotRecognized(med.name, tuple(match.suggestions)))
    conditions, unknown_conditions, without_concern = [], [], []
    for text in snapshot.conditions:
        entry = kb.match_condition(text)
        if isinstance(entry, list):
            unknown_conditions.append(NotRecognized(text, tuple(entry)))
        elif isinstance(entry, IcdCondition):
            without_concern.append(WithoutConcern(text, entry.code, entry.title))
        else:
            conditions.append((text, entry.code))
    symptoms: list[tuple[str, str, datetime | None]] = []
    unknown_symptoms: list[NotRecognized] = []
    for report in snapshot.symptoms:
        if report.reported_at is not None and (
            (snapshot.as_of - report.reported_at).days >= SYMPTOM_DAYS
        ):
            continue
        # Every symptom the text names is screened (a red flag is never dropped because
        # the text also names something else); a text not wholly placed is also reported
        # as not recognized, so that somebody reads it.
        found = kb.match_symptom(report.text)
        symptoms.extend((report.text, sid, report.reported_at) for sid in found.symptoms)
        if not found.complete:
            unknown_symptoms.append(NotRecognized(report.text, found.suggestions))
    context = Context(
        snapshot, kb, tuple(meds), tuple(conditions), tuple(symptoms), Daily.of(snapshot)
    )
    unknown = {
        "medications": tuple(unknown_meds),
        "conditions": tuple(unknown_conditions),
        "symptoms": tuple(unknown_symptoms),
    }
    return context, unknown, tuple(without_concern), local


def _finding(rule: Rule, because: str, triggers: tuple[dict[str, Any], ...], key: str) -> Finding:
    evidence = rule.evidence_level.replace("_", " ")
    return Finding(
        code=rule.id,
        severity=Severity(rule.severity),
        category=rule.category,
        title=rule.title,
        rationale=f"{because} {rule.mechanism} {rule.consequence} (Evidence: {evidence}.)",
        management=rule.management,
        patient_message=rule.patient_message,
        references=rule.references,
        triggers=triggers,
        key=key,
        evidence_level=rule.evidence_level,
    )


def _unrecognized(unknown: dict[str, tuple[NotRecognized, ...]]) -> Finding:
    parts = []
    triggers: list[dict[str, Any]] = []
    names: list[str] = []
    for kind, items in unknown.items():
        for item in items:
            names.append(item.text.lower())
            hint = f" (did you mean {', '.join(item.suggestions)}?)" if item.suggestions else ""
            parts.append(f"{kind[:-1]} “{item.text}”{hint}")
            triggers.append(
                {"type": kind[:-1], "text": item.text, "suggestions": list(item.suggestions)}
            )
    return Finding(
        code="screening.not_recognized",
        severity=Severity.MODERATE,
        category="screening",
        title="Some entries were not recognized and were not screened",
        rationale="Not recognized, so not screened for interactions or risks: "
        + "; ".join(parts)
        + ".",
        management="Check the spelling or enter the generic name, so that it can be screened. "
        "Absence of a finding for these entries does not mean they are safe with kratom.",
        patient_message=None,
        references=(),
        triggers=tuple(triggers),
        key=",".join(sorted(names)),
    )


def _incomplete(failed: list[tuple[Rule, str]]) -> Finding:
    """The rules are named by their titles; their ids and the errors go in the triggers."""
    return Finding(
        code="screening.incomplete",
        severity=Severity.HIGH,
        category="screening",
        title="Safety screening did not complete",
        rationale="These rules could not be evaluated: "
        + "; ".join(f"“{rule.title}”" for rule, _ in failed)
        + ".",
        management="Screening results are incomplete: review the patient's record manually and "
        "report this error to the system administrator.",
        patient_message=None,
        references=(),
        triggers=tuple({"type": "rule", "id": rule.id, "error": error} for rule, error in failed),
        key="incomplete",
    )


def cannot_run(reason: str) -> Finding:
    """The finding that says no automatic screening is in effect, and why."""
    return Finding(
        code="screening.failed",
        severity=Severity.HIGH,
        category="screening",
        title="Safety screening could not run",
        rationale=f"Safety screening could not run: {reason}",
        management="No automatic screening is in effect for this patient: review their record "
        "manually and report this error to the system administrator.",
        patient_message=None,
        references=(),
        triggers=(),
        key="failed",
    )
