"""Import medications, conditions, results and questionnaire responses from a FHIR Bundle.

The bundle is validated with the ``fhir.resources`` R4B models first; an invalid bundle is
refused with every problem named (entry, resource type, field) and nothing is written.
Then each ``MedicationStatement`` and ``Condition`` is matched against the KratomWatch
vocabularies:

- medications by :func:`kratomwatch.domain.substances.recognize` on the medication's text
  and codings' display names (or a KratomWatch substance code);
- conditions by KratomWatch condition code, ICD-10 code or synonym
  (:meth:`kratomwatch.domain.safety.knowledge.Knowledge.match_condition`).

:func:`plan_import` is the dry run: what would be added, what is already present, what is
not recognized (with suggestions) and what is skipped (inactive, entered in error, kratom
products). QuestionnaireResponses to the KratomWatch questionnaires are checked and scored
by :mod:`kratomwatch.interop.fhir_questionnaires` (responses to other questionnaires are
reported, never stored). :func:`do_import_fhir` applies the same plan in one transaction
and writes audit events; the changed records schedule a re-screening of the patient when it
commits.

About 650 lines: validation, mapping of each FHIR resource type and the check that a
bundle is this patient's belong to one import, which is all or nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    EntrySource,
    LabResult,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    User,
)
from kratomwatch.domain.results import load_lab_tests
from kratomwatch.domain.safety import load_knowledge as load_conditions
from kratomwatch.domain.safety.condition_terms import IcdCondition
from kratomwatch.domain.safety.knowledge import ConditionEntry
from kratomwatch.domain.substances import InvalidQueryError, Match, recognize
from kratomwatch.domain.substances import load_knowledge as load_substances
from kratomwatch.domain.text import text_problem
from kratomwatch.interop.fhir_lots import import_fhir_lots

from . import codes as C
from .fhir_patient import PatientCheck, check_patient
from .fhir_questionnaires import plan_response, store_crisis_answer, store_response, stored_keys
from .fhir_results import existing_results, is_result, plan_result

Outcome = Literal["add", "present", "not_recognized", "skipped"]
Kind = Literal["medication", "condition", "result", "response"]
MAX_PROBLEMS = 20
_NOT_CURRENT_MEDICATION = {"completed", "stopped", "entered-in-error", "not-taken"}
_NOT_ACTIVE_CONDITION = {"inactive", "remission", "resolved"}
_NOT_TRUE_CONDITION = {"refuted", "entered-in-error"}
# Required bindings the R4B models do not check themselves.
BUNDLE_TYPES = (
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
)
MEDICATION_STATEMENT_STATUS = (
    "active",
    "completed",
    "entered-in-error",
    "intended",
    "stopped",
    "on-hold",
    "unknown",
    "not-taken",
)
CONDITION_CLINICAL_STATUS = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")


class BundleError(ValueError):
    """The file is not a valid FHIR Bundle; ``problems`` names each thing that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid FHIR bundle:\n" + "\n".join(f"  {p}" for p in self.problems))


class PatientMismatchError(BundleError):
    """The bundle's patient is not (or cannot be shown to be) the target patient."""

    def __init__(self, check: PatientCheck) -> None:
        self.check = check
        self.problems = [check.describe()]
        ValueError.__init__(
            self,
            f"{check.describe()} Nothing was imported: check --patient, or pass "
            "--override-patient-check to import into this patient anyway.",
        )


@dataclass(frozen=True)
class ImportItem:
    """What happens (or would happen) to one MedicationStatement or Condition of the bundle."""

    entry: int
    kind: Kind
    text: str
    outcome: Outcome
    matched: str = ""
    code: str = ""
    suggestions: tuple[str, ...] = ()
    reason: str = ""
    dose_text: str = ""
    started_on: date | None = None
    reactivate: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)  # a result's fields to store
    amends: bool = False  # a response: a changed version of one imported before
    crisis: tuple[str, ...] = ()  # a skipped response: the red flags saved from its answers

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "kind": self.kind,
            "text": self.text,
            "outcome": self.outcome,
            "matched": self.matched,
            "code": self.code,
            "suggestions": list(self.suggestions),
            "reason": self.reason,
            "amends": self.amends,
            "crisis_red_flags": list(self.crisis),
        }


