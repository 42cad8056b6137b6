"""Product forms, what is known about a product's potency, and the limits file.

All potency values are ``Decimal`` and optional: ``None`` means *unknown* and is never
replaced by a typical value. Concentrations are per gram of product material (mg/g);
a label in percent weight-for-weight is converted when it is parsed (1 % = 10 mg/g).

Whether a product counts as *high risk* (concentrated 7-hydroxymitragynine) is decided
by thresholds kept with the dose plausibility limits in ``data/dose_limits.yaml``,
which this module loads (``default_limits``) for itself and for ``doses``. See
``docs/doses.md``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

__all__ = [
    "EXACT",
    "FORM_LABELS",
    "HIGH_RISK_FORMS",
    "DoseLimits",
    "DoseLimitsError",
    "HighRiskThresholds",
    "Limit",
    "ProductForm",
    "ProductSpec",
    "default_limits",
    "format_decimal",
    "load_dose_limits",
    "mg_per_g_to_percent",
    "parse_mg_per_g",
    "percent_to_mg_per_g",
    "render_limits_markdown",
    "tidy_decimal",
]

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_THOUSAND = Decimal(1000)
# Bound on significant digits of a potency value. It keeps every later product exact
# and rejects binary-float artefacts such as Decimal(0.1) (55 digits).
_MAX_DIGITS = 20

#: Arithmetic context for potency and exposure sums: wide enough never to round for
#: the bounded inputs accepted here, and it raises ``decimal.Inexact`` rather than round.
EXACT = Context(prec=200, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


class ProductForm(StrEnum):
    LEAF_POWDER = "leaf_powder"
    CRUSHED_LEAF = "crushed_leaf"
    CAPSULE = "capsule"  # capsules filled with leaf powder
    TABLET = "tablet"  # tablets pressed from leaf powder
    TEA_LIQUID = "tea_liquid"
    EXTRACT = "extract"
    SEVEN_OH = "seven_oh"
    ENHANCED = "enhanced"
    TOPICAL = "topical"
    OTHER = "other"


FORM_LABELS: Mapping[ProductForm, str] = MappingProxyType(
    {
        ProductForm.LEAF_POWDER: "Leaf powder",
        ProductForm.CRUSHED_LEAF: "Crushed leaf",
        ProductForm.CAPSULE: "Capsules (leaf powder)",
        ProductForm.TABLET: "Tablets (leaf powder)",
        ProductForm.TEA_LIQUID: "Tea or liquid",
        ProductForm.EXTRACT: "Extract",
        ProductForm.SEVEN_OH: "7-OH product (7-hydroxymitragynine)",
        ProductForm.ENHANCED: "Enhanced or fortified product",
        ProductForm.TOPICAL: "Topical (applied to the skin)",
        ProductForm.OTHER: "Other",
    }
)

#: Forms that are high risk whatever their measured content.
HIGH_RISK_FORMS: frozenset[ProductForm] = frozenset({ProductForm.SEVEN_OH, ProductForm.ENHANCED})


@dataclass(frozen=True)
class HighRiskThresholds:
    """When known 7-OH content makes a product high risk (values from dose_limits.yaml)."""

    mg_per_g: Decimal  # 7-OH per gram of material, at or above
    mg_per_unit: Decimal  # 7-OH per capsule/tablet, at or above
    mg_per_ml: Decimal  # 7-OH per ml, at or above
    share: Decimal  # 7-OH / (mitragynine + 7-OH) on the same basis, at or above


def percent_to_mg_per_g(p: Decimal) -> Decimal:
    """Convert % w/w to mg/g, exactly: 1 % = 10 mg/g."""
    return p.scaleb(1, EXACT)


def mg_per_g_to_percent(mg_per_g: Decimal) -> Decimal:
    """Convert mg/g to % w/w, exactly: 10 mg/g = 1 %."""
    return mg_per_g.scaleb(-1, EXACT)


def parse_mg_per_g(value: object, unit: str) -> Decimal:
    """Parse an alkaloid content given as ``"mg/g"`` or ``"%"`` (w/w) into mg/g.

    Accepts ``Decimal``, ``int`` or a plain decimal string with a dot. A comma is
    rejected rather than guessed ("1,5" could mean 1.5 or 15). Raises ``ValueError``.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("alkaloid content must be a number")
    if isinstance(value, str):
        text = value.strip()
        if "," in text:
            raise ValueError("use a dot as the decimal separator: '1,5' is ambiguous")
        if not _PLAIN_NUMBER.fullmatch(text):
            raise ValueError(f"alkaloid content {value!r} is not a plain decimal number")
        number = Decimal(text)
    elif isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        raise ValueError("alkaloid content must be a Decimal, an int or a decimal string")
    if not number.is_finite() or number < 0:
        raise ValueError("alkaloid content must be a finite number, 0 or more")
    unit_text = unit.strip().lower()
    if unit_text in ("%", "percent", "% w/w"):
        result = percent_to_mg_per_g(number)
    elif unit_text == "mg/g":
        result = number
    else:
        raise ValueError("alkaloid content unit must be 'mg/g' or '%' (w/w)")
    if result > _THOUSAND:
        raise ValueError("alkaloid content cannot exceed 1000 mg/g (100 %)")
    return result


