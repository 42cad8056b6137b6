"""Dose quantities: explicit units, validation, normalization and daily totals.

A dose is an amount with an explicit unit (g or mg of product material, capsules,
tablets, ml). It is normalized to an :class:`Exposure`: grams of leaf-equivalent and mg
of mitragynine and 7-hydroxymitragynine, each ``None`` when it cannot be derived from
what is known of the product. Nothing is ever guessed and nothing is silently
converted: values that look like a mistake but are possible produce a
:class:`Confirmation` that the person has to give explicitly.

All limits live in ``data/dose_limits.yaml``. They are plausibility checks for data
entry, not safety thresholds and not dosing advice. See ``docs/doses.md``.

About 580 lines: units, plausibility limits, normalization and the checks of a dose
entry are the rules of one record and are read together when any of them changes.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from .dose_messages import EXPOSURE_WHAT, TEMPLATES
from .products import EXACT, FORM_LABELS, ProductForm, ProductSpec
from .products import DoseLimits as DoseLimits
from .products import DoseLimitsError as DoseLimitsError
from .products import Limit as Limit
from .products import default_limits as default_limits
from .products import format_decimal as _fmt
from .products import load_dose_limits as load_dose_limits
from .products import render_limits_markdown as render_limits_markdown
from .products import tidy_decimal as _tidy


class Unit(StrEnum):
    G = "g"
    MG = "mg"
    CAPSULE = "capsule"
    TABLET = "tablet"
    ML = "ml"


UNIT_LABELS: Mapping[Unit, str] = MappingProxyType(
    {
        Unit.G: "grams (g) of product",
        Unit.MG: "milligrams (mg) of product",
        Unit.CAPSULE: "capsules",
        Unit.TABLET: "tablets",
        Unit.ML: "millilitres (ml)",
    }
)

_F, _U = ProductForm, Unit
#: Units a dose of each form may be recorded in. g and mg are always mass of product
#: material, never mg of alkaloid. Tea is recorded in ml only: a tea brewed from a
#: weighed amount of leaf and drunk in full is recorded in g against the leaf product.
ALLOWED_UNITS: Mapping[ProductForm, tuple[Unit, ...]] = MappingProxyType(
    {
        _F.LEAF_POWDER: (_U.G, _U.MG),
        _F.CRUSHED_LEAF: (_U.G, _U.MG),
        _F.CAPSULE: (_U.CAPSULE, _U.G, _U.MG),
        _F.TABLET: (_U.TABLET, _U.G, _U.MG),
        _F.TEA_LIQUID: (_U.ML,),
        _F.EXTRACT: (_U.G, _U.MG, _U.ML, _U.CAPSULE, _U.TABLET),
        _F.SEVEN_OH: (_U.TABLET, _U.CAPSULE, _U.MG, _U.G, _U.ML),
        _F.ENHANCED: (_U.G, _U.MG, _U.CAPSULE, _U.TABLET),
        _F.TOPICAL: (_U.G, _U.ML),
        _F.OTHER: (_U.G, _U.MG, _U.CAPSULE, _U.TABLET, _U.ML),
    }
)
#: Forms whose material is leaf, so its mass is the leaf-equivalent.
LEAF_FORMS = frozenset({_F.LEAF_POWDER, _F.CRUSHED_LEAF, _F.CAPSULE, _F.TABLET})
_MEASURE = {_U.G: "mass", _U.MG: "mass", _U.CAPSULE: "count", _U.TABLET: "count", _U.ML: "volume"}
_UNIT_ALIASES = {
    **{a: _U.G for a in ("g", "gram", "grams")},
    **{a: _U.MG for a in ("mg", "milligram", "milligrams")},
    **{a: _U.CAPSULE for a in ("capsule", "capsules", "cap", "caps")},
    **{a: _U.TABLET for a in ("tablet", "tablets", "tab", "tabs")},
    **{a: _U.ML for a in ("ml", "millilitre", "millilitres", "milliliter", "milliliters")},
}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_NOT_FINITE = re.compile(r"[+-]?(nan|snan|inf|infinity)", re.IGNORECASE)
EXPOSURE_FIELDS = ("leaf_equivalent_g", "mitragynine_mg", "hydroxymitragynine_mg")
_EXPOSURE_WHAT = EXPOSURE_WHAT


def mg_to_g(mg: Decimal) -> Decimal:
    return mg.scaleb(-3, EXACT)


def g_to_mg(g: Decimal) -> Decimal:
    return g.scaleb(3, EXACT)


# --------------------------------------------------------------------------- values


Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FieldError:
    """A refused value. ``template`` and ``params``, when set, are what ``message`` was
    written from (kratomwatch.domain.dose_messages), for interfaces in other languages."""

    field: str
    message: str
    code: str
    template: str = ""
    params: Params = ()


@dataclass(frozen=True)
class Confirmation:
    """A suspicious but possible value: the person must confirm it, it is never changed."""

    code: str
    field: str
    message: str
    template: str = ""
    params: Params = ()


def _worded(kind: str, params: Mapping[str, object]) -> tuple[str, str, Params]:
    template = TEMPLATES[kind]
    values = tuple((name, str(value)) for name, value in params.items())
    return template.format(**dict(values)), template, values


def _error(field: str, code: str, kind: str | None = None, **params: object) -> FieldError:
    message, template, values = _worded(kind or code, params)
    return FieldError(field, message, code, template, values)


def _confirm(code: str, field: str, kind: str, **params: object) -> Confirmation:
    message, template, values = _worded(kind, params)
    return Confirmation(code, field, message, template, values)


class DoseRejected(ValueError):
    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


@dataclass(frozen=True)
class Quantity:
    amount: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount <= 0:
            raise ValueError("Quantity.amount must be a finite Decimal greater than 0")
        if not isinstance(self.unit, Unit):
            object.__setattr__(self, "unit", Unit(self.unit))

    def grams(self) -> Decimal | None:
        """Mass in grams for g and mg; ``None`` for counts and volumes."""
        if self.unit is Unit.G:
            return self.amount
        return mg_to_g(self.amount) if self.unit is Unit.MG else None

    def __str__(self) -> str:
        plural = self.unit in (Unit.CAPSULE, Unit.TABLET) and self.amount != 1
        return f"{_fmt(self.amount)} {self.unit.value}{'s' if plural else ''}"


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else EXACT.add(a, b)


def _mul(*factors: Decimal | None) -> Decimal | None:
    result = Decimal(1)
    for f in factors:
        if f is None:
            return None
        result = EXACT.multiply(result, f)
    return _tidy(result)


@dataclass(frozen=True)
class Exposure:
    """Comparable exposure of one dose, or a sum; ``None`` means unknown, never a guess.

    Addition is field-wise and unknown is absorbing: unknown + known = unknown, so a
    total is known only when every dose in it is known. :class:`DayTotal` also keeps
    the count of unknown doses and the subtotal of the known ones.
    """

    leaf_equivalent_g: Decimal | None
    mitragynine_mg: Decimal | None
    hydroxymitragynine_mg: Decimal | None

    @classmethod
    def zero(cls) -> Exposure:
        return cls(Decimal(0), Decimal(0), Decimal(0))

    def __add__(self, other: object) -> Exposure:
        if not isinstance(other, Exposure):
            return NotImplemented
        return Exposure(*(_add(getattr(self, f), getattr(other, f)) for f in EXPOSURE_FIELDS))

    def unknown_fields(self) -> tuple[str, ...]:
        return tuple(f for f in EXPOSURE_FIELDS if getattr(self, f) is None)

    @property
    def is_known(self) -> bool:
        return not self.unknown_fields()


def normalize(quantity: Quantity, product: ProductSpec) -> Exposure:
    """Exact exposure of ``quantity`` of ``product`` (formulas in docs/doses.md)."""
    form, unit, n = product.form, quantity.unit, quantity.amount
    if unit not in ALLOWED_UNITS[form]:
        raise ValueError(f"unit {unit.value} is not allowed for {form.value}")
    if form is ProductForm.TOPICAL:  # not taken by mouth: not comparable with oral doses
        return Exposure(None, None, None)
    p = product
    if _MEASURE[unit] == "mass":
        grams = quantity.grams()
        return Exposure(
            _tidy(grams) if grams is not None and form in LEAF_FORMS else None,
            _mul(grams, p.mitragynine_mg_per_g),
            _mul(grams, p.hydroxymitragynine_mg_per_g),
        )
    if _MEASURE[unit] == "count":
        unit_g = None if p.unit_material_mg is None else mg_to_g(p.unit_material_mg)

        def per_unit(direct: Decimal | None, per_g: Decimal | None) -> Decimal | None:
            return _mul(n, direct) if direct is not None else _mul(n, unit_g, per_g)

        return Exposure(
            _mul(n, unit_g) if form in LEAF_FORMS else None,
            per_unit(p.mitragynine_mg_per_unit, p.mitragynine_mg_per_g),
            per_unit(p.hydroxymitragynine_mg_per_unit, p.hydroxymitragynine_mg_per_g),
        )
    return Exposure(
        _mul(n, p.leaf_g_per_ml) if form is ProductForm.TEA_LIQUID else None,
        _mul(n, p.mitragynine_mg_per_ml),
        _mul(n, p.hydroxymitragynine_mg_per_ml),
    )


# --------------------------------------------------------------------------- parsing


def _parse_amount(value: object, limits: DoseLimits) -> Decimal | FieldError:
    def err(code: str, kind: str | None = None, **params: object) -> FieldError:
        return _error("amount", code, kind, **params)

    if value is None or (isinstance(value, str) and not value.strip()):
        return err("amount_missing")
    if isinstance(value, bool):
        return err("amount_bool")
    if isinstance(value, float):
        if not math.isfinite(value):
            return err("amount_not_finite")
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        if "," in text:
            return err("amount_ambiguous_comma", value=repr(text))
        if _NOT_FINITE.fullmatch(text):
            return err("amount_not_finite")
        if not _NUMBER.fullmatch(text):
            return err("amount_not_numeric", "amount_not_numeric_text", value=repr(text))
        number = Decimal(text)
    elif isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        return err("amount_not_numeric")
    if not number.is_finite():
        return err("amount_not_finite")
    if number <= 0:
        return err("amount_not_positive")
    # Compared and counted exactly before any arithmetic: 1e400 or 300 digits are refused
    # here, never rounded nor left to overflow a calculation.
    biggest = limits.value("input.max_amount")
    if number > biggest:
        return err("amount_too_large", maximum=_fmt(biggest))
    places = limits.value("input.max_decimal_places")
    if _decimal_places(number) > places:
        return err("amount_too_precise", places=_fmt(places))
    return _tidy(number)


def _decimal_places(number: Decimal) -> int:
    """Digits after the decimal point, trailing zeros not counted (2.500 has 1)."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + zeros))