@dataclass
class ImportReport:
    items: list[ImportItem]
    ignored: dict[str, int] = field(default_factory=dict)
    applied: bool = False
    patient_check: PatientCheck = field(default_factory=PatientCheck)
    lots_added: int = 0  # product lots (Medication resources) added back, see fhir_lots

    def by_outcome(self, outcome: Outcome) -> list[ImportItem]:
        return [i for i in self.items if i.outcome == outcome]

    def summary(self) -> dict[str, int]:
        return {o: len(self.by_outcome(o)) for o in ("add", "present", "not_recognized", "skipped")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
            "ignored_resources": dict(self.ignored),
            "patient_check": self.patient_check.to_dict(),
        }


# --------------------------------------------------------------------------- validation


def load_bundle_file(path: Path) -> Any:
    """Read a JSON file; :class:`BundleError` if it cannot be read or is not JSON."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BundleError([f"cannot read {path}: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise BundleError([f"{path} is not UTF-8 text: {exc.reason}"]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError([f"{path} is not valid JSON: {exc}"]) from exc


def _location(loc: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    """``entry[3].resource.status (MedicationStatement)`` for a pydantic error location."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    kind = ""
    if len(loc) >= 2 and loc[0] == "entry" and isinstance(loc[1], int):
        entries = data.get("entry") or []
        if loc[1] < len(entries) and isinstance(entries[loc[1]], dict):
            resource = entries[loc[1]].get("resource")
            if isinstance(resource, dict):
                kind = str(resource.get("resourceType", ""))
    text = text or "Bundle"
    return f"{text} ({kind})" if kind else text


def parse_bundle(data: Any) -> Mapping[str, Any]:
    """Check that ``data`` is a valid R4 Bundle; returns it. Raises :class:`BundleError`."""
    if not isinstance(data, dict):
        raise BundleError([f"expected a JSON object (a FHIR Bundle), got {type(data).__name__}"])
    if data.get("resourceType") != "Bundle":
        raise BundleError(
            [f"expected resourceType 'Bundle', got {data.get('resourceType', 'nothing')!r}"]
        )
    problems = []
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise BundleError(["entry: must be a list"])
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"entry[{index}]: must be an object")
            continue
        resource = entry.get("resource")
        if resource is None:
            continue
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            problems.append(f"entry[{index}].resource: has no resourceType")
            continue
        try:
            get_fhir_model_class(resource["resourceType"])
        except (KeyError, ValueError):
            problems.append(
                f"entry[{index}].resource: unknown resourceType {resource['resourceType']!r}"
            )
    if problems:
        raise BundleError(problems[:MAX_PROBLEMS])
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors()[:MAX_PROBLEMS]:
            problems.append(f"{_location(tuple(error['loc']), data)}: {error['msg']}")
        raise BundleError(problems) from None
    problems = _binding_problems(data) + _text_problems(data)
    if problems:
        raise BundleError(problems[:MAX_PROBLEMS])
    return data


