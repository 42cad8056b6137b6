"""QuestionnaireResponses brought in from a FHIR Bundle (the Questionnaires themselves are
built by :mod:`kratomwatch.interop.fhir_instruments`).

:func:`plan_response` reads one QuestionnaireResponse of an imported Bundle: its
``questionnaire`` must be one of ours (``url|version``, or the ``url`` alone, meaning the
version in use, whose items the answers must then match); its answers are checked by the
instrument (``valueCoding`` of our answer code system or ``valueInteger``) and scored as a
web answer would be. :func:`store_response` records it with
:func:`kratomwatch.clinic.actions.checkins.do_submit_questionnaire`, the one way a response
is recorded, so scoring, screening and a crisis answer's finding are those of a web answer.

The import key names the response: its identifier (``system|value``), or its id qualified
by where it comes from (``meta.source`` of the response or of the Bundle), or, with neither,
its content. A digest of its content (questionnaire, authored, answers) is compared with
the response stored under that key: the same content is already present; other content is
an amended response, stored as a new version under :func:`derived_key` of the key and the
digest, never dropped. A crisis answer is looked for in every response, even one that
cannot be stored (see :func:`store_crisis_answer`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from django.utils import timezone

from kratomwatch.clinic.actions.checkins import do_report_red_flags, do_submit_questionnaire
from kratomwatch.clinic.actions.idempotent import derived_key
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
from .csv_import import FUTURE_TOLERANCE
from .fhir_instruments import find_instrument

Resource = dict[str, Any]
#: Statuses of a response whose answers are final; others are skipped with their status.
IMPORTED_STATUS = ("completed", "amended")
KEY_PREFIX = "fhir:"
#: An answer code read as a number: an optional minus and at most nine ASCII digits.
_CODE = re.compile(r"-?[0-9]{1,9}")
Author = Literal["patient", "unknown", "other_patient"]


def _flat_items(items: Any) -> list[Mapping[str, Any]]:
    """Answered items of a response, with groups (nested items) opened up."""
    found: list[Mapping[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("answer"):
            found.append(item)
        found += _flat_items(item.get("item"))
        for answer in _answer_list(item):
            found += _flat_items(answer.get("item"))
    return found


def _answer_list(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    answers = item.get("answer")
    return [a for a in answers if isinstance(a, dict)] if isinstance(answers, list) else []


def _answer_value(answer: Mapping[str, Any]) -> tuple[int | None, str]:
    """The integer an answer gives, or ``None`` and why it cannot be read."""
    if "valueInteger" in answer:
        value = answer["valueInteger"]
        if isinstance(value, int) and not isinstance(value, bool):
            return value, ""
        return None, f"valueInteger {str(value)[:20]!r} is not a whole number"
    coding = answer.get("valueCoding")
    if isinstance(coding, dict):
        if coding.get("system") != C.CS_ANSWER:
            return None, f"a coding of {coding.get('system') or 'no system'}, not of {C.CS_ANSWER}"
        code = str(coding.get("code") or "")
        if _CODE.fullmatch(code):
            return int(code), ""
        return None, f"answer code {code[:20]!r} is not a number"
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
        answers = _answer_list(item)
        if link not in instrument.item_ids:
            problems.append(f"{link[:80] or '(no linkId)'}: not an item of {instrument.id}")
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


def _highest_answers(instrument: Instrument, resource: Mapping[str, Any]) -> dict[str, int]:
    """item id -> the highest readable value given to it anywhere in the response (an item
    answered twice, or with several answers): what the crisis check reads, so that a
    response skipped for its form still has its crisis answer seen."""
    highest: dict[str, int] = {}
    for item in _flat_items(resource.get("item")):
        link = str(item.get("linkId") or "")
        if link not in instrument.item_ids:
            continue
        allowed = instrument.item(link).allowed
        for answer in _answer_list(item):
            value, _ = _answer_value(answer)
            if value is not None and value in allowed and value > highest.get(link, value - 1):
                highest[link] = value
    return highest


def _authored(value: Any) -> datetime | None:
    """An aware datetime for a FHIR ``authored``; ``None`` for a date without a time."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment.astimezone(UTC)  # a time that has no UTC equivalent (year 1 at +14:00)
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else None


