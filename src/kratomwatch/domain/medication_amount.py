"""The daily amount of a medicine, read from its entry as prescriptions and people write it.

"loperamide 2 mg, 2 caps four times a day" is 16 mg a day; "Imodium 40 mg/day" is 40 mg;
"paracetamol 1 g qds" is 4,000 mg; "loperamide 60 mg" is at least 60 mg (one dose). Only
amounts written in milligrams or grams are read: a number without a unit is never taken for
either. The amount is used to notice doses above a label's limit, so where a text allows
several readings the highest is returned, and one dose (strength times count) is always a
reading: a day holds at least that much. The dose is the first strength and count written.
A frequency in an "as needed" entry ("2 tabs q4h prn") is the most allowed, not what is
taken, and adds no reading; nor does a weekly or monthly one. What follows "max",
"dispense", "qty" and the like is a limit or a supply, not a dose, and is not read. A
liquid's concentration ("250 mg/5 ml") is not a dose: such an entry gives no amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_UNITS_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORDS = {w: i + 1 for i, w in enumerate(_UNITS_WORDS)} | {
    w: 10 * (i + 2) for i, w in enumerate(_TENS_WORDS)
}
_WORD_NUMBER = (
    rf"(?:(?:{'|'.join(_TENS_WORDS)})(?:[\s-](?:{'|'.join(_UNITS_WORDS[:9])}))?|"
    rf"{'|'.join(sorted(_UNITS_WORDS, key=len, reverse=True))})"
)
# 2, 2.5, 2,5, 1,000 and 1.000 (a separator before exactly three digits groups thousands).
_DIGITS = r"\d{1,3}(?:[.,]\d{3})+(?!\d)|\d{1,7}(?:[.,]\d{1,2})?(?![\d.,]*\d)"
_NUMBER = rf"(?<![\w.,])({_DIGITS}|{_WORD_NUMBER}(?![a-z]))"
_PER_DAY = (
    r"(?:/\s*(?:day|d|24\s*h(?:ours?)?)\b|per\s+day\b|a\s+day\b|each\s+day\b|"
    r"every\s+day\b|daily\b|/\s*die\b)"
)
_MG = r"(mg|milligrams?|g|gm|grams?)\b"
_UNIT = r"(?:tabs?|tablets?|caps?|capsules?|caplets?|pills?|softgels?)\b"

_MG_PER_DAY = re.compile(rf"{_NUMBER}\s*{_MG}\s*{_PER_DAY}", re.IGNORECASE)
_UNITS_PER_DAY = re.compile(rf"{_NUMBER}\s*{_UNIT}\s*{_PER_DAY}", re.IGNORECASE)
_STRENGTH = re.compile(rf"{_NUMBER}\s*{_MG}(?!\s*{_PER_DAY})", re.IGNORECASE)
_COUNT = re.compile(
    rf"{_NUMBER}\s*(?:{_UNIT}|x(?=\s*\d))(?!\s*{_PER_DAY})", re.IGNORECASE
)  # "2 caps", "2 x 2 mg"
_TIMES_A_DAY = re.compile(
    rf"(?:{_NUMBER}\s*(?:x|times)|\bx\s*(\d{{1,2}}))\s*(?:a|per|/|each)?\s*(?:day|d|daily)\b",
    re.IGNORECASE,
)
_HOURS = r"\d{1,2}"
_EVERY_HOURS = re.compile(
    rf"\b(?:q|every)\s*({_HOURS}|{_WORD_NUMBER})\s*(?:h|hrs?|hours?)\b", re.IGNORECASE
)
_AS_NEEDED = re.compile(r"\b(?:prn|p\.r\.n\.?|as\s+needed|when\s+needed|if\s+needed)\b", re.I)
_NOT_DAILY = re.compile(r"\b(?:weekly|week|weeks|monthly|month|fortnightly)\b", re.I)
_CONCENTRATION = re.compile(r"(?:mg|g)\s*(?:/|per|in)\s*\d*[.,]?\d*\s*(?:ml|l)\b", re.I)
#: A limit or a supply, not a dose: read up to the next comma, semicolon or bracket.
_NOT_A_DOSE = re.compile(
    r"\b(?:max(?:imum)?|not\s+more\s+than|dispensed?|disp|qty|quantity|supply|box|pack|"
    r"bottle|refills?)\b[^,;()]*|#\s*\d+|\d[\d.,]*\s*(?:mg|g)\s*max\w*",
    re.IGNORECASE,
)
_NAMED = (
    (re.compile(r"\b(?:qid|q\.i\.d\.?|qds|four\s+times)\b", re.IGNORECASE), 4),
    (re.compile(r"\b(?:tid|t\.i\.d\.?|tds|three\s+times)\b", re.IGNORECASE), 3),
    (re.compile(r"\b(?:bid|b\.i\.d\.?|bd|twice)\b", re.IGNORECASE), 2),
    (
        re.compile(
            r"\b(?:once(?:\s+a)?\s+day|once\s+daily|qd|od|nightly|at\s+night|qhs|daily)\b",
            re.IGNORECASE,
        ),
        1,
    ),
)


@dataclass(frozen=True)
class DailyAmount:
    mg: Decimal
    how: str  # how it was read, in words


def _number(text: str) -> Decimal:
    word = text.lower()
    if word[0].isalpha():
        return Decimal(sum(_WORDS[w] for w in re.split(r"[\s-]+", word)))
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):
        return Decimal(re.sub(r"[.,]", "", text))
    return Decimal(text.replace(",", "."))


def _mg(number: str, unit: str) -> Decimal:
    value = _number(number)
    return value if unit.lower().startswith("m") else value * 1000


def _per_day(text: str) -> Decimal | None:
    for match in _TIMES_A_DAY.finditer(text):
        return _number(match.group(1) or match.group(2))
    hours = [_number(m.group(1)) for m in _EVERY_HOURS.finditer(text)]
    hours = [h for h in hours if 0 < h <= 24]
    if hours:
        return Decimal(24) / min(hours)
    for pattern, times in _NAMED:
        if pattern.search(text):
            return Decimal(times)
    return None


def daily_mg(text: str, *, unit_mg: Decimal | None = None) -> DailyAmount | None:
    """The highest daily amount in milligrams that ``text`` states, or None when it states
    none. ``unit_mg`` is the strength of one tablet or capsule when every solid form of the
    medicine has the same strength (from its label); without it, a count of tablets is read
    only with a strength in milligrams or grams."""
    if _CONCENTRATION.search(text):
        return None
    text = _NOT_A_DOSE.sub(" ", text)
    readings: list[DailyAmount] = []
    for match in _MG_PER_DAY.finditer(text):
        readings.append(DailyAmount(_mg(match.group(1), match.group(2)), match.group(0).strip()))
    # The dose is written first; a later strength or count is another ingredient's, a later
    # step or a supply ("1 capsule twice a day, 30 capsules").
    strengths = [_mg(m.group(1), m.group(2)) for m in _STRENGTH.finditer(text)]
    strength = strengths[0] if strengths else unit_mg
    if strength is not None:
        for match in _UNITS_PER_DAY.finditer(text):
            units = _number(match.group(1))
            readings.append(
                DailyAmount(strength * units, f"{match.group(0).strip()} of {strength} mg")
            )
        counts = [_number(m.group(1)) for m in _COUNT.finditer(text)]
        count = counts[0] if counts else None
        if count is not None or strengths:
            per_dose = strength * (count or 1)
            dose_words = f"{count} × {strength} mg" if count else f"{strength} mg"
            # One dose: a day holds at least that much.
            readings.append(DailyAmount(per_dose, f"{dose_words} in one dose"))
            as_needed = _AS_NEEDED.search(text) or _NOT_DAILY.search(text)
            times = None if as_needed else _per_day(text)
            if times is not None:
                readings.append(
                    DailyAmount(per_dose * times, f"{dose_words}, {times:g} times a day")
                )
    return max(readings, key=lambda r: r.mg) if readings else None
