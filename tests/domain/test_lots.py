"""Lot figures: explicit units, the lot's figures in a dose's exposure, and lot concerns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kratomwatch.domain.doses import Quantity, Unit, normalize
from kratomwatch.domain.lots import (
    JurisdictionsError,
    LotFigures,
    default_jurisdictions,
    load_jurisdictions,
    lot_concerns,
    lot_figures,
    seven_oh_share,
    spec_for_lot,
)
from kratomwatch.domain.products import ProductForm, ProductSpec

D = Decimal
OK = default_jurisdictions().get("us_ok")
NONE = default_jurisdictions().get("none")


def codes(figures: LotFigures, jurisdiction: object = OK) -> list[str]:
    return [c.code for c in lot_concerns(figures, jurisdiction)]  # type: ignore[arg-type]


def test_percent_is_converted_to_mg_per_g_exactly() -> None:
    f = lot_figures("1.5", "0.02", "2", unit="%")
    assert f == LotFigures(D("15"), D("0.2"), D("20"))
    assert lot_figures("15", "", None, unit="mg/g") == LotFigures(D("15"), None, None)


@pytest.mark.parametrize(
    ("value", "unit"), [("1,5", "%"), ("abc", "mg/g"), ("-1", "mg/g"), ("101", "%"), ("1", "g")]
)
def test_bad_numbers_and_units_are_refused_not_guessed(value: str, unit: str) -> None:
    with pytest.raises(ValueError):
        lot_figures(value, unit=unit)


def test_total_alkaloids_cannot_be_below_the_named_ones() -> None:
    with pytest.raises(ValueError):
        LotFigures(D("15"), D("1"), D("10"))


def test_a_dose_of_a_lot_uses_the_lots_figures() -> None:
    product = ProductSpec(ProductForm.LEAF_POWDER, mitragynine_mg_per_g=D("15"))
    lot = spec_for_lot(product, LotFigures(D("12"), D("0.3")))
    exposure = normalize(Quantity(D("4"), Unit.G), lot)
    assert exposure.mitragynine_mg == D("48")
    assert exposure.hydroxymitragynine_mg == D("1.2")
    # Without the lot's figures, the product's.
    assert normalize(Quantity(D("4"), Unit.G), spec_for_lot(product, None)).mitragynine_mg == D(
        "60"
    )
    assert spec_for_lot(product, LotFigures()) is product


def test_a_lots_figures_replace_typed_per_capsule_values() -> None:
    product = ProductSpec(
        ProductForm.CAPSULE,
        unit_material_mg=D("500"),
        mitragynine_mg_per_unit=D("9"),
        hydroxymitragynine_mg_per_unit=D("0.1"),
    )
    lot = spec_for_lot(product, LotFigures(D("20"), None))
    exposure = normalize(Quantity(D("2"), Unit.CAPSULE), lot)
    assert exposure.mitragynine_mg == D("20")  # 2 x 500 mg x 20 mg/g
    # Not given by the lot: unknown for this lot (the product's figure is another lot's).
    assert exposure.hydroxymitragynine_mg is None


def test_a_lot_and_its_products_figures_are_never_mixed_past_a_gram() -> None:
    """A product typed as 980 mg/g 7-OH and a lot with 30 mg/g mitragynine: the lot's
    figures replace the product's, so a dose of it is worked out, not refused with an error."""
    product = ProductSpec(ProductForm.SEVEN_OH, hydroxymitragynine_mg_per_g=D("980"))
    lot = spec_for_lot(product, LotFigures(D("30"), None))
    assert (lot.mitragynine_mg_per_g, lot.hydroxymitragynine_mg_per_g) == (D("30"), None)


def test_figures_finer_than_what_is_kept_are_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        lot_figures("0.00015", None, None, unit="mg/g")
    with pytest.raises(ValueError, match="decimal places"):
        lot_figures("0.000015", None, None, unit="%")  # 0.00015 mg/g
    assert lot_figures("0.0001", None, None, unit="mg/g").mitragynine_mg_per_g == D("0.0001")


def test_share_on_total_alkaloids_or_an_upper_bound() -> None:
    assert seven_oh_share(LotFigures(D("15"), D("0.2"), D("20"))) == (D("0.01"), "total_alkaloids")
    share, basis = seven_oh_share(LotFigures(D("9"), D("1"))) or (None, "")
    assert share == D("0.1") and basis == "mitragynine_and_7oh"
    assert seven_oh_share(LotFigures(D("15"), None)) is None
    assert seven_oh_share(LotFigures(D("0"), D("0"))) is None


