"""Results a clinician records: liver tests, the QTc of an ECG and drug screens.

What may be recorded is data (``data/knowledge/lab_tests.yaml``): each analyte's unit, the
other units it may be entered in with their conversion factors, plausible input limits, the
default upper limit of normal with its source, and a LOINC code where one was confirmed;
each drug-screen item with the substance classes or substances a positive result stands for.

A value is always entered with its unit. A unit that the analyte does not have is refused
(never guessed), and a value is converted explicitly: 17.1 µmol/L of bilirubin is 1 mg/dL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
import yaml

from .text import text_problem

#: Qualitative results of a drug-screen item.
POSITIVE, NEGATIVE, NOT_TESTED = "positive", "negative", "not_tested"
SCREEN_RESULTS = (POSITIVE, NEGATIVE, NOT_TESTED)
SPECIMENS = ("urine", "blood", "oral_fluid")

#: R-ratio limits of the liver injury pattern (ACG guideline, Chalasani 2014):
#: hepatocellular at 5 or more, cholestatic at 2 or less, mixed in between.
HEPATOCELLULAR_R = Decimal(5)
CHOLESTATIC_R = Decimal(2)


class ResultRejected(ValueError):
    """The result cannot be recorded; ``errors`` lists (field, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


@dataclass(frozen=True)
class Analyte:
    id: str
    label: str
    group: str
    unit: str
    units: Mapping[str, Decimal]
    ucum: str
    minimum: Decimal
    maximum: Decimal
    range_source: str
    upper_limit_of_normal: Decimal | None = None
    loinc: str | None = None


@dataclass(frozen=True)
class ScreenItem:
    id: str
    label: str
    kratom: bool = False
    classes: frozenset[str] = frozenset()
    substances: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LabCatalogue:
    version: str
    analytes: Mapping[str, Analyte]
    screen_items: Mapping[str, ScreenItem]


@cache
def load_lab_tests() -> LabCatalogue:
    """The analytes and screen items, validated against their schema."""
    base = files("kratomwatch") / "data"
    data = yaml.safe_load((base / "knowledge" / "lab_tests.yaml").read_text(encoding="utf-8"))
    schema = json.loads((base / "schemas" / "lab_tests.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    analytes = {
        a["id"]: Analyte(
            id=a["id"],
            label=a["label"],
            group=a["group"],
            unit=a["unit"],
            units={u: Decimal(str(f)) for u, f in a["units"].items()},
            ucum=a["ucum"],
            minimum=Decimal(str(a["plausible"]["min"])),
            maximum=Decimal(str(a["plausible"]["max"])),
            range_source=a["range_source"],
            upper_limit_of_normal=(
                Decimal(str(a["upper_limit_of_normal"])) if "upper_limit_of_normal" in a else None
            ),
            loinc=a.get("loinc"),
        )
        for a in data["analytes"]
    }
    items = {
        i["id"]: ScreenItem(
            id=i["id"],
            label=i["label"],
            kratom=bool(i.get("kratom")),
            classes=frozenset(i.get("classes", ())),
            substances=frozenset(i.get("substances", ())),
        )
        for i in data["screen_items"]
    }
    return LabCatalogue(str(data["version"]), analytes, items)


@dataclass(frozen=True)
class Measurement:
    """A measured result in its analyte's unit, with the laboratory's upper limit of normal
    when it was given (else the default of the catalogue is used)."""

    analyte: str
    taken_at: datetime
    value: Decimal
    upper_limit: Decimal | None = None

    @property
    def uln(self) -> Decimal | None:
        if self.upper_limit is not None:
            return self.upper_limit
        return load_lab_tests().analytes[self.analyte].upper_limit_of_normal

    @property
    def times_uln(self) -> Decimal | None:
        uln = self.uln
        return None if not uln else self.value / uln


@dataclass(frozen=True)
class ScreenResult:
    """One item of a drug screen that was tested: positive or negative."""

    item: str
    taken_at: datetime
    result: str
    specimen: str = "urine"


@dataclass(frozen=True)
class CheckedValue:
    value: Decimal  # in the analyte's unit
    entered: Decimal
    entered_unit: str
    upper_limit: Decimal | None = field(default=None)


#: A value as typed: digits with a dot as decimal point. A comma is refused, not read: "1,200"
#: may be a thousand and two hundred or one point two, and a guess could hide an injury.
_NUMBER = re.compile(r"[+-]?[0-9]{1,9}(\.[0-9]{1,9})?|[+-]?\.[0-9]{1,9}")


def _decimal(raw: Any) -> Decimal | None:
    """A finite number of sensible size, or None."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal | int):
        value = Decimal(raw)
        if not value.is_finite() or value != 0 and not -12 <= value.adjusted() <= 9:
            return None
        return value
    text = str(raw).strip()
    if not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def convert(analyte: Analyte, value: Decimal, unit: str) -> Decimal:
    """``value`` in ``unit`` expressed in the analyte's own unit."""
    factor = analyte.units[unit]
    if factor == 1:
        return value
    # The catalogue's factor for µmol/L is 1/17.1; divide by 17.1 itself for exactness.
    inverse = (1 / factor).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return value / inverse


def check_value(
    analyte_id: str, value: Any, unit: Any, *, upper_limit: Any = None, prefix: str = ""
) -> CheckedValue:
    """Check one measured value as entered. Raises :class:`ResultRejected` naming the field."""
    catalogue = load_lab_tests()
    analyte = catalogue.analytes.get(str(analyte_id))
    if analyte is None:
        known = ", ".join(a.label for a in catalogue.analytes.values())
        raise ResultRejected(
            [(f"{prefix}analyte", f"is not a test that can be recorded ({known})")]
        )
    errors: list[tuple[str, str]] = []
    number = _decimal(value)
    if number is None:
        errors.append(
            (
                f"{prefix}value",
                f"{analyte.label}: enter a number with a dot as the decimal point and no "
                "thousands separator, e.g. 41 or 0.8",
            )
        )
    if not isinstance(unit, str) or unit not in analyte.units:
        allowed = ", ".join(analyte.units)
        errors.append(
            (
                f"{prefix}unit",
                f"{analyte.label}: the unit must be one of {allowed} (no unit is assumed)",
            )
        )
    uln = None
    if upper_limit not in (None, ""):
        uln = _decimal(upper_limit)
        if (
            uln is None
            or uln <= 0
            or (unit in analyte.units and convert(analyte, uln, unit) > analyte.maximum)
        ):
            errors.append(
                (
                    f"{prefix}upper_limit",
                    f"{analyte.label}: the upper limit of normal must be a number above 0",
                )
            )
    if number is not None and _places(number) > MAX_PLACES:
        errors.append((f"{prefix}value", f"{analyte.label}: at most {MAX_PLACES} decimal places"))
    if uln is not None and _places(uln) > MAX_PLACES:
        errors.append(
            (f"{prefix}upper_limit", f"{analyte.label}: at most {MAX_PLACES} decimal places")
        )
    if errors:
        raise ResultRejected(errors)
    assert number is not None and isinstance(unit, str)
    converted = convert(analyte, number, unit)
    if not analyte.minimum <= converted <= analyte.maximum:
        raise ResultRejected(
            [
                (
                    f"{prefix}value",
                    f"{analyte.label}: {number} {unit} is outside the plausible range "
                    f"({_plain(analyte.minimum)} to {_plain(analyte.maximum)} {analyte.unit}); "
                    "check the value and its unit",
                )
            ]
        )
    if uln is not None:
        uln = convert(analyte, uln, unit)
    return CheckedValue(converted, number, unit, uln)


def check_screen(item_id: Any, result: Any, *, prefix: str = "") -> str:
    """Check one drug-screen item's result (positive, negative or not tested)."""
    catalogue = load_lab_tests()
    errors = []
    if str(item_id) not in catalogue.screen_items:
        errors.append((f"{prefix}item", "is not a drug-screen item that can be recorded"))
    if result not in SCREEN_RESULTS:
        errors.append((f"{prefix}outcome", "must be positive, negative or not tested"))
    if errors:
        raise ResultRejected(errors)
    return str(result)


#: Decimal places a value may have as entered (stored exactly as entered).
MAX_PLACES = 4


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def latest_by(items: Iterable[Any], key: str) -> dict[str, Any]:
    """The newest item per ``key`` (an analyte or a screen item): only the latest counts."""
    newest: dict[str, Any] = {}
    for item in items:
        name = getattr(item, key)
        if name not in newest or item.taken_at > newest[name].taken_at:
            newest[name] = item
    return newest


def r_ratio(alt: Measurement, alp: Measurement) -> Decimal | None:
    """R = (ALT / ULN of ALT) / (ALP / ULN of ALP), or None when either is unknown or zero."""
    a, p = alt.times_uln, alp.times_uln
    if a is None or p is None or p == 0:
        return None
    return a / p


def injury_pattern(r: Decimal) -> str:
    if r >= HEPATOCELLULAR_R:
        return "hepatocellular"
    if r <= CHOLESTATIC_R:
        return "cholestatic"
    return "mixed"


@dataclass(frozen=True)
class Batch:
    """Results entered together: one specimen time, checked values and screen items."""

    taken_at: datetime
    specimen: str
    values: Mapping[str, CheckedValue]
    screens: Mapping[str, str]  # item id -> positive / negative / not tested
    note: str = ""


def check_batch(
    *,
    taken_at: Any,
    values: Mapping[str, Mapping[str, Any]],
    screens: Mapping[str, Any],
    specimen: Any,
    now: datetime,
    note: Any = "",
) -> Batch:
    """Check results entered together; every problem is reported at once, by field.

    ``values`` maps analyte ids to ``{"value", "unit", "upper_limit"}`` (analytes left empty
    are skipped); ``screens`` maps screen items to their outcome (empty items skipped). At
    least one value or one tested screen item is needed. The time must be aware and not in
    the future."""
    errors: list[tuple[str, str]] = []
    when: datetime | None = None
    if isinstance(taken_at, str):
        try:
            when = datetime.fromisoformat(taken_at)
        except ValueError:
            errors.append(("taken_at", "enter the date and time the sample was taken"))
    elif isinstance(taken_at, datetime):
        when = taken_at
    else:
        errors.append(("taken_at", "enter the date and time the sample was taken"))
    if when is not None and when.tzinfo is None:
        errors.append(("taken_at", "the time needs a time zone"))
        when = None
    if when is not None and when > now:
        errors.append(("taken_at", "the sample cannot have been taken in the future"))
    elif when is not None and when.year < 1900:
        errors.append(("taken_at", "enter a date after 1900"))
    if specimen not in SPECIMENS + ("ecg",):
        errors.append(("specimen", "choose blood, urine or oral fluid"))
    checked: dict[str, CheckedValue] = {}
    for analyte, raw in values.items():
        if _decimal(raw.get("value")) is None and not str(raw.get("value") or "").strip():
            continue
        try:
            checked[analyte] = check_value(
                analyte,
                raw.get("value"),
                raw.get("unit"),
                upper_limit=raw.get("upper_limit"),
                prefix=f"{analyte}.",
            )
        except ResultRejected as exc:
            errors.extend(exc.errors)
    outcomes: dict[str, str] = {}
    for item, outcome in screens.items():
        if outcome in (None, ""):
            continue
        try:
            outcomes[item] = check_screen(item, outcome, prefix=f"{item}.")
        except ResultRejected as exc:
            errors.extend(exc.errors)
    note_text = note if isinstance(note, str) else ""
    if not isinstance(note, str) or len(note) > 500:
        errors.append(("note", "the note must be text of at most 500 characters"))
    elif (problem := text_problem(note)) is not None:
        errors.append(("note", problem))
    if not errors and not checked and all(o == NOT_TESTED for o in outcomes.values()):
        errors.append(("results", "enter at least one value or one tested drug-screen item"))
    if errors:
        raise ResultRejected(errors)
    assert when is not None
    return Batch(when, str(specimen), checked, outcomes, note_text.strip())
