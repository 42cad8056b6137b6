"""Product lots: a laboratory's alkaloid figures for one lot, and what they show.

A lot's figures come from its certificate of analysis, each with an explicit unit: mg per
gram of product material or percent weight-for-weight (1 % = 10 mg/g), converted exactly by
:func:`lot_figures`; a unit is never guessed. When a dose names a lot with figures, its
exposure is computed from the lot's figures instead of the product's (:func:`spec_for_lot`).

Two checks of a lot (:func:`lot_concerns`):

- its 7-OH share of the alkaloid fraction above the cap of the clinic's jurisdiction
  (``data/knowledge/jurisdictions.yaml``): measured on total alkaloids when the lab gives
  them; with only mitragynine and 7-OH known the share is an upper bound and is reported as
  such;
- a 7-OH share typical of semi-synthetic products, whatever the jurisdiction: the
  ``high_risk_7oh.share`` threshold of ``dose_limits.yaml`` (7-OH at least 10 % of
  mitragynine + 7-OH), the one the product rules use.

A lot without figures in a jurisdiction with a cap gets a note: the cap cannot be checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from importlib import resources
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from .products import EXACT, ProductSpec, default_limits, parse_mg_per_g, tidy_decimal

__all__ = [
    "Jurisdiction",
    "JurisdictionsError",
    "LotConcern",
    "LotFigures",
    "default_jurisdictions",
    "load_jurisdictions",
    "lot_concerns",
    "lot_figures",
    "seven_oh_share",
    "spec_for_lot",
]

_THOUSAND = Decimal(1000)
#: Decimal places a figure in mg/g may have: what is stored (models/lots.py).
MAX_PLACES = 4
#: Shares are shown and compared, never summed: 12 significant digits, rounded.
_ROUNDING = Context(prec=12, traps=[InvalidOperation, DivisionByZero, Overflow])


@dataclass(frozen=True)
class LotFigures:
    """A lot's laboratory figures in mg per gram of material; ``None`` = not given."""

    mitragynine_mg_per_g: Decimal | None = None
    hydroxymitragynine_mg_per_g: Decimal | None = None
    total_alkaloids_mg_per_g: Decimal | None = None

    def __post_init__(self) -> None:
        known = [v for v in self._values() if v is not None]
        for value in known:
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError("lot figures must be finite Decimals of 0 or more")
            if value > _THOUSAND:
                raise ValueError("a lot figure cannot exceed 1000 mg/g (100 %)")
        mit, seven_oh, total = self._values()
        if mit is not None and seven_oh is not None and EXACT.add(mit, seven_oh) > _THOUSAND:
            raise ValueError("mitragynine and 7-OH together cannot exceed 1000 mg/g")
        if total is not None:
            named = sum((v for v in (mit, seven_oh) if v is not None), Decimal(0))
            if named > total:
                raise ValueError(
                    "total alkaloids cannot be less than mitragynine and 7-OH together"
                )

    def _values(self) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        return (
            self.mitragynine_mg_per_g,
            self.hydroxymitragynine_mg_per_g,
            self.total_alkaloids_mg_per_g,
        )

    @property
    def known(self) -> bool:
        """Whether the lab gave mitragynine or 7-OH."""
        return self.mitragynine_mg_per_g is not None or self.hydroxymitragynine_mg_per_g is not None


def lot_figures(
    mitragynine: object = None,
    hydroxymitragynine: object = None,
    total_alkaloids: object = None,
    *,
    unit: str,
) -> LotFigures:
    """Figures read off a certificate, all in ``unit`` ("mg/g" or "%" w/w), as mg/g.

    Empty values (``None`` or blank text) are unknown. Raises ``ValueError`` for a bad
    number or unit (see :func:`kratomwatch.domain.products.parse_mg_per_g`).
    """

    def parse(value: object) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        figure = tidy_decimal(parse_mg_per_g(value, unit))
        exponent = figure.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_PLACES:
            raise ValueError(
                f"at most {MAX_PLACES} decimal places in mg/g ({MAX_PLACES - 1} in %): "
                "the figures are kept to 0.0001 mg/g"
            )
        return figure

    return LotFigures(parse(mitragynine), parse(hydroxymitragynine), parse(total_alkaloids))


