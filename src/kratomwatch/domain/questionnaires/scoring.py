"""Score answers against an instrument, exactly and strictly.

Every answer is checked before anything is computed: it must be an ``int`` (``bool``,
``float`` -- including NaN --, ``str`` and ``Decimal`` are rejected) and one of the item's
allowed values. ``None`` means "not answered" and is accepted only as the instrument's
missing-item rule allows; a missing item is never counted as 0. All problems are reported
together in one :class:`ScoringError` as ``(item id, message)`` pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from kratomwatch.domain.questionnaires.model import (
    Answer,
    Instrument,
    Number,
    Score,
    ScoringError,
    Subscale,
    round_half_up,
)
from kratomwatch.domain.questionnaires.rules import BAND_RULES

Answers = Sequence[Any] | Mapping[str, Any]
"""Answers in item order, or item id -> value. Values are ``int`` or ``None``."""


def _type_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return f"must be an integer, not a boolean ({value!r})"
    if isinstance(value, int):
        return None
    if isinstance(value, float) and math.isnan(value):
        return "must be an integer, not NaN"
    if isinstance(value, Decimal) and value.is_nan():
        return "must be an integer, not NaN"
    return f"must be an integer, got {type(value).__name__} {value!r}"


def _arrange(
    instrument: Instrument, answers: Answers
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Map raw answers to item ids, reporting shape problems."""
    errors: list[tuple[str, str]] = []
    ids = instrument.item_ids
    raw: dict[str, Any] = {}
    if isinstance(answers, Mapping):
        for key in answers:
            if not isinstance(key, str) or key not in ids:
                errors.append((str(key), "not an item of this instrument"))
        raw = {item_id: answers.get(item_id) for item_id in ids}
    elif isinstance(answers, (str, bytes)) or not isinstance(answers, Sequence):
        errors.append(
            ("answers", f"expected a sequence or a mapping, got {type(answers).__name__}")
        )
    else:
        # Trailing optional items may be left off the end of the sequence.
        last_required = max(
            (pos for pos, item in enumerate(instrument.items) if item.required), default=-1
        )
        shortest = last_required + 1
        if not shortest <= len(answers) <= len(ids):
            expected = str(len(ids)) if shortest == len(ids) else f"{shortest}-{len(ids)}"
            errors.append(("answers", f"expected {expected} answers, got {len(answers)}"))
        else:
            raw = {item_id: None for item_id in ids}
            raw.update(zip(ids, answers, strict=False))
    return raw, errors


def validate_answers(instrument: Instrument, answers: Answers) -> dict[str, Answer]:
    """Check types and allowed values; return item id -> value (``None`` if unanswered).

    Missing-item rules are not applied here (see :func:`score`).
    """
    raw, errors = _arrange(instrument, answers)
    if errors:
        raise ScoringError(instrument.id, errors)
    clean: dict[str, Answer] = {}
    for item in instrument.items:
        value = raw[item.id]
        if value is None:
            clean[item.id] = None
            continue
        problem = _type_problem(value)
        if problem is None and value not in item.allowed:
            if item.options:
                problem = f"{value} is not an allowed value (allowed: {item.describe_allowed()})"
            else:
                problem = f"{value} is out of range {item.min_value}-{item.max_value}"
        if problem is not None:
            errors.append((item.id, problem))
        else:
            clean[item.id] = int(value)
    if errors:
        raise ScoringError(instrument.id, errors)
    return clean


def _check_context(instrument: Instrument, context: Mapping[str, Any] | None) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    errors: list[tuple[str, str]] = []
    for key, value in (context or {}).items():
        if key not in instrument.context_flag_ids:
            known = ", ".join(instrument.context_flag_ids) or "none"
            errors.append(("context", f"unknown context flag {key!r} (known: {known})"))
        elif not isinstance(value, bool):
            errors.append(("context", f"context flag {key!r} must be true or false"))
        else:
            flags[key] = value
    if errors:
        raise ScoringError(instrument.id, errors)
    return flags


def _aggregate(method: str, values: list[int], precision: int) -> Number:
    if method == "sum":
        return sum(values)
    return round_half_up(Decimal(sum(values)) / Decimal(len(values)), precision)


def _subscale_value(
    instrument: Instrument, sub: Subscale, values: Mapping[str, Answer], excluded: set[str]
) -> Number | None:
    ids = [i for i in sub.items if i not in excluded]
    present = [values[i] for i in ids]
    if not ids or any(v is None for v in present):
        return None
    numbers = [v for v in present if v is not None]
    if sub.method == "region_count":
        regions = {instrument.item(i).region for i in ids if (values[i] or 0) > 0}
        return len(regions)
    return _aggregate(sub.method, numbers, instrument.scoring.precision)