def content_digest(
    instrument_id: str, version: str, taken_at: datetime | None, answers: Sequence[Any]
) -> str:
    """A digest of what a response says: which questionnaire, when, and its answers in item
    order (not its status, id or meta). The same for a stored response and its FHIR copy."""
    when = taken_at.astimezone(UTC).isoformat() if taken_at is not None else ""
    basis = json.dumps([instrument_id, version, when, list(answers)], separators=(",", ":"))
    return hashlib.sha256(basis.encode()).hexdigest()


def _source(resource: Mapping[str, Any], bundle_source: str) -> str:
    meta = resource.get("meta")
    source = meta.get("source") if isinstance(meta, dict) else None
    return str(source) if source else bundle_source


def import_key(resource: Mapping[str, Any], digest: str, bundle_source: str = "") -> str:
    """The response's idempotency key: from its identifier (``system|value``), else its id
    qualified by its source (an identifier without a system is an id too), else its
    content (``digest``, see :func:`content_digest`)."""
    identifier = resource.get("identifier")
    if not isinstance(identifier, dict):
        identifier = {}
    value, system = identifier.get("value"), identifier.get("system")
    if value and system:
        basis = f"identifier:{system}|{value}"
    elif value or resource.get("id"):
        basis = f"identifier:|{value}" if value else f"id:{resource['id']}"
        source = _source(resource, bundle_source)
        basis += f"@{source}" if source else ""  # no source: the key it always had
    else:
        basis = f"content:{digest}"
    return KEY_PREFIX + hashlib.sha256(basis.encode()).hexdigest()[:40]


def version_key(key: str, digest: str) -> str:
    """The key of an amended version of the response stored under ``key``."""
    return derived_key(key, f"~{digest[:16]}")


def _same_patient(
    resource: Mapping[str, Any],
    author: Mapping[str, Any],
    target: Any,
    resolve: Callable[[Mapping[str, Any], Any], Any],
) -> bool:
    """Whether an author that is a Patient is the response's subject."""
    subject = resource.get("subject")
    if not isinstance(subject, dict):
        return True  # no other patient is named: the bundle's patient
    if author.get("reference") and author.get("reference") == subject.get("reference"):
        return True
    named = resolve(resource, subject)
    if isinstance(target, dict) and isinstance(named, dict):
        return target is named or target == named
    identifier = author.get("identifier")
    if isinstance(identifier, dict) and isinstance(named, dict):
        known = named.get("identifier")
        return isinstance(known, list) and any(
            isinstance(i, dict)
            and i.get("system") == identifier.get("system")
            and i.get("value") == identifier.get("value")
            for i in known
        )
    return False


def _author(
    resource: Mapping[str, Any], resolve: Callable[[Mapping[str, Any], Any], Any]
) -> Author:
    """Who answered: the patient (no author, or the subject), someone else whose account is
    not known here (a Practitioner, a relative, a device), or another patient."""
    author = resource.get("author")
    if not isinstance(author, dict):
        return "patient"
    target = resolve(resource, author)
    if isinstance(target, dict):
        is_patient = target.get("resourceType") == "Patient"
    else:
        reference = str(author.get("reference") or "")
        is_patient = author.get("type") == "Patient" or reference.startswith("Patient/")
        is_patient = is_patient or "/Patient/" in reference
    if not is_patient:
        return "unknown"
    return "patient" if _same_patient(resource, author, target, resolve) else "other_patient"