def spec_for_lot(spec: ProductSpec, figures: LotFigures | None) -> ProductSpec:
    """The product as the dose's lot has it: when the lab gave figures, the lot's per-gram
    figures replace the product's, both alkaloids (what the lab did not give is unknown for
    this lot: the product's figure describes another lot, and mixing the two could even add
    up to more than a gram holds).

    Per-unit values are derived from per-gram ones when the product records a unit's material
    mass, so those typed for the product are dropped then. Per-ml values (teas) stay the
    product's: a lot's figures per gram of leaf say nothing about a brew's strength.
    """
    if figures is None or not figures.known:
        return spec
    changes: dict[str, Decimal | None] = {
        "mitragynine_mg_per_g": figures.mitragynine_mg_per_g,
        "hydroxymitragynine_mg_per_g": figures.hydroxymitragynine_mg_per_g,
    }
    if spec.unit_material_mg is not None:
        changes["mitragynine_mg_per_unit"] = None
        changes["hydroxymitragynine_mg_per_unit"] = None
    return replace(spec, **changes)  # type: ignore[arg-type]


def seven_oh_share(figures: LotFigures) -> tuple[Decimal, str] | None:
    """7-OH as a share of the alkaloids and its basis: ``"total_alkaloids"`` (exact) or
    ``"mitragynine_and_7oh"`` (an upper bound of the share of all alkaloids); ``None``
    when 7-OH or the denominator is unknown or zero."""
    seven_oh = figures.hydroxymitragynine_mg_per_g
    if seven_oh is None:
        return None
    if figures.total_alkaloids_mg_per_g:
        return _ROUNDING.divide(seven_oh, figures.total_alkaloids_mg_per_g), "total_alkaloids"
    mit = figures.mitragynine_mg_per_g
    if mit is None or EXACT.add(mit, seven_oh) == 0:
        return None
    return _ROUNDING.divide(seven_oh, EXACT.add(mit, seven_oh)), "mitragynine_and_7oh"


# --------------------------------------------------------------------------- jurisdictions


class JurisdictionsError(ValueError):
    """The jurisdictions file is malformed or cites a reference the registry lacks."""


@dataclass(frozen=True)
class Jurisdiction:
    id: str
    name: str
    seven_oh_cap_share: Decimal | None
    requires_label: bool
    summary: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Jurisdictions:
    version: str
    by_id: Mapping[str, Jurisdiction]

    def get(self, jurisdiction_id: str) -> Jurisdiction:
        """The jurisdiction with this id; "none" (no rule) for an unknown or empty id."""
        return self.by_id.get(jurisdiction_id) or self.by_id["none"]

    def choices(self) -> list[tuple[str, str]]:
        return [(j.id, j.name) for j in self.by_id.values()]


def _knowledge(name: str) -> str:
    return (resources.files("kratomwatch") / "data" / "knowledge" / name).read_text("utf-8")