def _parse_unit(value: object) -> Unit | FieldError:
    accepted = ", ".join(u.value for u in Unit)
    if isinstance(value, Unit):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return _error("unit", "unit_missing", accepted=accepted)
    if isinstance(value, str) and value.strip().lower() in _UNIT_ALIASES:
        return _UNIT_ALIASES[value.strip().lower()]
    return _error("unit", "unit_unknown", value=repr(value), accepted=accepted)


def _parse_taken_at(value: object, now: datetime, limits: DoseLimits) -> datetime | FieldError:
    if value is None or (isinstance(value, str) and not value.strip()):
        return _error("taken_at", "taken_at_missing")
    when: datetime | None = None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            when = None
    if when is None:
        return _error("taken_at", "taken_at_invalid")
    if when.tzinfo is None or when.utcoffset() is None:
        return _error("taken_at", "taken_at_naive")
    tolerance = limits.value("timestamp.future_tolerance")
    if when - now > timedelta(minutes=float(tolerance)):
        return _error("taken_at", "taken_at_future", minutes=_fmt(tolerance))
    return when


def parse_quantity(amount: object, unit: object, *, limits: DoseLimits | None = None) -> Quantity:
    """Parse an amount and a unit; raises :class:`DoseRejected` listing both fields' errors."""
    limits = limits or default_limits()
    parsed_amount, parsed_unit = _parse_amount(amount, limits), _parse_unit(unit)
    errors = [x for x in (parsed_amount, parsed_unit) if isinstance(x, FieldError)]
    if errors:
        raise DoseRejected(errors)
    assert isinstance(parsed_amount, Decimal) and isinstance(parsed_unit, Unit)
    return Quantity(parsed_amount, parsed_unit)


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class CheckedDose:
    quantity: Quantity
    taken_at: datetime
    exposure: Exposure
    confirmations: tuple[Confirmation, ...]
    confirmed: frozenset[str] = frozenset()  # codes the caller passed as confirmed

    def needs_confirmation(
        self, confirmed: Iterable[str] | None = None
    ) -> tuple[Confirmation, ...]:
        """The confirmations not yet given (by default, those not in ``self.confirmed``)."""
        given = self.confirmed if confirmed is None else _codes(confirmed)
        return tuple(c for c in self.confirmations if c.code not in given)


