"""What the safety engine looks at: one patient's record as plain, immutable data.

The app builds a snapshot from the database; the CLI builds one from JSON with
:func:`snapshot_from_json`, which rejects bad input with messages naming the field.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from ..doses import DoseRejected, Exposure, check_dose, parse_quantity
from ..induction import InductionRecord
from ..lots import Jurisdiction, LotFigures, default_jurisdictions
from ..plan_check import PlanLimits
from ..products import ProductForm, ProductSpec
from ..questionnaires import Score, ScoringError, UnknownInstrumentError, get_instrument, score
from ..results import (
    NOT_TESTED,
    SPECIMENS,
    Measurement,
    ResultRejected,
    ScreenResult,
    check_screen,
    check_value,
)


class SnapshotError(ValueError):
    """The snapshot is malformed; ``errors`` lists (field path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


@dataclass(frozen=True)
class Medication:
    name: str
    dose: str | None = None


@dataclass(frozen=True)
class LotUse:
    """A lot of a product, with its lab's figures (all ``None`` when there is no result)."""

    lot_number: str
    figures: LotFigures = field(default_factory=LotFigures)


@dataclass(frozen=True)
class ProductUse:
    name: str
    spec: ProductSpec
    lots: tuple[LotUse, ...] = ()


@dataclass(frozen=True)
class DoseTaken:
    taken_at: datetime
    amount: Decimal
    unit: str
    product: str
    exposure: Exposure


@dataclass(frozen=True)
class Response:
    instrument: str
    taken_at: datetime
    score: Score


@dataclass(frozen=True)
class SymptomReport:
    text: str
    reported_at: datetime | None = None
    severity: int | None = None


@dataclass(frozen=True)
class Snapshot:
    as_of: datetime
    tz: tzinfo = UTC
    medications: tuple[Medication, ...] = ()
    conditions: tuple[str, ...] = ()
    symptoms: tuple[SymptomReport, ...] = ()
    products: tuple[ProductUse, ...] = ()
    doses: tuple[DoseTaken, ...] = ()
    responses: tuple[Response, ...] = ()
    plan: PlanLimits | None = None
    year_of_birth: int | None = None
    pharmacogenomics: Mapping[str, str] = field(default_factory=dict)
    benefit_review_days: int | None = None
    #: An active buprenorphine transition plan, with its log (None when there is none).
    induction: InductionRecord | None = None
    #: Liver tests and QTc (every one recorded; the triggers use the latest per analyte).
    measurements: tuple[Measurement, ...] = ()
    #: Drug-screen items that were tested (positive or negative).
    screens: tuple[ScreenResult, ...] = ()
    # The clinic's jurisdiction, whose rules on product content the lots are checked against.
    jurisdiction: Jurisdiction | None = None


_POTENCY_FIELDS = (
    "mitragynine_mg_per_g",
    "hydroxymitragynine_mg_per_g",
    "unit_material_mg",
    "mitragynine_mg_per_unit",
    "hydroxymitragynine_mg_per_unit",
    "leaf_g_per_ml",
    "mitragynine_mg_per_ml",
    "hydroxymitragynine_mg_per_ml",
    "extract_ratio",
)


def _time(value: Any, path: str, errors: list[tuple[str, str]]) -> datetime | None:
    if not isinstance(value, str):
        errors.append((path, "must be an ISO 8601 date-time with a UTC offset"))
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors.append((path, f"is not an ISO 8601 date-time: {value!r}"))
        return None
    if parsed.tzinfo is None:
        errors.append((path, f"has no UTC offset: {value!r} (e.g. 2026-11-24T08:00:00+00:00)"))
        return None
    return parsed


def _list(data: Mapping[str, Any], key: str, errors: list[tuple[str, str]]) -> Sequence[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        errors.append((key, "must be a list"))
        return []
    return value


def _product(raw: Any, path: str, errors: list[tuple[str, str]]) -> ProductUse | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        errors.append((path, 'must be an object with "name" and "form"'))
        return None
    try:
        form = ProductForm(str(raw.get("form")))
    except ValueError:
        allowed = ", ".join(f.value for f in ProductForm)
        errors.append((f"{path}.form", f"must be one of: {allowed}"))
        return None
    potency: dict[str, Decimal] = {}
    for key in _POTENCY_FIELDS:
        if raw.get(key) is None:
            continue
        try:
            value = Decimal(str(raw[key]))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value < 0 or isinstance(raw[key], bool):
            errors.append((f"{path}.{key}", "must be a number of 0 or more"))
            continue
        potency[key] = value
    try:
        spec = ProductSpec(form=form, **potency)
    except (ValueError, ArithmeticError) as exc:  # the app's own check of a product's details
        errors.append((path, str(exc)))
        return None
    lots = raw.get("lots", [])
    if not isinstance(lots, list):
        errors.append((f"{path}.lots", "must be a list"))
        lots = []
    uses = [u for i, lot in enumerate(lots) if (u := _lot(lot, f"{path}.lots[{i}]", errors))]
    return ProductUse(raw["name"], spec, tuple(uses))


_LOT_FIELDS = ("mitragynine_mg_per_g", "hydroxymitragynine_mg_per_g", "total_alkaloids_mg_per_g")


def _lot(raw: Any, path: str, errors: list[tuple[str, str]]) -> LotUse | None:
    """A lot ``{"lot_number", …figures in mg/g}``: the lab's figures, each optional."""
    if not isinstance(raw, dict) or not isinstance(raw.get("lot_number"), str):
        errors.append((path, 'must be an object with "lot_number" and figures in mg/g'))
        return None
    values: dict[str, Decimal | None] = {}
    for key in _LOT_FIELDS:
        value = raw.get(key)
        if value is None:
            values[key] = None
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if isinstance(value, bool) or not number.is_finite() or number < 0:
            errors.append((f"{path}.{key}", "must be a number of 0 or more (mg/g)"))
            return None
        values[key] = number
    try:
        figures = LotFigures(*(values[key] for key in _LOT_FIELDS))
    except ValueError as exc:
        errors.append((path, str(exc)))
        return None
    return LotUse(raw["lot_number"], figures)


#: The fields a snapshot may have (docs/screening.md).
SNAPSHOT_FIELDS = (
    "medications",
    "conditions",
    "symptoms",
    "products",
    "doses",
    "responses",
    "plan",
    "year_of_birth",
    "results",
    "jurisdiction",
)


def snapshot_from_json(data: Any, *, now: datetime, tz: tzinfo = UTC) -> Snapshot:
    """Build a snapshot from the CLI's JSON format (see docs/screening.md)."""
    if not isinstance(data, dict):
        raise SnapshotError([("", "the snapshot must be a JSON object")])
    errors: list[tuple[str, str]] = []
    for key in data:
        if key not in SNAPSHOT_FIELDS:
            # A misspelt field ("medicaton") would otherwise be screened as nothing at all.
            close = difflib.get_close_matches(str(key), SNAPSHOT_FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append((str(key), f"is not a field of a snapshot{hint}"))
    meds: list[Medication] = []
    for i, raw in enumerate(_list(data, "medications", errors)):
        if isinstance(raw, str):
            meds.append(Medication(raw))
        elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
            dose = raw.get("dose")
            meds.append(Medication(raw["name"], None if dose is None else str(dose)))
        else:
            errors.append((f"medications[{i}]", 'must be a string or {"name", "dose"}'))
    conditions = []
    for i, raw in enumerate(_list(data, "conditions", errors)):
        if isinstance(raw, str) and raw.strip():
            conditions.append(raw)
        else:
            errors.append(
                (f"conditions[{i}]", "must be a name, a condition code or an ICD-10 code")
            )
    symptoms = []
    for i, raw in enumerate(_list(data, "symptoms", errors)):
        if isinstance(raw, str) and raw.strip():
            symptoms.append(SymptomReport(raw))
        else:
            errors.append((f"symptoms[{i}]", "must be a non-empty string"))
    products = [
        p
        for i, raw in enumerate(_list(data, "products", errors))
        if (p := _product(raw, f"products[{i}]", errors)) is not None
    ]
    by_name = {p.name: p for p in products}
    doses = []
    for i, raw in enumerate(_list(data, "doses", errors)):
        path = f"doses[{i}]"
        if not isinstance(raw, dict):
            errors.append((path, 'must be an object with "taken_at", "amount", "unit", "product"'))
            continue
        name = raw.get("product")
        product = by_name.get(name) if isinstance(name, str) else None
        if product is None:
            errors.append((f"{path}.product", "must name one of the snapshot's products"))
            _time(raw.get("taken_at"), f"{path}.taken_at", errors)
            try:  # what can be checked without the product
                parse_quantity(raw.get("amount"), raw.get("unit"))
            except DoseRejected as exc:
                errors.extend((f"{path}.{e.field}", e.message) for e in exc.errors)
            continue
        dose = _dose(raw, product, path, now, errors)
        if dose is not None:
            doses.append(dose)
    responses = []
    for i, raw in enumerate(_list(data, "responses", errors)):
        path = f"responses[{i}]"
        if not isinstance(raw, dict):
            errors.append((path, 'must be an object with "instrument", "answers", "taken_at"'))
            continue
        taken = _time(raw.get("taken_at"), f"{path}.taken_at", errors)
        try:
            instrument = get_instrument(str(raw.get("instrument")))
            result = score(instrument, raw.get("answers"))  # type: ignore[arg-type]
        except UnknownInstrumentError as exc:
            errors.append((f"{path}.instrument", str(exc).strip("'\"")))
            continue
        except ScoringError as exc:
            errors.extend((f"{path}.answers.{item}", message) for item, message in exc.errors)
            continue
        if taken is not None:
            responses.append(Response(instrument.id, taken, result))
    plan = _plan(data.get("plan"), errors)
    yob = data.get("year_of_birth")
    if yob is not None and (
        not isinstance(yob, int) or isinstance(yob, bool) or not 1900 <= yob <= now.year
    ):
        errors.append(("year_of_birth", f"must be a year between 1900 and {now.year}"))
        yob = None
    measurements, screens = _results(_list(data, "results", errors), now, errors)
    jurisdiction = None
    if data.get("jurisdiction") is not None:
        known = default_jurisdictions()
        if data["jurisdiction"] in known.by_id:
            jurisdiction = known.get(data["jurisdiction"])
        else:
            errors.append(("jurisdiction", f"must be one of: {', '.join(known.by_id)}"))
    if errors:
        raise SnapshotError(errors)
    return Snapshot(
        as_of=now,
        tz=tz,
        medications=tuple(meds),
        conditions=tuple(conditions),
        symptoms=tuple(symptoms),
        products=tuple(products),
        doses=tuple(doses),
        responses=tuple(responses),
        plan=plan,
        year_of_birth=yob,
        measurements=measurements,
        screens=screens,
        jurisdiction=jurisdiction,
    )


def _results(
    raw_results: Sequence[Any], now: datetime, errors: list[tuple[str, str]]
) -> tuple[tuple[Measurement, ...], tuple[ScreenResult, ...]]:
    """Results as the app checks them: a value with one of its analyte's units (never
    assumed) within its plausible range, or a drug-screen item's outcome; a sample time
    with a UTC offset, not in the future."""
    measurements: list[Measurement] = []
    screens: list[ScreenResult] = []
    for i, raw in enumerate(raw_results):
        path = f"results[{i}]"
        if not isinstance(raw, dict) or ("analyte" in raw) == ("item" in raw):
            errors.append((path, 'must be an object with "analyte" (a value) or "item" (a screen)'))
            continue
        taken = _time(raw.get("taken_at"), f"{path}.taken_at", errors)
        if taken is not None and taken > now:
            errors.append((f"{path}.taken_at", "is in the future"))
            taken = None
        try:
            if "analyte" in raw:
                checked = check_value(
                    raw["analyte"],
                    raw.get("value"),
                    raw.get("unit"),
                    upper_limit=raw.get("upper_limit"),
                )
                if taken is not None:
                    measurements.append(
                        Measurement(str(raw["analyte"]), taken, checked.value, checked.upper_limit)
                    )
            else:
                outcome = check_screen(raw["item"], raw.get("outcome"))
                specimen = raw.get("specimen", "urine")
                if specimen not in SPECIMENS:
                    errors.append((f"{path}.specimen", f"must be one of: {', '.join(SPECIMENS)}"))
                elif taken is not None and outcome != NOT_TESTED:
                    screens.append(ScreenResult(str(raw["item"]), taken, outcome, specimen))
        except ResultRejected as exc:
            errors.extend((f"{path}.{field.rsplit('.', 1)[-1]}", m) for field, m in exc.errors)
    return tuple(measurements), tuple(screens)


def _dose(
    raw: Mapping[str, Any],
    product: ProductUse,
    path: str,
    now: datetime,
    errors: list[tuple[str, str]],
) -> DoseTaken | None:
    """The dose checked as the app checks one entered by hand (:func:`check_dose`): the
    unit fits the product, the amount is plausible, the time is not in the future.
    Unusual values must be confirmed by listing their codes in ``confirm``, as in the API."""
    confirm = raw.get("confirm", [])
    if not isinstance(confirm, list) or not all(isinstance(c, str) for c in confirm):
        errors.append((f"{path}.confirm", "must be a list of confirmation codes"))
        return None
    try:
        checked = check_dose(
            amount=raw.get("amount"),
            unit=raw.get("unit"),
            taken_at=raw.get("taken_at"),
            product=product.spec,
            now=now,
            confirmed=confirm,
        )
    except DoseRejected as exc:
        errors.extend((f"{path}.{e.field}", e.message) for e in exc.errors)
        return None
    pending = checked.needs_confirmation()
    if pending:
        errors.extend(
            (
                f"{path}.{c.field}",
                f"{c.message} To screen it as entered, add {c.code!r} to the "
                'dose\'s "confirm" list.',
            )
            for c in pending
        )
        return None
    quantity = checked.quantity
    return DoseTaken(
        checked.taken_at, quantity.amount, quantity.unit.value, product.name, checked.exposure
    )


def _plan(raw: Any, errors: list[tuple[str, str]]) -> PlanLimits | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.append(("plan", "must be an object"))
        return None
    values: dict[str, Any] = {}
    for key in (
        "max_single_dose_g",
        "max_daily_dose_g",
        "min_hours_between",
        "max_weekly_increase_pct",
    ):
        if raw.get(key) is not None:
            try:
                value = Decimal(str(raw[key]))
            except InvalidOperation:
                value = Decimal("NaN")
            if not value.is_finite() or value <= 0:
                errors.append((f"plan.{key}", "must be a number above 0"))
                continue
            values[key] = value
    count = raw.get("max_doses_per_day")
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            errors.append(("plan.max_doses_per_day", "must be a whole number of 1 or more"))
        else:
            values["max_doses_per_day"] = count
    if raw.get("approved_at") is not None:
        values["starts_at"] = _time(raw["approved_at"], "plan.approved_at", errors)
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors.append(("plan.version", "must be a whole number of 1 or more"))
        version = 1
    return PlanLimits(version=version, **values)