def load_jurisdictions(text: str | None = None) -> Jurisdictions:
    """Load and validate the jurisdictions: the shipped file or YAML ``text`` (tests)."""
    raw: Any = yaml.safe_load(text if text is not None else _knowledge("jurisdictions.yaml"))
    schema = json.loads(
        (
            resources.files("kratomwatch") / "data" / "schemas" / "jurisdictions.schema.json"
        ).read_text("utf-8")
    )
    try:
        jsonschema.validate(raw, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise JurisdictionsError(f"jurisdictions at {where}: {exc.message}") from exc
    registry = {r["id"] for r in yaml.safe_load(_knowledge("references.yaml"))["references"]}
    by_id: dict[str, Jurisdiction] = {}
    for entry in raw["jurisdictions"]:
        if entry["id"] in by_id:
            raise JurisdictionsError(f"jurisdiction {entry['id']!r} is listed twice")
        unknown = [r for r in entry["references"] if r not in registry]
        if unknown:
            raise JurisdictionsError(f"{entry['id']}: unknown reference(s) {unknown}")
        cap = entry["seven_oh_cap_share"]
        if (cap is not None or entry["requires_label"]) and not entry["references"]:
            raise JurisdictionsError(f"{entry['id']}: a rule needs a reference")
        by_id[entry["id"]] = Jurisdiction(
            id=entry["id"],
            name=entry["name"],
            seven_oh_cap_share=None if cap is None else Decimal(str(cap)),
            requires_label=entry["requires_label"],
            summary=" ".join(entry["summary"].split()),
            references=tuple(entry["references"]),
        )
    if "none" not in by_id:
        raise JurisdictionsError('the jurisdiction "none" (no rule) is required')
    return Jurisdictions(version=raw["version"], by_id=MappingProxyType(by_id))


@functools.cache
def default_jurisdictions() -> Jurisdictions:
    return load_jurisdictions()


# --------------------------------------------------------------------------- concerns


@dataclass(frozen=True)
class LotConcern:
    """Something a lot's figures show. ``code`` is internal; ``detail`` is for clinicians."""

    code: str  # "over_cap", "semisynthetic_share" or "cap_unverifiable"
    severity: str  # "high", "moderate" or "low"
    detail: str
    references: tuple[str, ...]
    # The numbers behind it, for pages that word it in the reader's language: the lot's
    # share and the limit in percent, and whether the share is of total alkaloids (else of
    # mitragynine + 7-OH).
    share_percent: str = ""
    limit_percent: str = ""
    of_total: bool = False


def _percent(share: Decimal) -> str:
    return format(
        EXACT.multiply(share, Decimal(100)).quantize(Decimal("0.01"), context=_ROUNDING), "f"
    )


def _at_least_share(figures: LotFigures) -> Decimal:
    """The least share of all alkaloids 7-OH can have: over the most a gram holds."""
    return _ROUNDING.divide(figures.hydroxymitragynine_mg_per_g or Decimal(0), _THOUSAND)


def lot_concerns(
    figures: LotFigures, jurisdiction: Jurisdiction | None = None
) -> tuple[LotConcern, ...]:
    """What a lot's figures show under ``jurisdiction`` (``None``: no jurisdiction)."""
    concerns: list[LotConcern] = []
    share = seven_oh_share(figures)
    cap = jurisdiction.seven_oh_cap_share if jurisdiction is not None else None
    if cap is not None and jurisdiction is not None:
        if share is not None and share[1] == "total_alkaloids":
            if share[0] > cap:
                concerns.append(
                    LotConcern(
                        "over_cap",
                        "moderate",
                        f"7-OH is {_percent(share[0])} % of the alkaloids, above the "
                        f"{_percent(cap)} % that {jurisdiction.name} allows.",
                        jurisdiction.references,
                        share_percent=_percent(share[0]),
                        limit_percent=_percent(cap),
                        of_total=True,
                    )
                )
        elif share is None:
            concerns.append(
                LotConcern(
                    "cap_unverifiable",
                    "low",
                    f"{jurisdiction.name} caps 7-OH at {_percent(cap)} % of the alkaloid "
                    "fraction; this lot's 7-OH and alkaloid figures are not recorded, so "
                    "the cap cannot be checked.",
                    jurisdiction.references,
                    limit_percent=_percent(cap),
                )
            )
        elif _at_least_share(figures) > cap:
            # Without the total, the share of all alkaloids is at least 7-OH over the most a
            # gram can hold (1000 mg): above the cap even then, the lot is over it.
            least = _at_least_share(figures)
            concerns.append(
                LotConcern(
                    "over_cap",
                    "moderate",
                    f"7-OH is at least {_percent(least)} % of the alkaloids (its "
                    f"{figures.hydroxymitragynine_mg_per_g} mg/g of at most 1000 mg of alkaloid "
                    f"in a gram), above the {_percent(cap)} % that {jurisdiction.name} allows.",
                    jurisdiction.references,
                    share_percent=_percent(least),
                    limit_percent=_percent(cap),
                    of_total=False,
                )
            )
        elif share[0] > cap:
            # Of mitragynine + 7-OH only: an upper bound of the share of all alkaloids. A
            # typical leaf lot (15 and 0.2 mg/g) is above 1 % on this basis, so it cannot say
            # the lot is over the cap; without the total, the cap cannot be checked.
            concerns.append(
                LotConcern(
                    "cap_unverifiable",
                    "low",
                    f"7-OH is {_percent(share[0])} % of mitragynine + 7-OH; the share of all "
                    f"alkaloids is lower by an unknown amount, so whether it is above the "
                    f"{_percent(cap)} % that {jurisdiction.name} allows needs the lab's total "
                    "alkaloid figure.",
                    jurisdiction.references,
                    share_percent=_percent(share[0]),
                    limit_percent=_percent(cap),
                )
            )
    seven_oh, mit = figures.hydroxymitragynine_mg_per_g, figures.mitragynine_mg_per_g
    limit = default_limits().get("high_risk_7oh.share")
    if seven_oh is not None and mit is not None and limit is not None:
        total = EXACT.add(seven_oh, mit)
        if total > 0 and seven_oh >= EXACT.multiply(limit.value, total):
            concerns.append(
                LotConcern(
                    "semisynthetic_share",
                    "high",
                    f"7-OH is {_percent(_ROUNDING.divide(seven_oh, total))} % of mitragynine + "
                    f"7-OH, at or above the {_percent(limit.value)} % typical of "
                    "semi-synthetic 7-OH products (leaf: about 1-2 % of total alkaloid "
                    "or below quantification).",
                    limit.references,
                    share_percent=_percent(_ROUNDING.divide(seven_oh, total)),
                    limit_percent=_percent(limit.value),
                )
            )
    return tuple(concerns)
