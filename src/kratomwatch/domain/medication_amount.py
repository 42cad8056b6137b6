"""The daily amount of a medicine, read from its entry as prescriptions and people write it.

"loperamide 2 mg, 2 caps four times a day" is 16 mg a day; "Imodium 40 mg/day" is 40 mg;
"paracetamol 1 g qds" is 4,000 mg; "loperamide 2mg prn" has no daily amount (as needed, no
frequency). Only amounts written in milligrams or grams are read: a number without a unit is
never taken for either.
Where a text allows several readings (a total and a strength times a frequency), the highest
is returned: the amount is used to notice doses above a label's limit. A frequency in an
"as needed" entry ("2 tabs q4h prn") is the most allowed, not what is taken, and gives no
amount; a total written out ("up to 60 mg a day") still does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_NUMBER = (
    r"(?<![\w.,])(\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)"
)
_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty": 20,
}
_PER_DAY = (
    r"(?:/\s*(?:day|d|24\s*h(?:ours?)?)\b|per\s+day\b|a\s+day\b|each\s+day\b|"
    r"every\s+day\b|daily\b|/\s*die\b)"
)
_MG = r"(mg|milligrams?|g|gm|grams?)\b"
_UNIT = r"(?:tabs?|tablets?|caps?|capsules?|caplets?|pills?|softgels?)\b"

_MG_PER_DAY = re.compile(rf"{_NUMBER}\s*{_MG}\s*{_PER_DAY}", re.IGNORECASE)
_UNITS_PER_DAY = re.compile(rf"{_NUMBER}\s*{_UNIT}\s*{_PER_DAY}", re.IGNORECASE)
_STRENGTH = re.compile(rf"{_NUMBER}\s*{_MG}(?!\s*{_PER_DAY})", re.IGNORECASE)
_COUNT = re.compile(rf"{_NUMBER}\s*{_UNIT}(?!\s*{_PER_DAY})", re.IGNORECASE)
_TIMES_A_DAY = re.compile(
    rf"{_NUMBER}\s*(?:x|times)\s*(?:a|per|/|each)?\s*(?:day|d|daily)\b", re.IGNORECASE
)
_EVERY_HOURS = re.compile(r"\b(?:q|every)\s*(\d+)\s*(?:h|hrs?|hours?)\b", re.IGNORECASE)
_AS_NEEDED = re.compile(r"\b(?:prn|p\.r\.n\.?|as\s+needed|when\s+needed|if\s+needed)\b", re.I)
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


def _mg(number: str, unit: str) -> Decimal:
    value = _number(number)
    return value if unit.lower().startswith("m") else value * 1000


def _number(text: str) -> Decimal:
    word = text.lower()
    return Decimal(_WORDS[word]) if word in _WORDS else Decimal(text.replace(",", "."))


def _per_day(text: str) -> Decimal | None:
    for match in _TIMES_A_DAY.finditer(text):
        return _number(match.group(1))
    hours = [int(m.group(1)) for m in _EVERY_HOURS.finditer(text) if 0 < int(m.group(1)) <= 24]
    if hours:
        return Decimal(24) / Decimal(min(hours))
    for pattern, times in _NAMED:
        if pattern.search(text):
            return Decimal(times)
    return None


def daily_mg(text: str, *, unit_mg: Decimal | None = None) -> DailyAmount | None:
    """The highest daily amount in milligrams that ``text`` states, or None when it states
    none. ``unit_mg`` is the strength of one tablet or capsule when every solid form of the
    medicine has the same strength (from its label); without it, a count of tablets is read
    only with a strength in milligrams."""
    readings: list[DailyAmount] = []
    for match in _MG_PER_DAY.finditer(text):
        readings.append(DailyAmount(_mg(match.group(1), match.group(2)), match.group(0).strip()))
    strengths = [_mg(m.group(1), m.group(2)) for m in _STRENGTH.finditer(text)]
    strength = max(strengths) if strengths else unit_mg
    if strength is not None:
        for match in _UNITS_PER_DAY.finditer(text):
            units = _number(match.group(1))
            readings.append(
                DailyAmount(strength * units, f"{match.group(0).strip()} of {strength} mg")
            )
        # "As needed" with a frequency gives the most allowed, not the amount taken.
        times = None if _AS_NEEDED.search(text) else _per_day(text)
        if times is not None:
            counts = [_number(m.group(1)) for m in _COUNT.finditer(text)]
            if counts:
                count = max(counts)
                per_dose = strength * count
                how = f"{count} × {strength} mg, {times:g} times a day"
            elif strengths:
                per_dose = strength
                how = f"{strength} mg, {times:g} times a day"
            else:
                per_dose = None
                how = ""
            if per_dose is not None:
                readings.append(DailyAmount(per_dose * times, how))
    return max(readings, key=lambda r: r.mg) if readings else None