def _codes(confirmed: Iterable[str]) -> frozenset[str]:
    return frozenset((confirmed,) if isinstance(confirmed, str) else confirmed)


def _measured(quantity: Quantity) -> tuple[str, Decimal]:
    measure = _MEASURE[quantity.unit]
    grams = quantity.grams()
    return measure, grams if grams is not None else quantity.amount


def _range_text(limit: Decimal, measure: str, unit: Unit) -> str:
    if measure == "mass":
        text = f"{_fmt(limit)} g"
        return f"{text} ({_fmt(g_to_mg(limit))} mg)" if unit is Unit.MG else text
    if measure == "count":
        return f"{_fmt(limit)} {unit.value}{'' if limit == 1 else 's'}"
    return f"{_fmt(limit)} ml"


def _amount_errors(q: Quantity, product: ProductSpec, limits: DoseLimits) -> list[FieldError]:
    form = product.form
    label = FORM_LABELS[form].lower()
    measure, value = _measured(q)
    errors: list[FieldError] = []
    maximum = limits.value(f"forms.{form.value}.{measure}.max")
    if value > maximum:
        errors.append(
            _error(
                "amount",
                "amount_implausible",
                quantity=q,
                form=label,
                maximum=_range_text(maximum, measure, q.unit),
            )
        )
    if measure == "count":
        step = limits.value(f"unit_steps.{q.unit.value}")
        if EXACT.remainder(q.amount, step) != 0:
            errors.append(
                _error(
                    "amount", "amount_step", quantity=q, units=f"{q.unit.value}s", step=_fmt(step)
                )
            )
    return errors