def score(
    instrument: Instrument, answers: Answers, context: Mapping[str, Any] | None = None
) -> Score:
    """Score ``answers`` (a sequence in item order, or item id -> value).

    ``context`` switches on the instrument's context flags, e.g.
    ``{"under_medical_supervision": True}`` for ``kw-use-criteria``; items a flag excludes
    are ignored whether answered or not. Raises :class:`ScoringError` on any problem.
    """
    flags_on = _check_context(instrument, context)
    values = validate_answers(instrument, answers)
    sc = instrument.scoring
    excluded: set[str] = set()
    for flag in sc.context_flags:
        if flags_on.get(flag.id):
            excluded.update(flag.exclude_items)

    total_ids = [i for i in sc.total_items if i not in excluded]
    missing_total = [i for i in total_ids if values[i] is None]
    errors: list[tuple[str, str]] = []
    for item in instrument.items:
        if item.id in excluded or values[item.id] is not None or not item.required:
            continue
        if sc.missing.policy == "prorate" and item.id in total_ids:
            continue
        errors.append((item.id, "required item is missing"))
    if sc.missing.policy == "prorate" and len(missing_total) > sc.missing.max_missing:
        message = (
            f"{len(missing_total)} items missing; at most {sc.missing.max_missing} "
            "may be missing for a score"
        )
        errors.extend((item_id, message) for item_id in missing_total)
    if not errors and len(missing_total) == len(total_ids):
        errors.append(("answers", "no scored item was answered"))
    if errors:
        raise ScoringError(instrument.id, errors)

    answered = [v for i in total_ids if (v := values[i]) is not None]
    prorated = bool(missing_total)
    total: Number
    if sc.method == "sum" and prorated:
        scaled = Decimal(sum(answered)) * Decimal(len(total_ids)) / Decimal(len(answered))
        total = int(round_half_up(scaled, 0))
    else:
        total = _aggregate(sc.method, answered, sc.precision)

    subscales = {sub.id: _subscale_value(instrument, sub, values, excluded) for sub in sc.subscales}

    band: str | None = None
    if sc.band_rule is not None:
        band = BAND_RULES[sc.band_rule].decide(values, subscales)
    else:
        band = next((b.label for b in sc.bands if b.contains(total)), None)

    raised: list[str] = []
    for rule in sc.safety_rules:
        if rule.item in excluded:
            continue
        value = values[rule.item]
        if value is None:
            raised.append(f"{rule.flag}_not_assessed")
        elif value > rule.greater_than:
            raised.append(rule.flag)

    return Score(
        instrument=instrument.id,
        version=instrument.version,
        total=total,
        subscales=subscales,
        band=band,
        flags=list(dict.fromkeys(raised)),
        answers=values,
        context=flags_on,
        excluded_items=tuple(i for i in instrument.item_ids if i in excluded),
        missing_items=tuple(
            i for i in instrument.item_ids if values[i] is None and i not in excluded
        ),
        prorated=prorated,
    )


def urgent_symptoms(instrument: Instrument, answers: Mapping[str, object]) -> list[str]:
    """The red-flag symptoms reported by the answers given so far, whatever else is missing or
    wrong: each safety rule with a ``symptom`` whose item is answered above its threshold.

    ``answers`` maps item ids to values as given (an invalid or missing value reports
    nothing). Used to save a crisis answer before the rest of the form is complete.
    """
    found = []
    for rule in instrument.scoring.safety_rules:
        value = answers.get(rule.item)
        if rule.symptom is None or isinstance(value, bool) or not isinstance(value, int):
            continue
        if value in instrument.item(rule.item).allowed and value > rule.greater_than:
            found.append(rule.symptom)
    return list(dict.fromkeys(found))


def safety_messages(instrument: Instrument, result: Score) -> list[str]:
    """The clinician-facing message for each safety flag raised in ``result``."""
    by_flag = {rule.flag: rule.message for rule in instrument.scoring.safety_rules}
    messages = []
    for flag in result.flags:
        if flag in by_flag:
            messages.append(by_flag[flag])
        elif flag.endswith("_not_assessed"):
            base = flag.removesuffix("_not_assessed")
            messages.append(f"Safety item for {base!r} was not answered; ask it directly.")
    return messages