def _text_problems(value: Any, where: str = "") -> list[str]:
    """Text anywhere in the bundle that could not be stored (the one rule for typed text,
    :func:`kratomwatch.domain.text.text_problem`), each named by its path."""
    if isinstance(value, str):
        problem = text_problem(value)
        return [f"{where or 'Bundle'}: {problem}"] if problem else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _text_problems(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _text_problems(item, f"{where}[{index}]")
    return found


def _binding_problems(data: Mapping[str, Any]) -> list[str]:
    """Codes outside the required value sets of the elements the import relies on."""

    def check(where: str, value: Any, allowed: tuple[str, ...]) -> None:
        if value is not None and value not in allowed:
            problems.append(f"{where}: {value!r} is not one of {', '.join(allowed)}")

    problems: list[str] = []
    check("type", data.get("type"), BUNDLE_TYPES)
    for index, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        where = f"entry[{index}].resource"
        if kind == "MedicationStatement":
            check(f"{where}.status ({kind})", resource.get("status"), MEDICATION_STATEMENT_STATUS)
        elif kind == "Condition":
            for coding in _codings(resource.get("clinicalStatus")):
                if coding.get("system") == C.CONDITION_CLINICAL:
                    check(
                        f"{where}.clinicalStatus ({kind})",
                        coding.get("code"),
                        CONDITION_CLINICAL_STATUS,
                    )
    return problems


# --------------------------------------------------------------------------- matching


def _date(value: Any) -> date | None:
    """The day of a FHIR date or dateTime; ``None`` for partial dates (a year, a month)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    return [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []


def _texts(concept: Any) -> list[str]:
    """The concept's text, then its codings' display names, without repeats."""
    found = []
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        found.append(concept["text"])
    found += [c["display"] for c in _codings(concept) if isinstance(c.get("display"), str)]
    return [t.strip() for t in dict.fromkeys(found) if t.strip()]


class _Index:
    """Find resources of the bundle by full URL, ``Type/id`` or contained ``#id``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.by_key: dict[str, Mapping[str, Any]] = {}
        for entry in data.get("entry") or []:
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            if entry.get("fullUrl"):
                self.by_key[str(entry["fullUrl"])] = resource
            if resource.get("id"):
                self.by_key[f"{resource['resourceType']}/{resource['id']}"] = resource

    def resolve(self, holder: Mapping[str, Any], reference: Any) -> Mapping[str, Any] | None:
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            return None
        target = reference["reference"]
        if target.startswith("#"):
            contained_list = holder.get("contained")
            for contained in contained_list if isinstance(contained_list, list) else []:
                if isinstance(contained, dict) and contained.get("id") == target[1:]:
                    return contained
            return None
        if target in self.by_key:
            return self.by_key[target]
        tail = "/".join(target.rsplit("/", 2)[-2:])  # absolute URL -> Type/id
        return self.by_key.get(tail)


def _medication_concept(
    index: _Index, resource: Mapping[str, Any]
) -> tuple[Mapping[str, Any] | None, str]:
    if isinstance(resource.get("medicationCodeableConcept"), dict):
        return resource["medicationCodeableConcept"], ""
    medication = index.resolve(resource, resource.get("medicationReference"))
    if medication is not None and isinstance(medication.get("code"), dict):
        return medication["code"], ""
    display = (resource.get("medicationReference") or {}).get("display")
    if isinstance(display, str) and display.strip():
        return {"text": display}, ""
    return None, "the medication it refers to is not in the bundle"


@dataclass(frozen=True)
class MedicationMatch:
    ids: tuple[str, ...]
    #: The substances' names as recognized ("Amoxicillin + Clavulanic acid").
    matched: str
    #: Near names, when nothing was recognized.
    suggestions: tuple[str, ...] = ()
    #: The name in the resource that was recognized (strength and form kept), if any.
    text: str = ""


def match_medication(concept: Any) -> MedicationMatch:
    """The substances a FHIR medication concept names.

    A coding in KratomWatch's substance system decides; otherwise the concept's text and its
    codings' display names are recognized in turn, as a medication-list entry is. ``ids`` is
    empty when nothing is recognized (``suggestions`` then lists near names). The one matcher
    for medications arriving in FHIR: the import and the CDS Hooks service use it."""
    substances = load_substances().substances
    for c in _codings(concept):
        if c.get("system") == C.CS_SUBSTANCE and c.get("code") in substances:
            name = substances[str(c["code"])].name
            return MedicationMatch((str(c["code"]),), name, text=name)
    suggestions: list[str] = []
    for text in _texts(concept):
        try:
            result = recognize(text)
        except InvalidQueryError:
            continue
        if isinstance(result, Match):
            matched = result.matched_name or " + ".join(s.name for s in result.substances)
            return MedicationMatch(result.ids, matched, text=text)
        suggestions += result.suggestions
    return MedicationMatch((), "", tuple(dict.fromkeys(suggestions)))


def medication_of(
    bundle: Mapping[str, Any], resource: Mapping[str, Any]
) -> tuple[Mapping[str, Any] | None, list[str]]:
    """A MedicationRequest's or MedicationStatement's medication concept (its code, or that of
    the Medication it refers to in ``bundle``) and its names, text first."""
    concept, _problem = _medication_concept(_Index(bundle), resource)
    return concept, _texts(concept)


def _plan_medication(
    index: _Index,
    entry: int,
    resource: Mapping[str, Any],
    present: set[frozenset[str]],
) -> ImportItem:
    concept, problem = _medication_concept(index, resource)
    texts = _texts(concept)
    shown = texts[0] if texts else "(no name)"
    status = resource.get("status", "")
    if status in _NOT_CURRENT_MEDICATION:
        return ImportItem(
            entry,
            "medication",
            shown,
            "skipped",
            reason=f"status {status}: not a current medication",
        )
    codings = _codings(concept)
    if any(c.get("system") == C.CS_KRATOM_PRODUCT for c in codings):
        return ImportItem(
            entry,
            "medication",
            shown,
            "skipped",
            reason="kratom product: products are recorded by the patient in KratomWatch",
        )
    match = match_medication(concept)
    ids, matched = match.ids, match.matched
    if not ids:
        return ImportItem(
            entry,
            "medication",
            shown,
            "not_recognized",
            suggestions=match.suggestions,
            reason=problem or ("no medication name in the resource" if not texts else ""),
        )
    key = frozenset(ids)
    outcome: Outcome = "present" if key in present else "add"
    present.add(key)
    dosage = resource.get("dosage") or []
    dose_text = dosage[0].get("text", "") if dosage and isinstance(dosage[0], dict) else ""
    started = _date((resource.get("effectivePeriod") or {}).get("start")) or _date(
        resource.get("effectiveDateTime")
    )
    return ImportItem(
        entry,
        "medication",
        shown,
        outcome,
        matched=matched,
        code=",".join(ids),
        dose_text=str(dose_text or "")[:200],
        started_on=started,
    )


def _condition_candidates(concept: Any) -> list[str]:
    found = []
    for c in _codings(concept):
        system, code = c.get("system"), c.get("code")
        if isinstance(code, str) and (system == C.CS_CONDITION or C.is_icd10(system)):
            found.append(code)
    return found + _texts(concept)


def _plan_condition(
    entry: int,
    resource: Mapping[str, Any],
    existing: dict[str, bool],
    seen: set[str],
) -> ImportItem:
    concept = resource.get("code")
    texts = _texts(concept)
    candidates = _condition_candidates(concept)
    shown = texts[0] if texts else (candidates[0] if candidates else "(no code)")
    clinical = {str(c.get("code")) for c in _codings(resource.get("clinicalStatus"))}
    verification = {str(c.get("code")) for c in _codings(resource.get("verificationStatus"))}
    if clinical & _NOT_ACTIVE_CONDITION:
        status = ", ".join(sorted(clinical & _NOT_ACTIVE_CONDITION))
        return ImportItem(entry, "condition", shown, "skipped", reason=f"clinical status {status}")
    if verification & _NOT_TRUE_CONDITION:
        status = ", ".join(sorted(verification & _NOT_TRUE_CONDITION))
        return ImportItem(
            entry, "condition", shown, "skipped", reason=f"verification status {status}"
        )
    knowledge = load_conditions()
    suggestions: list[str] = []
    match: ConditionEntry | None = None
    without_concern: IcdCondition | None = None
    for candidate in candidates:
        result = knowledge.match_condition(candidate)
        if isinstance(result, ConditionEntry):
            match = result
            break
        if isinstance(result, IcdCondition):
            without_concern = without_concern or result
        else:
            suggestions += result
    if match is None and without_concern is not None:
        return ImportItem(
            entry,
            "condition",
            shown,
            "skipped",
            matched=without_concern.title,
            code=without_concern.code,
            reason="ICD-10-CM condition with no kratom-specific concern: "
            "KratomWatch keeps no record of it",
        )
    if match is None:
        return ImportItem(
            entry,
            "condition",
            shown,
            "not_recognized",
            suggestions=tuple(dict.fromkeys(suggestions)),
            reason="" if candidates else "no code or name in the resource",
        )
    if match.code in seen or existing.get(match.code):
        outcome: Outcome = "present"
    else:
        outcome = "add"
    seen.add(match.code)
    return ImportItem(
        entry,
        "condition",
        shown,
        outcome,
        matched=match.label,
        code=match.code,
        reactivate=outcome == "add" and match.code in existing,
    )


#: Resource types imported into the patient's record (with result Observations).
_PATIENT_RECORDS = ("MedicationStatement", "Condition", "QuestionnaireResponse")


def _subjects(data: Mapping[str, Any]) -> set[str]:
    found = set()
    for entry in data.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") in _PATIENT_RECORDS or (
            resource.get("resourceType") == "Observation" and is_result(resource)
        ):
            reference = (resource.get("subject") or {}).get("reference")
            if isinstance(reference, str):
                found.add(reference)
    return found


