"""QuestionnaireResponses brought in from a FHIR Bundle (the Questionnaires themselves are
built by :mod:`kratomwatch.interop.fhir_instruments`).

:func:`plan_response` reads one QuestionnaireResponse of an imported Bundle: its
``questionnaire`` must be one of ours (``url|version``, or the ``url`` alone, meaning the
version in use, whose items the answers must then match); its answers are checked by the
instrument (``valueCoding`` of our answer code system or ``valueInteger``) and scored as a
web answer would be. :func:`store_response` records it with
:func:`kratomwatch.clinic.actions.checkins.do_submit_questionnaire`, the one way a response
is recorded, so scoring, screening and a crisis answer's finding are those of a web answer.
The import key is derived from the response's identifier (or its id), so importing the same
file again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kratomwatch.clinic.actions.checkins import do_report_red_flags, do_submit_questionnaire
from kratomwatch.clinic.models import EntrySource, PatientProfile, User
from kratomwatch.domain.questionnaires import (
    Instrument,
    ScoringError,
    load_instruments,
    score,
    urgent_symptoms,
    validate_answers,
)

from . import codes as C
from .fhir_instruments import find_instrument

Resource = dict[str, Any]
#: Statuses of a response whose answers are final; others are skipped with their status.
IMPORTED_STATUS = ("completed", "amended")
KEY_PREFIX = "fhir:"


def _flat_items(items: Any) -> list[Mapping[str, Any]]:
    """Answered items of a response, with groups (nested items) opened up."""
    found: list[Mapping[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("answer"):
            found.append(item)
        found += _flat_items(item.get("item"))
        for answer in item.get("answer") or []:
            if isinstance(answer, dict):
                found += _flat_items(answer.get("item"))
    return found


def _answer_value(answer: Mapping[str, Any]) -> tuple[int | None, str]:
    """The integer an answer gives, or ``None`` and why it cannot be read."""
    if "valueInteger" in answer:
        return int(answer["valueInteger"]), ""
    coding = answer.get("valueCoding")
    if isinstance(coding, dict):
        if coding.get("system") != C.CS_ANSWER:
            return None, f"a coding of {coding.get('system') or 'no system'}, not of {C.CS_ANSWER}"
        code = str(coding.get("code") or "")
        if code.lstrip("-").isdigit():
            return int(code), ""
        return None, f"answer code {code!r} is not a number"
    kinds = [k for k in answer if k.startswith("value")]
    return None, f"{kinds[0] if kinds else 'no value'} is not an answer it can read"


def _answers(
    instrument: Instrument, resource: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """item id -> value as given, and the problems of items that cannot be read."""
    given: dict[str, Any] = {}
    problems: list[str] = []
    for item in _flat_items(resource.get("item")):
        link = str(item.get("linkId") or "")
        answers = [a for a in item.get("answer") or [] if isinstance(a, dict)]
        if link not in instrument.item_ids:
            problems.append(f"{link or '(no linkId)'}: not an item of {instrument.id}")
        elif link in given:
            problems.append(f"{link}: answered twice")
        elif len(answers) != 1:
            problems.append(f"{link}: {len(answers)} answers, expected one")
        else:
            value, problem = _answer_value(answers[0])
            if problem:
                problems.append(f"{link}: {problem}")
            else:
                given[link] = value
    return given, problems


def _authored(value: Any) -> datetime | None:
    """An aware datetime for a FHIR ``authored``; ``None`` for a date without a time."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def import_key(resource: Mapping[str, Any]) -> str:
    """The response's idempotency key: from its identifier, else its id, else its content."""
    identifier = resource.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        basis = f"identifier:{identifier.get('system', '')}|{identifier['value']}"
    elif resource.get("id"):
        basis = f"id:{resource['id']}"
    else:
        basis = "content:" + json.dumps(resource, sort_keys=True, separators=(",", ":"))
    return KEY_PREFIX + hashlib.sha256(basis.encode()).hexdigest()[:40]


def _answered_by_patient(
    resource: Mapping[str, Any], resolve: Callable[[Mapping[str, Any], Any], Any]
) -> bool:
    author = resource.get("author")
    if not isinstance(author, dict):
        return True
    target = resolve(resource, author)
    if isinstance(target, dict):
        return target.get("resourceType") == "Patient"
    return str(author.get("reference") or "").startswith("Patient/")


def plan_response(
    resource: Mapping[str, Any],
    resolve: Callable[[Mapping[str, Any], Any], Any],
    stored: set[str],
) -> tuple[str, str, str, str, dict[str, Any]]:
    """What importing one QuestionnaireResponse does: (outcome, text, matched, reason,
    values). ``stored`` holds the keys and ids of the patient's responses (and of those
    planned before this one); ``values`` carries what :func:`store_response` needs."""
    canonical = resource.get("questionnaire")
    instrument, reason = find_instrument(canonical)
    text = str(canonical or "(no questionnaire)")
    if instrument is None:
        return "not_recognized", text, "", reason, {}
    text = instrument.short_title or instrument.title
    matched = f"{instrument.title} {instrument.version}"
    key = import_key(resource)
    values: dict[str, Any] = {"instrument_id": instrument.id, "key": key}
    taken_at = _authored(resource.get("authored"))
    given, problems = _answers(instrument, resource)
    values.update(
        taken_at=taken_at,
        by_patient=_answered_by_patient(resource, resolve),
        crisis=urgent_symptoms(instrument, given),  # saved even if the rest cannot be
    )
    status = resource.get("status")
    if status not in IMPORTED_STATUS:
        return "skipped", text, matched, f"status {status}: the answers are not final", values
    if taken_at is None:
        problems.insert(0, "authored: a date and time with its UTC offset is needed")
    if not problems:
        try:
            answers = validate_answers(instrument, given)
            score(instrument, answers)
        except ScoringError as exc:
            problems = [f"{item}: {message}" for item, message in exc.errors]
        else:
            values["answers"] = answers
    if problems:
        return "skipped", text, matched, "; ".join(problems), values
    if key in stored or str(resource.get("id") or "") in stored:
        return "present", text, matched, "", values
    stored.add(key)
    return "add", text, matched, "", values


def stored_keys(patient: PatientProfile) -> set[str]:
    """The idempotency keys and ids of the patient's responses (to find those imported)."""
    found: set[str] = set()
    for key, uuid in patient.responses.values_list("idempotency_key", "uuid"):
        found.update((key, str(uuid)))
    return found


def store_response(
    patient: PatientProfile, values: Mapping[str, Any], actor: User | None, ip: str | None
) -> None:
    """Record an imported response as a web answer is recorded (scored, screened)."""
    do_submit_questionnaire(
        patient=patient,
        user=actor,
        instrument=load_instruments()[values["instrument_id"]],
        answers=values["answers"],
        key=values["key"],
        ip=ip,
        taken_at=values["taken_at"],
        source=EntrySource.IMPORT,
        completed_by=patient.user if values["by_patient"] else None,
    )


def store_crisis_answer(
    patient: PatientProfile, values: Mapping[str, Any], actor: User | None, ip: str | None
) -> None:
    """A response that cannot be stored still has its crisis answer saved, as the web form
    saves it: the red flag on its own, screened on commit."""
    if values.get("crisis"):
        do_report_red_flags(
            patient=patient,
            user=actor,
            key=values["key"],
            symptoms=values["crisis"],
            ip=ip,
            reported_at=values.get("taken_at"),
            source=EntrySource.IMPORT,
        )
