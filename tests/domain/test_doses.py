"""Units, parsing, normalization (hand-computed), rejections and confirmations."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kratomwatch.domain.doses import (
    ALLOWED_UNITS,
    UNIT_LABELS,
    DoseRejected,
    Exposure,
    Quantity,
    Unit,
    check_dose,
    daily_totals,
    normalize,
    parse_quantity,
)
from kratomwatch.domain.products import ProductForm as F
from kratomwatch.domain.products import ProductSpec

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEAF = ProductSpec(F.LEAF_POWDER)


def codes(exc: pytest.ExceptionInfo[DoseRejected]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


def dose(amount, unit, product=LEAF, taken_at=NOW, **kwargs):
    return check_dose(
        amount=amount, unit=unit, taken_at=taken_at, product=product, now=NOW, **kwargs
    )


def rejected(amount, unit, product=LEAF, taken_at=NOW):
    with pytest.raises(DoseRejected) as exc:
        dose(amount, unit, product, taken_at)
    return exc


# ------------------------------------------------------------------ units


def test_unit_values_and_labels():
    assert [u.value for u in Unit] == ["g", "mg", "capsule", "tablet", "ml"]
    assert set(UNIT_LABELS) == set(Unit)


def test_every_form_has_allowed_units_without_duplicates():
    assert set(ALLOWED_UNITS) == set(F)
    for units in ALLOWED_UNITS.values():
        assert units and len(set(units)) == len(units)
    assert ALLOWED_UNITS[F.CAPSULE] == (Unit.CAPSULE, Unit.G, Unit.MG)
    assert ALLOWED_UNITS[F.TEA_LIQUID] == (Unit.ML,)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (D("1.5"), "g", Quantity(D("1.5"), Unit.G)),
        (2, Unit.CAPSULE, Quantity(D(2), Unit.CAPSULE)),
        (" 2.50 ", "grams", Quantity(D("2.5"), Unit.G)),
        (".5", "Tabs", Quantity(D("0.5"), Unit.TABLET)),
        (1.5, "mL", Quantity(D("1.5"), Unit.ML)),
        (0.1, "mg", Quantity(D("0.1"), Unit.MG)),  # via str: exactly 0.1
        ("750", " MG ", Quantity(D(750), Unit.MG)),
    ],
)
def test_parse_quantity_accepts(amount, unit, expected):
    q = parse_quantity(amount, unit)
    assert q == expected
    assert str(q.amount) == str(expected.amount)


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (None, "amount_missing"),
        ("", "amount_missing"),
        ("  ", "amount_missing"),
        (True, "amount_bool"),
        (False, "amount_bool"),
        (0, "amount_not_positive"),
        ("0", "amount_not_positive"),
        ("0.000", "amount_not_positive"),
        (-1, "amount_not_positive"),
        ("-2.5", "amount_not_positive"),
        (D("-0.1"), "amount_not_positive"),
        (D("NaN"), "amount_not_finite"),
        (D("sNaN"), "amount_not_finite"),
        (D("Infinity"), "amount_not_finite"),
        (float("nan"), "amount_not_finite"),
        (float("-inf"), "amount_not_finite"),
        ("nan", "amount_not_finite"),
        ("Infinity", "amount_not_finite"),
        ("abc", "amount_not_numeric"),
        ("2g", "amount_not_numeric"),
        ("1e3", "amount_not_numeric"),
        ("1.2.3", "amount_not_numeric"),
        ([1], "amount_not_numeric"),
        ("1,5", "amount_ambiguous_comma"),
        ("1,000", "amount_ambiguous_comma"),
        ("1.2345", "amount_too_precise"),
        (D("0.0001"), "amount_too_precise"),
        (10_000_001, "amount_too_large"),
        # Huge or over-precise numbers are refused before any arithmetic can overflow.
        (D("1e400"), "amount_too_large"),
        (D("1E+999999999"), "amount_too_large"),
        ("9" * 300, "amount_too_large"),
        (10**300, "amount_too_large"),
        (D("1." + "0" * 298 + "1"), "amount_too_precise"),
        (D("1e-400"), "amount_too_precise"),
    ],
)
def test_parse_quantity_rejects_amount(amount, code):
    with pytest.raises(DoseRejected) as exc:
        parse_quantity(amount, "g")
    assert codes(exc) == [("amount", code)]
    assert exc.value.errors[0].message.startswith("Amount")


def test_trailing_zeros_are_not_extra_precision():
    assert parse_quantity("2.5000", "g").amount == D("2.5")
    assert parse_quantity("2." + "0" * 300, "g").amount == D("2.5") - D("0.5")
    assert parse_quantity(D("25E-1"), "g").amount == D("2.5")


@pytest.mark.parametrize(
    ("unit", "code"),
    [
        (None, "unit_missing"),
        ("", "unit_missing"),
        ("oz", "unit_unknown"),
        ("kg", "unit_unknown"),
        (5, "unit_unknown"),
        ("g of leaf", "unit_unknown"),
    ],
)
def test_parse_quantity_rejects_unit(unit, code):
    with pytest.raises(DoseRejected) as exc:
        parse_quantity("2", unit)
    assert codes(exc) == [("unit", code)]
    assert "g, mg, capsule, tablet, ml" in exc.value.errors[0].message


def test_parse_quantity_reports_both_fields():
    with pytest.raises(DoseRejected) as exc:
        parse_quantity("-1", "")
    assert codes(exc) == [("amount", "amount_not_positive"), ("unit", "unit_missing")]
    assert "amount:" in str(exc.value) and "unit:" in str(exc.value)


def test_quantity_refuses_invalid_values():
    with pytest.raises(ValueError):
        Quantity(D(0), Unit.G)
    with pytest.raises(ValueError):
        Quantity(D("NaN"), Unit.G)
    assert Quantity(D(1), "mg").unit is Unit.MG  # type: ignore[arg-type]


# ------------------------------------------------------------------ normalization


def ex(leaf, mit, hyd):
    return Exposure(*(None if v is None else D(v) for v in (leaf, mit, hyd)))


@pytest.mark.parametrize(
    ("spec", "amount", "unit", "expected"),
    [
        # leaf: grams are leaf-equivalent; alkaloid = g x mg/g
        (
            ProductSpec(
                F.LEAF_POWDER, mitragynine_mg_per_g=D("19.5"), hydroxymitragynine_mg_per_g=D("0.35")
            ),
            "2.5",
            "g",
            ex("2.5", "48.75", "0.875"),
        ),
        (
            ProductSpec(F.LEAF_POWDER, mitragynine_mg_per_g=D("15")),
            "750",
            "mg",
            ex("0.75", "11.25", None),
        ),
        (LEAF, "2.5", "g", ex("2.5", None, None)),
        # 1.6 % w/w = 16 mg/g
        (ProductSpec(F.CRUSHED_LEAF, mitragynine_mg_per_g=D("16")), "4", "g", ex("4", "64", None)),
        # capsules: n x unit mass / 1000; alkaloid n x unit mass x mg/g / 1000
        (
            ProductSpec(F.CAPSULE, mitragynine_mg_per_g=D("15.5"), unit_material_mg=D("500")),
            "3",
            "capsule",
            ex("1.5", "23.25", None),
        ),
        # per-unit content on the label takes precedence over a derivation
        (
            ProductSpec(
                F.CAPSULE,
                mitragynine_mg_per_g=D("15.5"),
                unit_material_mg=D("500"),
                mitragynine_mg_per_unit=D("8.25"),
            ),
            "3",
            "capsule",
            ex("1.5", "24.75", None),
        ),
        (
            ProductSpec(F.CAPSULE, mitragynine_mg_per_unit=D("8")),
            "2",
            "capsule",
            ex(None, "16", None),
        ),
        (ProductSpec(F.CAPSULE, mitragynine_mg_per_g=D("15")), "2", "g", ex("2", "30", None)),
        (
            ProductSpec(
                F.TABLET, unit_material_mg=D("750"), hydroxymitragynine_mg_per_unit=D("0.1")
            ),
            "1.5",
            "tablet",
            ex("1.125", None, "0.15"),
        ),
        # tea: ml x leaf g/ml; alkaloid only from a measured mg/ml
        (
            ProductSpec(F.TEA_LIQUID, leaf_g_per_ml=D("0.02"), mitragynine_mg_per_ml=D("0.3")),
            "250",
            "ml",
            ex("5", "75", None),
        ),
        (
            ProductSpec(F.TEA_LIQUID, mitragynine_mg_per_g=D("15")),
            "250",
            "ml",
            ex(None, None, None),
        ),
        # extract: no leaf-equivalent, even with a "10:1" claim
        (
            ProductSpec(F.EXTRACT, mitragynine_mg_per_g=D("450"), extract_ratio=D("10")),
            "0.5",
            "g",
            ex(None, "225", None),
        ),
        (ProductSpec(F.EXTRACT, mitragynine_mg_per_ml=D("2")), "15", "ml", ex(None, "30", None)),
        (
            ProductSpec(F.EXTRACT, unit_material_mg=D("400"), mitragynine_mg_per_g=D("500")),
            "2",
            "capsule",
            ex(None, "400", None),
        ),
        # 7-OH and enhanced: no leaf-equivalent
        (
            ProductSpec(F.SEVEN_OH, hydroxymitragynine_mg_per_unit=D("15")),
            "1",
            "tablet",
            ex(None, None, "15"),
        ),
        (
            ProductSpec(
                F.SEVEN_OH, hydroxymitragynine_mg_per_g=D("50"), mitragynine_mg_per_g=D("4")
            ),
            "300",
            "mg",
            ex(None, "1.2", "15"),
        ),
        (ProductSpec(F.ENHANCED, mitragynine_mg_per_g=D("60")), "1", "g", ex(None, "60", None)),
        # topical: not taken by mouth, so nothing comparable
        (ProductSpec(F.TOPICAL, mitragynine_mg_per_g=D("10")), "5", "g", ex(None, None, None)),
        (ProductSpec(F.OTHER, mitragynine_mg_per_g=D("10")), "2", "g", ex(None, "20", None)),
    ],
)
def test_normalize_exact(spec, amount, unit, expected):
    assert normalize(parse_quantity(amount, unit), spec) == expected


def test_normalize_refuses_a_unit_not_allowed_for_the_form():
    with pytest.raises(ValueError, match="not allowed"):
        normalize(Quantity(D(5), Unit.G), ProductSpec(F.TEA_LIQUID))


def test_exposure_addition_unknown_is_absorbing():
    assert ex("1", "2", None) + ex("0.5", "3", "1") == ex("1.5", "5", None)
    assert Exposure.zero() + ex("1", None, "2") == ex("1", None, "2")
    assert ex("1", None, None).unknown_fields() == ("mitragynine_mg", "hydroxymitragynine_mg")
    assert ex("1", "1", "1").is_known and not ex(None, "1", "1").is_known
    with pytest.raises(TypeError):
        ex("1", "1", "1") + 1  # type: ignore[operator]


# ------------------------------------------------------------------ check_dose rejections


def test_unit_not_allowed_names_the_accepted_units():
    exc = rejected("5", "g", ProductSpec(F.TEA_LIQUID))
    assert codes(exc) == [("unit", "unit_not_allowed")]
    message = exc.value.errors[0].message
    assert "use ml" in message and "leaf product" in message


@pytest.mark.parametrize(
    ("spec", "amount", "unit", "accepted"),
    [
        (LEAF, "50.001", "g", "at most 50 g"),
        (LEAF, "60000", "mg", "at most 50 g (50000 mg)"),
        (ProductSpec(F.CRUSHED_LEAF), "51", "g", "at most 50 g"),
        (ProductSpec(F.CAPSULE), "101", "capsule", "at most 100 capsules"),
        (ProductSpec(F.TABLET), "101", "tablet", "at most 100 tablets"),
        (ProductSpec(F.TEA_LIQUID), "2001", "ml", "at most 2000 ml"),
        (ProductSpec(F.EXTRACT), "10.5", "g", "at most 10 g"),
        (ProductSpec(F.EXTRACT), "21", "capsule", "at most 20 capsules"),
        (ProductSpec(F.EXTRACT), "501", "ml", "at most 500 ml"),
        (ProductSpec(F.SEVEN_OH), "6000", "mg", "at most 5 g (5000 mg)"),
        (ProductSpec(F.SEVEN_OH), "21", "tablet", "at most 20 tablets"),
        (ProductSpec(F.SEVEN_OH), "101", "ml", "at most 100 ml"),
        (ProductSpec(F.ENHANCED), "21", "g", "at most 20 g"),
        (ProductSpec(F.TOPICAL), "101", "g", "at most 100 g"),
        (ProductSpec(F.OTHER), "51", "g", "at most 50 g"),
    ],
)
def test_implausible_amounts_are_rejected_with_the_accepted_range(spec, amount, unit, accepted):
    exc = rejected(amount, unit, spec)
    assert codes(exc) == [("amount", "amount_implausible")]
    assert accepted in exc.value.errors[0].message


def test_derived_leaf_equivalent_above_maximum_is_rejected():
    spec = ProductSpec(F.CAPSULE, unit_material_mg=D("1000"))
    exc = rejected("60", "capsule", spec)
    assert codes(exc) == [("amount", "leaf_equivalent_g_implausible")]
    assert "60 g of leaf" in exc.value.errors[0].message
    assert "at most 50 g" in exc.value.errors[0].message


@pytest.mark.parametrize(
    ("amount", "unit"), [("2.5", "capsule"), ("1.3", "tablet"), ("0.1", "tablet")]
)
def test_counts_must_follow_the_unit_step(amount, unit):
    spec = ProductSpec(F.EXTRACT)
    exc = rejected(amount, unit, spec)
    assert codes(exc) == [("amount", "amount_step")]


def test_quarter_tablets_are_accepted():
    assert dose("1.75", "tablet", ProductSpec(F.TABLET)).quantity.amount == D("1.75")


def test_naive_timestamp_is_rejected():
    exc = rejected("2", "g", taken_at=datetime(2025, 3, 1, 11, 0))
    assert codes(exc) == [("taken_at", "taken_at_naive")]
    assert "time zone" in exc.value.errors[0].message


def test_future_timestamp_beyond_tolerance_is_rejected():
    exc = rejected("2", "g", taken_at=NOW + timedelta(minutes=5, seconds=1))
    assert codes(exc) == [("taken_at", "taken_at_future")]
    assert "5 minutes" in exc.value.errors[0].message
    assert dose("2", "g", taken_at=NOW + timedelta(minutes=5)).taken_at > NOW


@pytest.mark.parametrize(
    ("taken_at", "code"),
    [
        (None, "taken_at_missing"),
        ("", "taken_at_missing"),
        ("yesterday", "taken_at_invalid"),
        (date(2025, 3, 1), "taken_at_invalid"),
        (1740830400, "taken_at_invalid"),
        ("2025-03-01T10:00:00", "taken_at_naive"),
    ],
)
def test_bad_timestamps(taken_at, code):
    assert codes(rejected("2", "g", taken_at=taken_at)) == [("taken_at", code)]


def test_iso_timestamp_with_offset_is_accepted():
    checked = dose("2", "g", taken_at="2025-03-01T06:30:00-05:00")
    assert checked.taken_at == datetime(2025, 3, 1, 11, 30, tzinfo=UTC)


def test_all_field_errors_are_reported_at_once():
    exc = rejected("abc", "g", ProductSpec(F.TEA_LIQUID), taken_at=datetime(2025, 3, 1))
    assert codes(exc) == [
        ("amount", "amount_not_numeric"),
        ("taken_at", "taken_at_naive"),
        ("unit", "unit_not_allowed"),
    ]


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="now") as exc:
        check_dose(amount="1", unit="g", taken_at=NOW, product=LEAF, now=datetime(2025, 3, 1))
    assert not isinstance(exc.value, DoseRejected)


# ------------------------------------------------------------------ confirmations


def confirmation_codes(checked):
    return [c.code for c in checked.confirmations]


def test_milligrams_of_leaf_ask_for_confirmation_and_are_not_converted():
    checked = dose("15", "mg")
    assert confirmation_codes(checked) == ["mg_probably_g"]
    assert checked.confirmations[0].field == "unit"
    assert "Did you mean 15 g?" in checked.confirmations[0].message
    assert checked.quantity == Quantity(D(15), Unit.MG)
    assert checked.exposure.leaf_equivalent_g == D("0.015")
    assert confirmation_codes(dose("100", "mg")) == []
    assert confirmation_codes(dose("50", "mg", ProductSpec(F.CAPSULE))) == ["mg_probably_g"]
    assert confirmation_codes(dose("50", "mg", ProductSpec(F.EXTRACT))) == []


def test_high_leaf_dose_asks_for_confirmation():
    assert confirmation_codes(dose("15", "g")) == []
    checked = dose("15.5", "g")
    assert confirmation_codes(checked) == ["leaf_equivalent_g_high"]
    assert "15.5 g of leaf" in checked.confirmations[0].message


def test_high_mitragynine_asks_for_confirmation():
    spec = ProductSpec(F.LEAF_POWDER, mitragynine_mg_per_g=D("20"))
    assert confirmation_codes(dose("15", "g", spec)) == []
    assert confirmation_codes(dose("16", "g", spec)) == [
        "leaf_equivalent_g_high",
        "mitragynine_mg_high",
    ]


def test_high_seven_oh_asks_for_confirmation():
    spec = ProductSpec(F.SEVEN_OH, hydroxymitragynine_mg_per_unit=D("15"))
    assert confirmation_codes(dose("1", "tablet", spec)) == []
    checked = dose("2", "tablet", spec)
    assert confirmation_codes(checked) == ["hydroxymitragynine_mg_high"]
    assert "30 mg of 7-hydroxymitragynine" in checked.confirmations[0].message


@pytest.mark.parametrize(
    ("spec", "amount", "unit"),
    [
        (ProductSpec(F.SEVEN_OH), "1500", "mg"),
        (ProductSpec(F.SEVEN_OH), "5", "tablet"),
        (ProductSpec(F.CAPSULE), "31", "capsule"),
        (ProductSpec(F.TEA_LIQUID), "1200", "ml"),
        (ProductSpec(F.EXTRACT), "2.5", "g"),
        (ProductSpec(F.ENHANCED), "11", "capsule"),
        (ProductSpec(F.OTHER), "16", "g"),
    ],
)
def test_unusual_amounts_for_the_form_ask_for_confirmation(spec, amount, unit):
    assert confirmation_codes(dose(amount, unit, spec)) == ["amount_high"]


def test_needs_confirmation_lists_only_what_was_not_confirmed():
    spec = ProductSpec(F.LEAF_POWDER, mitragynine_mg_per_g=D("20"))
    checked = dose("16", "g", spec)
    assert [c.code for c in checked.needs_confirmation()] == [
        "leaf_equivalent_g_high",
        "mitragynine_mg_high",
    ]
    assert [c.code for c in checked.needs_confirmation(["mitragynine_mg_high"])] == [
        "leaf_equivalent_g_high"
    ]
    assert checked.needs_confirmation("leaf_equivalent_g_high")[0].code == "mitragynine_mg_high"
    confirmed = dose("16", "g", spec, confirmed=["leaf_equivalent_g_high", "mitragynine_mg_high"])
    assert confirmed.needs_confirmation() == ()
    assert confirmed.confirmations == checked.confirmations  # still recorded


# ------------------------------------------------------------------ daily totals


def test_daily_total_is_known_only_when_all_doses_are_known():
    day = datetime(2025, 3, 1, 8, tzinfo=UTC)
    totals = daily_totals(
        [
            (day, ex("2", "30", "0.5")),
            (day + timedelta(hours=4), ex("1.5", None, "0.25")),
            (day + timedelta(hours=8), ex("3", "45", None)),
        ],
        UTC,
    )
    total = totals[date(2025, 3, 1)]
    assert total.dose_count == 3
    assert total.leaf_equivalent_g == D("6.5")
    assert total.mitragynine_mg is None
    assert total.hydroxymitragynine_mg is None
    assert dict(total.unknown_counts) == {
        "leaf_equivalent_g": 0,
        "mitragynine_mg": 1,
        "hydroxymitragynine_mg": 1,
    }
    assert total.known_subtotal == ex("6.5", "75", "0.75")


def test_daily_totals_split_days_in_the_patients_time_zone():
    new_york_winter = timezone(timedelta(hours=-5))
    late_evening = datetime(2025, 3, 1, 23, 30, tzinfo=new_york_winter)  # 04:30 UTC on 2 March
    next_morning = datetime(2025, 3, 2, 7, 0, tzinfo=new_york_winter)
    doses = [(late_evening, ex("2", None, None)), (next_morning, ex("3", None, None))]
    local = daily_totals(doses, new_york_winter)
    assert {d: t.leaf_equivalent_g for d, t in local.items()} == {
        date(2025, 3, 1): D("2"),
        date(2025, 3, 2): D("3"),
    }
    in_utc = daily_totals(doses, UTC)
    assert {d: t.leaf_equivalent_g for d, t in in_utc.items()} == {date(2025, 3, 2): D("5")}


def test_daily_totals_refuse_naive_times_and_accept_nothing():
    assert daily_totals([], UTC) == {}
    with pytest.raises(ValueError, match="time zone"):
        daily_totals([(datetime(2025, 3, 1, 8), ex("1", "1", "1"))], UTC)