def _current_ingredients(patient: PatientProfile, today: date) -> set[frozenset[str]]:
    found = set()
    for med in patient.medications.all():
        if med.stopped_on is not None and med.stopped_on < today:
            continue
        ids = [i for i in med.ingredient.split(",") if i]
        if not ids:
            try:
                result = recognize(med.name_entered)
            except InvalidQueryError:
                continue
            ids = list(result.ids) if isinstance(result, Match) else []
        if ids:
            found.add(frozenset(ids))
    return found


def _patient_check(
    patient: PatientProfile, data: Mapping[str, Any], index: _Index, override: bool
) -> PatientCheck:
    """Who the bundle's medications and conditions belong to, compared with ``patient``."""
    subjects: list[Mapping[str, Any]] = []
    missing: list[str] = []
    patients: list[Mapping[str, Any]] = []
    for entry in data.get("entry") or []:
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        if kind == "Patient":
            patients.append(resource)
        if kind not in _PATIENT_RECORDS and not (kind == "Observation" and is_result(resource)):
            continue
        subject = resource.get("subject") or {}
        target = index.resolve(resource, subject)
        if target is not None and target.get("resourceType") == "Patient":
            subjects.append(target)
        elif isinstance(subject.get("identifier"), dict):
            subjects.append({"identifier": [subject["identifier"]]})
        elif isinstance(subject.get("reference"), str):
            missing.append(subject["reference"])
    unique = list({json.dumps(s, sort_keys=True, default=str): s for s in subjects}.values())
    check = check_patient(patient, unique, dict.fromkeys(missing), patients)
    if check.ok or not override:
        return check
    return PatientCheck(check.matched, check.differences, check.unverified, overridden=True)