def test_the_cap_is_exceeded_only_above_it() -> None:
    at_cap = LotFigures(D("15"), D("0.2"), D("20"))  # exactly 1 %
    assert codes(at_cap) == []
    above = LotFigures(D("15"), D("0.201"), D("20"))
    assert codes(above) == ["over_cap"]
    assert codes(above, NONE) == []
    assert codes(above, None) == []


def test_a_share_of_mitragynine_and_7oh_only_cannot_say_a_lot_is_over_the_cap() -> None:
    """A typical leaf lot is above 1 % of mitragynine + 7-OH; the share of all alkaloids is
    lower by an unknown amount, so it needs the total: a note, never "over the cap"."""
    (concern,) = lot_concerns(LotFigures(D("15"), D("0.2")), OK)
    assert concern.code == "cap_unverifiable" and concern.severity == "low"
    assert "total alkaloid figure" in concern.detail
    assert concern.references == ("ok_kcpa",)
    # 7-OH over 1 % of a whole gram is over the cap whatever the other alkaloids.
    (over,) = [c for c in lot_concerns(LotFigures(D("5"), D("10.5")), OK) if c.code == "over_cap"]
    assert over.severity == "moderate" and "at least 1.05 %" in over.detail
    assert codes(LotFigures(D("5"), D("10"))) == ["cap_unverifiable", "semisynthetic_share"]


def test_a_semi_synthetic_share_is_found_in_any_jurisdiction() -> None:
    semi = LotFigures(D("3"), D("40"))
    assert codes(semi, NONE) == ["semisynthetic_share"]
    assert codes(semi) == ["over_cap", "semisynthetic_share"]
    (concern,) = lot_concerns(semi, NONE)
    assert concern.severity == "high" and set(concern.references) == {"smith2024", "brown2025"}
    # 10 % of mitragynine + 7-OH is the threshold, inclusive.
    assert codes(LotFigures(D("9"), D("1")), NONE) == ["semisynthetic_share"]
    assert codes(LotFigures(D("9.001"), D("1")), NONE) == []
    # Leaf-like: 7-OH about 1 % of mitragynine.
    assert codes(LotFigures(D("15"), D("0.15")), NONE) == []


def test_a_lot_without_figures_gets_a_note_where_there_is_a_cap() -> None:
    assert codes(LotFigures()) == ["cap_unverifiable"]
    assert [c.severity for c in lot_concerns(LotFigures(), OK)] == ["low"]
    assert codes(LotFigures(), NONE) == []


def test_the_shipped_jurisdictions_cite_registered_references() -> None:
    ok = default_jurisdictions().get("us_ok")
    assert ok.seven_oh_cap_share == D("0.01") and ok.references == ("ok_kcpa",)
    assert default_jurisdictions().get("nowhere").id == "none"


def test_a_rule_without_a_reference_is_refused() -> None:
    text = """
version: 2026.1.0
jurisdictions:
- {id: none, name: None chosen, seven_oh_cap_share: null, requires_label: false,
   summary: No state rule is applied here at all., references: []}
- {id: us_xx, name: Somewhere, seven_oh_cap_share: 0.02, requires_label: false,
   summary: A cap with nothing to cite for it., references: []}
"""
    with pytest.raises(JurisdictionsError, match="needs a reference"):
        load_jurisdictions(text)
    with pytest.raises(JurisdictionsError, match="unknown reference"):
        load_jurisdictions(text.replace("references: []}\n", "references: [nope]}\n", 2)[::1])


def test_a_json_snapshot_carries_lots_and_the_jurisdiction() -> None:
    from datetime import UTC, datetime

    from kratomwatch.domain.safety import screen
    from kratomwatch.domain.safety.snapshot import SnapshotError, snapshot_from_json

    now = datetime(2026, 12, 1, tzinfo=UTC)
    product = {
        "name": "Gold",
        "form": "leaf_powder",
        "lots": [
            {"lot_number": "A", "mitragynine_mg_per_g": 15, "hydroxymitragynine_mg_per_g": 0.5}
        ],
    }
    snapshot = snapshot_from_json({"products": [product], "jurisdiction": "us_ok"}, now=now)
    assert snapshot.jurisdiction is not None and snapshot.jurisdiction.id == "us_ok"
    codes = {f.code for f in screen(snapshot).findings}
    assert "product.lot_over_jurisdiction_cap" not in codes  # no total alkaloid figure
    assert "product.lot_semisynthetic_7oh" not in codes
    with pytest.raises(SnapshotError) as bad:
        snapshot_from_json(
            {
                "products": [
                    {**product, "lots": [{"lot_number": "A", "mitragynine_mg_per_g": -1}]}
                ],
                "jurisdiction": "atlantis",
            },
            now=now,
        )
    fields = {path for path, _ in bad.value.errors}
    assert fields == {"products[0].lots[0].mitragynine_mg_per_g", "jurisdiction"}