def _total(values: tuple[Decimal | None, ...]) -> Decimal:
    result = Decimal(0)
    for value in values:
        if value is not None:
            result = EXACT.add(result, value)
    return result


# Fields that must be > 0 when given (a size or a ratio of zero means nothing).
_POSITIVE = frozenset({"unit_material_mg", "leaf_g_per_ml", "extract_ratio"})


@dataclass(frozen=True)
class ProductSpec:
    """A product's form and whatever is known of its potency (``None`` = unknown).

    A per-unit value given directly (``*_mg_per_unit``) takes precedence over one derived
    from ``unit_material_mg`` and a per-gram content.
    """

    form: ProductForm
    mitragynine_mg_per_g: Decimal | None = None
    hydroxymitragynine_mg_per_g: Decimal | None = None
    unit_material_mg: Decimal | None = None
    mitragynine_mg_per_unit: Decimal | None = None
    hydroxymitragynine_mg_per_unit: Decimal | None = None
    leaf_g_per_ml: Decimal | None = None
    mitragynine_mg_per_ml: Decimal | None = None
    hydroxymitragynine_mg_per_ml: Decimal | None = None
    extract_ratio: Decimal | None = None  # "10:1" -> 10; a marketing claim, not used in sums

    def __post_init__(self) -> None:
        if not isinstance(self.form, ProductForm):
            object.__setattr__(self, "form", ProductForm(self.form))
        for f in fields(self):
            if f.name == "form":
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            if not isinstance(value, Decimal) or isinstance(value, bool):
                raise ValueError(f"{f.name} must be a Decimal or None, not {type(value).__name__}")
            if not value.is_finite():
                raise ValueError(f"{f.name} must be finite")
            if value < 0 or (f.name in _POSITIVE and value == 0):
                bound = "greater than 0" if f.name in _POSITIVE else "0 or more"
                raise ValueError(f"{f.name} must be {bound}")
            if len(value.as_tuple().digits) > _MAX_DIGITS:
                raise ValueError(
                    f"{f.name} has more than {_MAX_DIGITS} significant digits; "
                    "build it from a string, e.g. Decimal('0.1'), not from a float"
                )
        self._check_physical()

    @property
    def hydroxymitragynine_known(self) -> bool:
        """Whether any 7-OH content is recorded (per gram, unit or millilitre)."""
        return any(
            v is not None
            for v in (
                self.hydroxymitragynine_mg_per_g,
                self.hydroxymitragynine_mg_per_unit,
                self.hydroxymitragynine_mg_per_ml,
            )
        )

    @property
    def content_known(self) -> bool:
        """Whether any mitragynine or 7-OH content is recorded."""
        return self.hydroxymitragynine_known or any(
            v is not None
            for v in (
                self.mitragynine_mg_per_g,
                self.mitragynine_mg_per_unit,
                self.mitragynine_mg_per_ml,
            )
        )

    def _check_physical(self) -> None:
        per_g = (self.mitragynine_mg_per_g, self.hydroxymitragynine_mg_per_g)
        if _total(per_g) > _THOUSAND:
            raise ValueError("alkaloid content per gram cannot exceed 1000 mg/g in total")
        if self.unit_material_mg is not None:
            per_unit = (self.mitragynine_mg_per_unit, self.hydroxymitragynine_mg_per_unit)
            if _total(per_unit) > self.unit_material_mg:
                raise ValueError("alkaloid per unit cannot exceed the unit's material mass")

    def high_risk_reasons(self, thresholds: HighRiskThresholds | None = None) -> tuple[str, ...]:
        """Why this product is high risk; empty when it is not (or not known to be).

        Default thresholds are read from ``data/dose_limits.yaml`` (``high_risk_7oh``).
        """
        if thresholds is None:
            thresholds = default_limits().high_risk
        reasons: list[str] = []
        if self.form in HIGH_RISK_FORMS:
            reasons.append(f"form:{self.form.value}")
        checks = (
            ("mg_per_g", self.hydroxymitragynine_mg_per_g, self.mitragynine_mg_per_g),
            ("mg_per_unit", self.hydroxymitragynine_mg_per_unit, self.mitragynine_mg_per_unit),
            ("mg_per_ml", self.hydroxymitragynine_mg_per_ml, self.mitragynine_mg_per_ml),
        )
        share_hit = False
        for basis, seven_oh, mitragynine in checks:
            if seven_oh is None:
                continue
            if seven_oh >= getattr(thresholds, basis):
                reasons.append(f"7oh_{basis}")
            if mitragynine is None:
                continue
            # Share only when both are known; compared by multiplication, so exactly.
            total = EXACT.add(seven_oh, mitragynine)
            if total > 0 and seven_oh >= EXACT.multiply(thresholds.share, total):
                share_hit = True
        if share_hit:
            reasons.append("7oh_share")
        return tuple(reasons)

    @property
    def high_risk(self) -> bool:
        """True for 7-OH and enhanced forms, and for any product with concentrated 7-OH.

        "Concentrated" means known 7-OH content at or above any of the thresholds in
        ``dose_limits.yaml`` (``high_risk_7oh``: per gram, per unit, per ml, or as a
        share of mitragynine + 7-OH); their rationale and references are in that file
        and in ``docs/doses.md``.
        """
        return bool(self.high_risk_reasons())