def _plan(
    patient: PatientProfile, data: Mapping[str, Any], today: date, override: bool = False
) -> ImportReport:
    subjects = _subjects(data)
    if len(subjects) > 1:
        raise BundleError(
            [
                f"the bundle holds medications or conditions of {len(subjects)} different "
                f"subjects ({', '.join(sorted(subjects))}): import one patient's bundle at a time"
            ]
        )
    index = _Index(data)
    check = _patient_check(patient, data, index, override)
    present = _current_ingredients(patient, today)
    existing = dict(patient.conditions.values_list("code", "active"))
    seen: set[str] = set()
    results: set[tuple[str, str, str]] | None = None
    responses: dict[str, str] | None = None
    meta = data.get("meta")
    bundle_source = str(meta.get("source") or "") if isinstance(meta, dict) else ""
    items: list[ImportItem] = []
    ignored: dict[str, int] = {}
    for number, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        kind = resource["resourceType"]
        if kind == "MedicationStatement":
            items.append(_plan_medication(index, number, resource, present))
        elif kind == "Condition":
            items.append(_plan_condition(number, resource, existing, seen))
        elif kind == "Observation" and is_result(resource):
            if results is None:
                results = existing_results(patient)
            outcome, reason, values = plan_result(resource, index.resolve, results)
            text = str((resource.get("code") or {}).get("text") or values.get("analyte", ""))
            items.append(ImportItem(number, "result", text, outcome, reason=reason, values=values))  # type: ignore[arg-type]
        elif kind == "QuestionnaireResponse":
            if responses is None:
                responses = stored_keys(patient)
            outcome, text, matched, reason, values = plan_response(
                resource, index.resolve, responses, bundle_source
            )
            items.append(
                ImportItem(
                    number,
                    "response",
                    text,
                    outcome,  # type: ignore[arg-type]
                    matched=matched,
                    code=str(values.get("instrument_id", "")),
                    reason=reason,
                    values=values,
                    amends=bool(values.get("amends")),
                    crisis=tuple(values.get("crisis") or ()) if outcome == "skipped" else (),
                )
            )
        elif kind != "Patient":  # the Patient is used by the identity check
            ignored[kind] = ignored.get(kind, 0) + 1
    return ImportReport(items, ignored, patient_check=check)