def plan_response(
    resource: Mapping[str, Any],
    resolve: Callable[[Mapping[str, Any], Any], Any],
    stored: dict[str, str],
    bundle_source: str = "",
    now: datetime | None = None,
) -> tuple[str, str, str, str, dict[str, Any]]:
    """What importing one QuestionnaireResponse does: (outcome, text, matched, reason,
    values). ``stored`` maps the keys and ids of the patient's responses (and of those
    planned before this one) to their :func:`content_digest`; ``bundle_source`` is the
    Bundle's ``meta.source``. ``values`` carries what :func:`store_response` and
    :func:`store_crisis_answer` need (``crisis``: the red flags to save even if the
    response is skipped; ``amends``: it is a changed version of a stored response)."""
    canonical = resource.get("questionnaire")
    instrument, reason = find_instrument(canonical)
    text = str(canonical or "(no questionnaire)")[:200]
    if instrument is None:
        return "not_recognized", text, "", reason, {}
    text = instrument.short_title or instrument.title
    matched = f"{instrument.title} {instrument.version}"
    now = now or timezone.now()
    taken_at = _authored(resource.get("authored"))
    given, problems = _answers(instrument, resource)
    ordered = [given.get(i) for i in instrument.item_ids]
    key = import_key(
        resource,
        content_digest(instrument.id, instrument.version, taken_at, ordered),
        bundle_source,
    )
    author = _author(resource, resolve)
    status = resource.get("status")
    future = taken_at is not None and taken_at - now > FUTURE_TOLERANCE
    values: dict[str, Any] = {
        "instrument_id": instrument.id,
        "key": key,
        "taken_at": taken_at,
        "author": author,
        # The crisis check reads every answer, whatever else is wrong with the response; it
        # is saved at the time given, or now if that time cannot be used.
        "crisis": urgent_symptoms(instrument, _highest_answers(instrument, resource)),
        "crisis_at": None if future else taken_at,
    }
    if values["crisis"] and status == "entered-in-error":
        values["crisis"] = []
        return (
            "skipped",
            text,
            matched,
            (
                "status entered-in-error: the response was withdrawn by its source, so its "
                "crisis answer was not saved"
            ),
            values,
        )
    if author == "other_patient":
        values["crisis"] = []
        return "skipped", text, matched, "its author is another patient, not the subject", values
    if status not in IMPORTED_STATUS:
        return "skipped", text, matched, f"status {status}: the answers are not final", values
    if taken_at is None:
        problems.insert(0, "authored: a date and time with its UTC offset is needed")
    elif future:
        problems.insert(
            0,
            f"authored: {resource.get('authored')} is in the future "
            f"(more than {int(FUTURE_TOLERANCE.total_seconds() // 60)} minutes ahead)",
        )
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
    digest = content_digest(
        instrument.id, instrument.version, taken_at, [answers[i] for i in instrument.item_ids]
    )
    earlier = stored.get(key)
    if earlier is None and resource.get("id"):  # a response exported from here, back again
        earlier = stored.get(str(resource["id"]))
    if earlier is None and key == import_key({}, digest) and digest in stored.values():
        earlier = digest  # known by its content alone: the same content is stored already
    if earlier is None:
        stored[key] = digest
        return "add", text, matched, "", values
    version = version_key(key, digest)
    if earlier == digest or version in stored:
        return "present", text, matched, "", values
    stored[version] = digest
    values.update(key=version, amends=True)
    return "add", text, matched, "", values


def stored_keys(patient: PatientProfile) -> dict[str, str]:
    """The idempotency keys and ids of the patient's responses (to find those imported),
    each with the :func:`content_digest` of its response."""
    found: dict[str, str] = {}
    rows = patient.responses.values_list(
        "idempotency_key", "uuid", "instrument_id", "instrument_version", "taken_at", "answers"
    )
    for key, uuid, instrument_id, version, taken_at, answers in rows:
        digest = content_digest(instrument_id, version, taken_at, answers or [])
        found[str(uuid)] = digest
        if key:
            found[key] = digest
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
        completed_by=patient.user if values["author"] == "patient" else "unknown",
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
            reported_at=values.get("crisis_at"),
            source=EntrySource.IMPORT,
        )