def tidy_decimal(d: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (1.500 -> 1.5, 10 -> 10)."""
    n = d.normalize(EXACT)
    exponent = n.as_tuple().exponent
    whole = isinstance(exponent, int) and exponent > 0
    return n.quantize(Decimal(1), context=EXACT) if whole else n


def format_decimal(d: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal('50.00') -> '50'."""
    return format(tidy_decimal(d), "f")


# --------------------------------------------------------------------------- limits file


class DoseLimitsError(ValueError):
    """The limits file is malformed or cites a reference the registry does not hold."""


@dataclass(frozen=True)
class Limit:
    id: str  # dotted path in dose_limits.yaml, e.g. "forms.leaf_powder.mass.max"
    value: Decimal
    unit: str
    rationale: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class DoseLimits:
    disclaimer: str
    references: Mapping[str, str]  # citation of each registry id the limits cite
    limits: Mapping[str, Limit]

    def get(self, limit_id: str) -> Limit | None:
        return self.limits.get(limit_id)

    def value(self, limit_id: str) -> Decimal:
        return self.limits[limit_id].value

    @property
    def high_risk(self) -> HighRiskThresholds:
        v = self.value
        return HighRiskThresholds(
            mg_per_g=v("high_risk_7oh.mg_per_g"),
            mg_per_unit=v("high_risk_7oh.mg_per_unit"),
            mg_per_ml=v("high_risk_7oh.mg_per_ml"),
            share=v("high_risk_7oh.share"),
        )


def _data_dir() -> Traversable:
    return resources.files("kratomwatch") / "data"


def _flatten(node: Any, path: str, out: dict[str, Limit]) -> None:
    if "rationale" in node:
        out[path] = Limit(
            id=path,
            value=Decimal(str(node["value"])),
            unit=node["unit"],
            rationale=" ".join(node["rationale"].split()),
            references=tuple(node.get("references", ())),
        )
        return
    for key, child in node.items():
        _flatten(child, f"{path}.{key}", out)


_ID_LABELS = (("pmid", "PMID "), ("pmcid", ""), ("doi", "doi:"), ("url", ""))


def _registry() -> dict[str, str]:
    """Citations of the project's reference registry (knowledge/references.yaml), by id."""
    raw = yaml.safe_load((_data_dir() / "knowledge" / "references.yaml").read_text("utf-8"))
    cited: dict[str, str] = {}
    for entry in raw["references"]:
        ids = [f"{label}{entry[key]}" for key, label in _ID_LABELS if entry.get(key)]
        cited[entry["id"]] = " ".join([str(entry["citation"]).strip(), *ids])
    return cited


def load_dose_limits(text: str | None = None) -> DoseLimits:
    """Load and validate limits: the shipped file, or YAML ``text`` (used by tests)."""
    if text is None:
        text = (_data_dir() / "dose_limits.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    schema = json.loads(
        (_data_dir() / "schemas" / "dose_limits.schema.json").read_text(encoding="utf-8")
    )
    try:
        jsonschema.validate(raw, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise DoseLimitsError(f"dose limits at {where}: {exc.message}") from exc
    limits: dict[str, Limit] = {}
    for section in ("input", "timestamp", "unit_steps", "exposure", "forms", "high_risk_7oh"):
        _flatten(raw[section], section, limits)
    registry = _registry()
    cited = sorted({r for limit in limits.values() for r in limit.references})
    unknown = [r for r in cited if r not in registry]
    if unknown:
        raise DoseLimitsError(f"unknown reference(s) {unknown}: not in knowledge/references.yaml")
    return DoseLimits(
        disclaimer=" ".join(raw["disclaimer"].split()),
        references=MappingProxyType({r: " ".join(registry[r].split()) for r in cited}),
        limits=MappingProxyType(limits),
    )


@functools.cache
def default_limits() -> DoseLimits:
    """The shipped limits, loaded once."""
    return load_dose_limits()


def _kind(limit_id: str) -> str:
    if limit_id.endswith(".confirm_above"):
        return "confirm above"
    if limit_id.endswith(".mg_entry_confirm_below"):
        return "confirm below"
    if limit_id.startswith("high_risk_7oh."):
        return "high risk at or above"
    if limit_id.startswith("unit_steps."):
        return "count step"
    if limit_id == "timestamp.future_tolerance":
        return "reject beyond now +"
    return "reject above"


def render_limits_markdown(limits: DoseLimits) -> str:
    """The limits table of docs/doses.md, generated from the limits file."""
    rows = [
        "| id | rule | value | unit | rationale | references |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for limit in limits.limits.values():
        refs = ", ".join(limit.references) or "none"
        rationale = limit.rationale.replace("|", "\\|")
        rows.append(
            f"| `{limit.id}` | {_kind(limit.id)} | {format_decimal(limit.value)} | {limit.unit} "
            f"| {rationale} | {refs} |"
        )
    notes = [f"- **{key}**: {text}" for key, text in limits.references.items()]
    return "\n".join([*rows, "", "References:", "", *notes]) + "\n"
