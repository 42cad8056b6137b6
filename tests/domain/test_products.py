from decimal import Decimal as D

import pytest

from kratomwatch.domain.doses import default_limits
from kratomwatch.domain.products import (
    FORM_LABELS,
    HighRiskThresholds,
    ProductForm,
    ProductSpec,
    mg_per_g_to_percent,
    parse_mg_per_g,
    percent_to_mg_per_g,
)


def test_form_values_are_the_published_ones():
    assert [f.value for f in ProductForm] == [
        "leaf_powder",
        "crushed_leaf",
        "capsule",
        "tablet",
        "tea_liquid",
        "extract",
        "seven_oh",
        "enhanced",
        "topical",
        "other",
    ]


def test_every_form_has_a_label():
    assert set(FORM_LABELS) == set(ProductForm)
    assert all(label.strip() for label in FORM_LABELS.values())


@pytest.mark.parametrize(
    ("percent", "mg_per_g"),
    [(D("1"), D("10")), (D("1.95"), D("19.5")), (D("0.035"), D("0.35")), (D("0"), D("0"))],
)
def test_percent_converts_exactly(percent, mg_per_g):
    assert percent_to_mg_per_g(percent) == mg_per_g
    assert mg_per_g_to_percent(mg_per_g) == percent


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("1.95", "%", D("19.5")),
        (D("2"), "% w/w", D("20")),
        ("19.5", "mg/g", D("19.5")),
        (20, " MG/G ", D("20")),
        ("0", "mg/g", D("0")),
    ],
)
def test_parse_mg_per_g(value, unit, expected):
    assert parse_mg_per_g(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "unit", "fragment"),
    [
        ("1,5", "%", "ambiguous"),
        ("-1", "mg/g", "0 or more"),
        ("NaN", "mg/g", "plain decimal"),
        (True, "mg/g", "number"),
        (None, "mg/g", "number"),
        (1.5, "mg/g", "Decimal"),
        ("abc", "mg/g", "plain decimal"),
        ("1e3", "mg/g", "plain decimal"),
        (D("Infinity"), "mg/g", "finite"),
        ("2", "mg", "unit"),
        ("101", "%", "1000 mg/g"),
    ],
)
def test_parse_mg_per_g_rejects(value, unit, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_mg_per_g(value, unit)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"mitragynine_mg_per_g": 19.5}, "must be a Decimal"),
        ({"mitragynine_mg_per_g": D("-1")}, "0 or more"),
        ({"mitragynine_mg_per_g": D("NaN")}, "finite"),
        ({"unit_material_mg": D("0")}, "greater than 0"),
        ({"leaf_g_per_ml": D("0")}, "greater than 0"),
        ({"extract_ratio": D("0")}, "greater than 0"),
        ({"mitragynine_mg_per_g": D(0.1)}, "significant digits"),
        ({"mitragynine_mg_per_g": D("900"), "hydroxymitragynine_mg_per_g": D("200")}, "1000"),
        ({"unit_material_mg": D("500"), "mitragynine_mg_per_unit": D("600")}, "material mass"),
    ],
)
def test_product_spec_rejects_impossible_values(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        ProductSpec(ProductForm.LEAF_POWDER, **kwargs)


def test_product_spec_accepts_zero_alkaloid_and_coerces_form_text():
    spec = ProductSpec("capsule", hydroxymitragynine_mg_per_g=D("0"))  # type: ignore[arg-type]
    assert spec.form is ProductForm.CAPSULE
    assert spec.mitragynine_mg_per_g is None  # unknown stays unknown


def test_high_risk_thresholds_come_from_the_limits_file():
    assert default_limits().high_risk == HighRiskThresholds(
        mg_per_g=D("10"), mg_per_unit=D("5"), mg_per_ml=D("1"), share=D("0.1")
    )


@pytest.mark.parametrize("form", [ProductForm.SEVEN_OH, ProductForm.ENHANCED])
def test_seven_oh_and_enhanced_forms_are_always_high_risk(form):
    spec = ProductSpec(form)
    assert spec.high_risk
    assert spec.high_risk_reasons() == (f"form:{form.value}",)


@pytest.mark.parametrize(
    ("kwargs", "reasons"),
    [
        ({}, ()),
        ({"mitragynine_mg_per_g": D("19.5"), "hydroxymitragynine_mg_per_g": D("0.3")}, ()),
        ({"hydroxymitragynine_mg_per_g": D("9.999")}, ()),
        ({"hydroxymitragynine_mg_per_g": D("10")}, ("7oh_mg_per_g",)),
        (
            {"hydroxymitragynine_mg_per_g": D("22"), "mitragynine_mg_per_g": D("6")},
            ("7oh_mg_per_g", "7oh_share"),
        ),
        ({"hydroxymitragynine_mg_per_unit": D("4.9")}, ()),
        ({"hydroxymitragynine_mg_per_unit": D("5")}, ("7oh_mg_per_unit",)),
        ({"hydroxymitragynine_mg_per_ml": D("1")}, ("7oh_mg_per_ml",)),
        ({"hydroxymitragynine_mg_per_ml": D("0.999")}, ()),
        # 3 / (20 + 3) = 13 %: concentrated relative to mitragynine though small in mg/g
        ({"mitragynine_mg_per_g": D("20"), "hydroxymitragynine_mg_per_g": D("3")}, ("7oh_share",)),
        # exactly 10 % is "at or above"
        (
            {"mitragynine_mg_per_ml": D("0.9"), "hydroxymitragynine_mg_per_ml": D("0.1")},
            ("7oh_share",),
        ),
        ({"mitragynine_mg_per_ml": D("0.91"), "hydroxymitragynine_mg_per_ml": D("0.1")}, ()),
        ({"mitragynine_mg_per_g": D("0"), "hydroxymitragynine_mg_per_g": D("0")}, ()),
    ],
)
def test_high_risk_from_known_seven_oh_content(kwargs, reasons):
    spec = ProductSpec(ProductForm.EXTRACT, **kwargs)
    assert spec.high_risk_reasons() == reasons
    assert spec.high_risk is bool(reasons)


def test_high_risk_with_explicit_thresholds():
    strict = HighRiskThresholds(
        mg_per_g=D("1"), mg_per_unit=D("1"), mg_per_ml=D("1"), share=D("0.5")
    )
    spec = ProductSpec(ProductForm.LEAF_POWDER, hydroxymitragynine_mg_per_g=D("2"))
    assert spec.high_risk_reasons(strict) == ("7oh_mg_per_g",)
    assert not spec.high_risk