def _exposure_errors(q: Quantity, exposure: Exposure, limits: DoseLimits) -> list[FieldError]:
    errors = []
    for name in EXPOSURE_FIELDS:
        limit, value = limits.get(f"exposure.{name}.max"), getattr(exposure, name)
        if limit is not None and value is not None and value > limit.value:
            errors.append(
                _error(
                    "amount",
                    f"{name}_implausible",
                    "exposure_implausible",
                    quantity=q,
                    value=_fmt(value),
                    unit=limit.unit,
                    what=_EXPOSURE_WHAT[name],
                    limit=_fmt(limit.value),
                )
            )
    return errors


def _confirmations(
    q: Quantity, product: ProductSpec, exposure: Exposure, limits: DoseLimits
) -> tuple[Confirmation, ...]:
    form = product.form
    label = FORM_LABELS[form].lower()
    measure, value = _measured(q)
    found: list[Confirmation] = []
    below = limits.get(f"forms.{form.value}.mass.mg_entry_confirm_below")
    if q.unit is Unit.MG and below is not None and q.amount < below.value:
        found.append(
            _confirm(
                "mg_probably_g",
                "unit",
                "mg_probably_g",
                quantity=q,
                form=label,
                grams=_fmt(mg_to_g(q.amount)),
                amount=_fmt(q.amount),
            )
        )
    high = limits.get(f"forms.{form.value}.{measure}.confirm_above")
    if high is not None and value > high.value:
        found.append(
            _confirm(
                "amount_high",
                "amount",
                "amount_high",
                quantity=q,
                form=label,
                maximum=_range_text(high.value, measure, q.unit),
            )
        )
    for name in EXPOSURE_FIELDS:
        limit, amount = limits.get(f"exposure.{name}.confirm_above"), getattr(exposure, name)
        if limit is not None and amount is not None and amount > limit.value:
            found.append(
                _confirm(
                    f"{name}_high",
                    "amount",
                    "exposure_high",
                    quantity=q,
                    value=_fmt(amount),
                    unit=limit.unit,
                    what=_EXPOSURE_WHAT[name],
                    limit=_fmt(limit.value),
                )
            )
    return tuple(found)


def check_dose(
    *,
    amount: object,
    unit: object,
    taken_at: object,
    product: ProductSpec,
    now: datetime,
    confirmed: Iterable[str] = (),
    limits: DoseLimits | None = None,
) -> CheckedDose:
    """Validate and normalize one dose.

    Raises :class:`DoseRejected` listing every field error at once. The returned dose's
    ``confirmations`` must all be confirmed by the person (see
    :meth:`CheckedDose.needs_confirmation`) before it is stored; values are never
    converted on their behalf.
    """
    limits = limits or default_limits()
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    parsed_amount = _parse_amount(amount, limits)
    parsed_unit = _parse_unit(unit)
    when = _parse_taken_at(taken_at, now, limits)
    errors = [x for x in (parsed_amount, parsed_unit, when) if isinstance(x, FieldError)]
    allowed = ALLOWED_UNITS[product.form]
    if isinstance(parsed_unit, Unit) and parsed_unit not in allowed:
        tea = product.form is ProductForm.TEA_LIQUID
        errors.append(
            _error(
                "unit",
                "unit_not_allowed",
                "unit_not_allowed_tea" if tea else "unit_not_allowed",
                value=parsed_unit.value,
                form=FORM_LABELS[product.form].lower(),
                allowed=" or ".join(u.value for u in allowed),
            )
        )
    exposure: Exposure | None = None
    quantity: Quantity | None = None
    unit_ok = isinstance(parsed_unit, Unit) and parsed_unit in allowed
    if isinstance(parsed_amount, Decimal) and isinstance(parsed_unit, Unit) and unit_ok:
        quantity = Quantity(parsed_amount, parsed_unit)
        amount_errors = _amount_errors(quantity, product, limits)
        if not amount_errors:
            exposure = normalize(quantity, product)
            amount_errors = _exposure_errors(quantity, exposure, limits)
        errors.extend(amount_errors)
    if errors:
        raise DoseRejected(errors)
    assert quantity is not None and exposure is not None and isinstance(when, datetime)
    return CheckedDose(
        quantity=quantity,
        taken_at=when,
        exposure=exposure,
        confirmations=_confirmations(quantity, product, exposure, limits),
        confirmed=_codes(confirmed),
    )