def plan_import(
    patient: PatientProfile,
    data: Any,
    *,
    today: date | None = None,
    override_patient_check: bool = False,
) -> ImportReport:
    """The dry run: what importing ``data`` into ``patient`` would do. Writes nothing.

    ``report.patient_check`` says whether the bundle's patient is ``patient``; when it is
    not, :func:`do_import_fhir` refuses unless ``override_patient_check`` is given."""
    bundle = parse_bundle(data)
    return _plan(patient, bundle, today or timezone.localdate(), override_patient_check)


def do_import_fhir(
    patient: PatientProfile,
    data: Any,
    *,
    actor: User | None = None,
    ip: str | None = None,
    today: date | None = None,
    override_patient_check: bool = False,
) -> ImportReport:
    """Validate, plan and add the recognised new medications and conditions, in one
    transaction. Raises :class:`BundleError` (nothing written) for an invalid bundle, and
    :class:`PatientMismatchError` when the bundle's patient is not shown to be ``patient``
    unless ``override_patient_check`` is given (the override is audited)."""
    bundle = parse_bundle(data)
    with transaction.atomic():
        patient = PatientProfile.objects.select_for_update().get(pk=patient.pk)
        report = _plan(patient, bundle, today or timezone.localdate(), override_patient_check)
        if not report.patient_check.ok and not report.patient_check.overridden:
            raise PatientMismatchError(report.patient_check)
        if report.patient_check.overridden:
            audit_chain.append(
                actor, "fhir.import.patient_check_overridden", patient=patient, ip=ip
            )
        for item in report.items:
            if item.kind == "response" and item.outcome == "skipped":
                store_crisis_answer(patient, item.values, actor, ip)
        for item in report.by_outcome("add"):
            if item.kind == "response":
                store_response(patient, item.values, actor, ip)
            elif item.kind == "result":
                row = LabResult.objects.create(
                    patient=patient,
                    batch=uuid.uuid5(uuid.NAMESPACE_URL, f"fhir-import:{bundle.get('id')}"),
                    source=EntrySource.IMPORT,
                    entered_by=actor,
                    unit=_unit_of(item.values),
                    **item.values,
                )
                audit_chain.append(
                    actor,
                    "result.import",
                    patient=patient,
                    object_type="result",
                    object_uuid=row.uuid,
                    ip=ip,
                )
            elif item.kind == "medication":
                med = MedicationStatement.objects.create(
                    patient=patient,
                    name_entered=item.text[:200],
                    ingredient=item.code[:100],
                    dose_text=item.dose_text,
                    started_on=item.started_on,
                )
                audit_chain.append(
                    actor,
                    "medication.import",
                    patient=patient,
                    object_type="medication",
                    object_uuid=med.uuid,
                    ip=ip,
                )
            else:
                condition, _ = PatientCondition.objects.update_or_create(
                    patient=patient,
                    code=item.code,
                    defaults={"active": True},
                    create_defaults={
                        "active": True,
                        "note": f"Imported from FHIR: {item.text}"[:300],
                    },
                )
                audit_chain.append(
                    actor,
                    "condition.import",
                    patient=patient,
                    object_type="condition",
                    object_uuid=condition.uuid,
                    ip=ip,
                )
        report.lots_added = import_fhir_lots(patient, bundle, actor=actor, ip=ip)
        bundle_id = bundle.get("id")
        try:
            bundle_uuid = uuid.UUID(str(bundle_id)) if bundle_id else None
        except ValueError:
            bundle_uuid = None
        audit_chain.append(
            actor,
            "fhir.import",
            patient=patient,
            object_type="bundle",
            object_uuid=bundle_uuid,
            ip=ip,
        )
    report.applied = True
    return report


def _unit_of(values: Mapping[str, Any]) -> str:
    analyte = load_lab_tests().analytes.get(values.get("analyte", ""))
    return analyte.unit if analyte is not None and "value" in values else ""