def entry_checks(product: ProductSpec, limits: DoseLimits | None = None) -> dict[str, object]:
    """The part of :func:`check_dose` a phone can apply to a dose of ``product`` with no
    connection: each unit it may be recorded in, with the largest amount accepted for one
    dose and the counting step. Values are strings (exact decimals).

    The rest (limits on the worked-out alkaloid amount, the values to confirm) needs the
    server and is checked when the entry is sent."""
    limits = limits or default_limits()
    units: dict[str, object] = {}
    for unit in ALLOWED_UNITS[product.form]:
        measure = _MEASURE[unit]
        maximum = limits.value(f"forms.{product.form.value}.{measure}.max")
        if unit is Unit.MG:
            maximum = g_to_mg(maximum)
        step = limits.get(f"unit_steps.{unit.value}") if measure == "count" else None
        units[unit.value] = {
            "max": _fmt(maximum),
            "step": None if step is None else _fmt(step.value),
        }
    return units


def entry_input_limits(limits: DoseLimits | None = None) -> dict[str, str]:
    """The input limits every dose entry obeys, for the phone (see :func:`entry_checks`)."""
    limits = limits or default_limits()
    return {
        "max_decimal_places": _fmt(limits.value("input.max_decimal_places")),
        "future_tolerance_min": _fmt(limits.value("timestamp.future_tolerance")),
    }


# --------------------------------------------------------------------------- totals


@dataclass(frozen=True)
class DayTotal:
    """One local day's total. A field is ``None`` when any of that day's doses is unknown
    for it; ``unknown_counts`` says how many, and ``known_subtotal`` sums the known
    values only (a lower bound whenever a count is non-zero)."""

    leaf_equivalent_g: Decimal | None
    mitragynine_mg: Decimal | None
    hydroxymitragynine_mg: Decimal | None
    dose_count: int
    unknown_counts: Mapping[str, int]
    known_subtotal: Exposure


def _day_total(exposures: list[Exposure]) -> DayTotal:
    total, known = Exposure.zero(), Exposure.zero()
    unknown = dict.fromkeys(EXPOSURE_FIELDS, 0)
    for e in exposures:
        total = total + e
        known = known + Exposure(*(getattr(e, f) or Decimal(0) for f in EXPOSURE_FIELDS))
        for name in e.unknown_fields():
            unknown[name] += 1

    def tidy(value: Decimal | None) -> Decimal | None:
        return None if value is None else _tidy(value)

    return DayTotal(
        leaf_equivalent_g=tidy(total.leaf_equivalent_g),
        mitragynine_mg=tidy(total.mitragynine_mg),
        hydroxymitragynine_mg=tidy(total.hydroxymitragynine_mg),
        dose_count=len(exposures),
        unknown_counts=MappingProxyType(unknown),
        known_subtotal=Exposure(*(_tidy(getattr(known, f)) for f in EXPOSURE_FIELDS)),
    )


def daily_totals(doses: Iterable[tuple[datetime, Exposure]], tz: tzinfo) -> dict[date, DayTotal]:
    """Sum exposures per calendar day in the patient's time zone ``tz``.

    Raises ``ValueError`` for a naive datetime: its day would be a guess.
    """
    by_day: dict[date, list[Exposure]] = defaultdict(list)
    for when, exposure in doses:
        if when.utcoffset() is None:
            raise ValueError(f"dose time {when.isoformat()} has no time zone")
        by_day[when.astimezone(tz).date()].append(exposure)
    return {day: _day_total(by_day[day]) for day in sorted(by_day)}


if __name__ == "__main__":  # pragma: no cover - regenerates the table in docs/doses.md
    print(render_limits_markdown(default_limits()), end="")
