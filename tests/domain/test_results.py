"""Results (liver tests, QTc, drug screens): units, limits and the shipped result rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.results import (
    Measurement,
    ResultRejected,
    ScreenResult,
    check_screen,
    check_value,
    injury_pattern,
    load_lab_tests,
    r_ratio,
)
from kratomwatch.domain.safety import DoseTaken, Medication, ProductUse, Snapshot, screen

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SAMPLE = NOW - timedelta(days=1)
LEAF = ProductUse("Leaf powder", ProductSpec(ProductForm.LEAF_POWDER))


def dose(at: datetime) -> DoseTaken:
    g = Decimal(3)
    return DoseTaken(at, g, "g", LEAF.name, Exposure(g, g * 15, None))


def daily_doses(days: int, before: datetime = SAMPLE) -> tuple[DoseTaken, ...]:
    return tuple(dose(before - timedelta(days=d, hours=2)) for d in range(days))


def liver(alt: str, alp: str, bili: str = "0.5", at: datetime = SAMPLE) -> tuple[Measurement, ...]:
    return (
        Measurement("alt", at, Decimal(alt)),
        Measurement("ast", at, Decimal("30")),
        Measurement("alp", at, Decimal(alp)),
        Measurement("bilirubin", at, Decimal(bili)),
    )


def snap(**kw: object) -> Snapshot:
    base: dict[str, object] = {"as_of": NOW, "products": (LEAF,), "doses": daily_doses(10)}
    base.update(kw)
    return Snapshot(**base)  # type: ignore[arg-type]


def found(snapshot: Snapshot) -> dict[str, object]:
    return {f.code: f for f in screen(snapshot).findings if f.code.startswith("result.")}


# --- units and limits ---------------------------------------------------------------------


def test_bilirubin_in_umol_per_litre_is_converted_by_17_1() -> None:
    checked = check_value("bilirubin", "34.2", "µmol/L")
    assert checked.value == Decimal("2")
    assert checked.entered == Decimal("34.2") and checked.entered_unit == "µmol/L"


def test_the_laboratory_upper_limit_is_converted_too() -> None:
    checked = check_value("bilirubin", "17.1", "umol/L", upper_limit="20.52")
    assert checked.upper_limit == Decimal("1.2")


@pytest.mark.parametrize("unit", [None, "", "mg", "g/L", "mmol/L", "u/l "])
def test_a_unit_the_analyte_does_not_have_is_refused_never_guessed(unit: object) -> None:
    with pytest.raises(ResultRejected) as exc:
        check_value("alt", "50", unit)
    assert exc.value.errors[0][0] == "unit"
    assert "U/L" in exc.value.errors[0][1]


@pytest.mark.parametrize("value", ["", "abc", "nan", "inf", None, True])
def test_a_value_that_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(ResultRejected) as exc:
        check_value("alt", value, "U/L")
    assert exc.value.errors[0][0] == "value"


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "ok"),
    [
        ("qtc", "249", "ms", False),
        ("qtc", "250", "ms", True),
        ("qtc", "750", "ms", True),
        ("qtc", "751", "ms", False),
        ("alt", "-1", "U/L", False),
        ("bilirubin", "61", "mg/dL", False),
        ("bilirubin", "1026", "µmol/L", True),  # 60 mg/dL
        ("bilirubin", "1027", "µmol/L", False),
    ],
)
def test_plausible_limits_are_inclusive(analyte: str, value: str, unit: str, ok: bool) -> None:
    if ok:
        check_value(analyte, value, unit)
    else:
        with pytest.raises(ResultRejected, match="plausible"):
            check_value(analyte, value, unit)


def test_unknown_analyte_and_screen_values_are_refused() -> None:
    with pytest.raises(ResultRejected):
        check_value("ggt", "10", "U/L")
    with pytest.raises(ResultRejected):
        check_screen("benzodiazepines", "maybe")
    with pytest.raises(ResultRejected):
        check_screen("heroin_test", "positive")
    assert check_screen("benzodiazepines", "not_tested") == "not_tested"


def test_screen_items_map_to_known_classes_and_substances() -> None:
    from kratomwatch.domain.substances import load_knowledge

    kb = load_knowledge()
    for item in load_lab_tests().screen_items.values():
        assert item.classes <= set(kb.classes), item.id
        assert item.substances <= set(kb.substances), item.id


def test_ranges_and_loinc_cite_a_registered_source() -> None:
    from kratomwatch.domain.safety import load_knowledge

    refs = load_knowledge().references
    for analyte in load_lab_tests().analytes.values():
        assert analyte.range_source in refs, analyte.id


# --- R ratio ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt", "alp", "pattern"),
    [
        ("275", "115", "hepatocellular"),
        ("274", "115", "mixed"),
        ("110", "115", "cholestatic"),
        ("111", "115", "mixed"),
    ],
)
def test_r_ratio_boundaries(alt: str, alp: str, pattern: str) -> None:
    # ULN 55 (ALT) and 115 (ALP): R = (alt/55) / (alp/115)
    r = r_ratio(Measurement("alt", NOW, Decimal(alt)), Measurement("alp", NOW, Decimal(alp)))
    assert r is not None
    assert injury_pattern(r) == pattern


def test_r_ratio_uses_the_laboratory_upper_limit_when_given() -> None:
    alt = Measurement("alt", NOW, Decimal("200"), upper_limit=Decimal("40"))
    alp = Measurement("alp", NOW, Decimal("100"), upper_limit=Decimal("100"))
    assert r_ratio(alt, alp) == Decimal(5)


# --- liver rules --------------------------------------------------------------------------


def test_alt_five_times_the_limit_is_liver_injury_with_its_pattern() -> None:
    findings = found(snap(measurements=liver("275", "100")))
    assert set(findings) == {"result.liver_injury"}
    finding = findings["result.liver_injury"]
    assert finding.severity.value == "high"  # type: ignore[attr-defined]
    assert "R ratio 5.8: hepatocellular pattern" in finding.rationale  # type: ignore[attr-defined]
    pattern = [t for t in finding.triggers if t["type"] == "liver_pattern"]  # type: ignore[attr-defined]
    assert pattern == [{"type": "liver_pattern", "r_ratio": "5.8", "pattern": "hepatocellular"}]


def test_just_below_five_times_is_raised_not_injury() -> None:
    findings = found(snap(measurements=liver("274", "100")))
    assert set(findings) == {"result.liver_tests_raised"}
    assert findings["result.liver_tests_raised"].severity.value == "moderate"  # type: ignore[attr-defined]


def test_alp_twice_the_limit_is_injury_and_cholestatic() -> None:
    findings = found(snap(measurements=liver("60", "230")))
    assert set(findings) == {"result.liver_injury"}
    assert "cholestatic" in findings["result.liver_injury"].rationale  # type: ignore[attr-defined]


def test_raised_alt_with_bilirubin_twice_the_limit_is_the_jaundice_level() -> None:
    findings = found(snap(measurements=liver("165", "120", bili="2.0")))
    assert set(findings) == {"result.liver_injury_with_jaundice"}
    # In µmol/L: the same bilirubin entered as 34.2 µmol/L is 2 mg/dL.
    bili = check_value("bilirubin", "34.2", "µmol/L").value
    findings = found(snap(measurements=liver("165", "120", bili=str(bili))))
    assert set(findings) == {"result.liver_injury_with_jaundice"}


def test_bilirubin_just_below_twice_the_limit_is_not_the_jaundice_level() -> None:
    findings = found(snap(measurements=liver("165", "120", bili="1.99")))
    assert set(findings) == {"result.liver_tests_raised"}


def test_normal_liver_tests_raise_nothing() -> None:
    assert found(snap(measurements=liver("55", "115", bili="1.0"))) == {}


def test_raised_liver_tests_without_kratom_use_raise_nothing() -> None:
    old = daily_doses(5, before=SAMPLE - timedelta(days=40))
    assert found(snap(measurements=liver("400", "100"), doses=old)) == {}


def test_a_newer_normal_result_clears_the_liver_finding() -> None:
    older = liver("400", "100", at=SAMPLE - timedelta(days=10))
    newer = liver("40", "100", at=SAMPLE)
    assert found(snap(measurements=older)) != {}
    assert found(snap(measurements=older + newer)) == {}


def test_results_older_than_ninety_days_do_not_trigger() -> None:
    old = liver("400", "100", at=NOW - timedelta(days=91))
    assert (
        found(snap(measurements=old, doses=daily_doses(10, before=NOW - timedelta(days=91)))) == {}
    )


def test_alt_alone_gives_no_r_ratio_but_still_a_finding() -> None:
    findings = found(snap(measurements=(Measurement("alt", SAMPLE, Decimal("300")),)))
    assert "R ratio not calculated" in findings["result.liver_injury"].rationale  # type: ignore[attr-defined]


# --- QTc -----------------------------------------------------------------------------------


def qtc(ms: str) -> tuple[Measurement, ...]:
    return (Measurement("qtc", SAMPLE, Decimal(ms)),)


def test_qtc_above_500_with_kratom_use_is_moderate() -> None:
    findings = found(snap(measurements=qtc("501")))
    assert set(findings) == {"result.qtc_prolonged"}
    assert "QTc 501 ms" in findings["result.qtc_prolonged"].rationale  # type: ignore[attr-defined]


def test_qtc_of_500_is_not_above_the_threshold() -> None:
    assert found(snap(measurements=qtc("500"))) == {}


def test_qtc_above_500_with_a_qt_drug_is_high_and_names_it() -> None:
    findings = found(snap(measurements=qtc("520"), medications=(Medication("methadone"),)))
    assert set(findings) == {"result.qtc_prolonged_with_qt_drug"}
    finding = findings["result.qtc_prolonged_with_qt_drug"]
    assert finding.severity.value == "high"  # type: ignore[attr-defined]
    assert "methadone" in finding.rationale  # type: ignore[attr-defined]


def test_qtc_without_kratom_use_raises_nothing() -> None:
    assert found(snap(measurements=qtc("560"), doses=(), products=())) == {}


# --- drug screens -------------------------------------------------------------------------


def screened(item: str, result: str, at: datetime = SAMPLE) -> ScreenResult:
    return ScreenResult(item, at, result, "urine")


def test_benzodiazepine_positive_with_none_listed_is_unexplained() -> None:
    findings = found(snap(screens=(screened("benzodiazepines", "positive"),)))
    finding = findings["result.drug_screen_unexplained"]
    assert "Benzodiazepines" in finding.rationale  # type: ignore[attr-defined]
    assert "false-positive" in finding.rationale  # type: ignore[attr-defined]


def test_benzodiazepine_positive_with_diazepam_listed_is_explained() -> None:
    snapshot = snap(
        screens=(screened("benzodiazepines", "positive"),), medications=(Medication("diazepam"),)
    )
    assert "result.drug_screen_unexplained" not in found(snapshot)


def test_fentanyl_positive_is_not_explained_by_another_opioid() -> None:
    snapshot = snap(
        screens=(screened("fentanyl", "positive"),), medications=(Medication("oxycodone"),)
    )
    assert "result.drug_screen_unexplained" in found(snapshot)
    snapshot = snap(
        screens=(screened("opioids", "positive"),), medications=(Medication("oxycodone"),)
    )
    assert "result.drug_screen_unexplained" not in found(snapshot)


def test_negative_and_kratom_positive_items_raise_nothing() -> None:
    snapshot = snap(
        screens=(screened("benzodiazepines", "negative"), screened("mitragynine", "positive"))
    )
    assert found(snapshot) == {}


def test_a_newer_negative_screen_clears_the_positive() -> None:
    older = screened("cocaine", "positive", SAMPLE - timedelta(days=5))
    assert "result.drug_screen_unexplained" in found(snap(screens=(older,)))
    newer = screened("cocaine", "negative", SAMPLE)
    assert found(snap(screens=(older, newer))) == {}


# --- kratom negative while the diary says daily use --------------------------------------


def test_kratom_negative_with_daily_diary_use_is_low() -> None:
    findings = found(snap(screens=(screened("mitragynine", "negative"),), doses=daily_doses(5)))
    finding = findings["result.kratom_screen_negative"]
    assert finding.severity.value == "low"  # type: ignore[attr-defined]
    assert "5 of the 7 days" in finding.rationale  # type: ignore[attr-defined]


def test_kratom_negative_with_four_dosing_days_raises_nothing() -> None:
    assert found(snap(screens=(screened("mitragynine", "negative"),), doses=daily_doses(4))) == {}


def test_kratom_negative_is_not_raised_when_one_alkaloid_was_positive() -> None:
    screens = (screened("mitragynine", "negative"), screened("hydroxymitragynine", "positive"))
    assert found(snap(screens=screens)) == {}


# --- the CLI's JSON snapshot ----------------------------------------------------------------


AT = "2026-12-06T08:00:00+00:00"


def test_results_in_a_json_snapshot_are_checked_and_screened() -> None:
    from kratomwatch.domain.safety import snapshot_from_json

    data = {
        "products": [{"name": "Leaf", "form": "leaf_powder"}],
        "results": [
            {"analyte": "alt", "value": 400, "unit": "U/L", "taken_at": AT},
            {"analyte": "bilirubin", "value": "41", "unit": "µmol/L", "taken_at": AT},
            {"item": "benzodiazepines", "outcome": "positive", "taken_at": AT},
        ],
    }  # fmt: skip
    snapshot = snapshot_from_json(data, now=NOW)
    assert {m.analyte for m in snapshot.measurements} == {"alt", "bilirubin"}
    assert set(found(snapshot)) == {
        "result.liver_injury_with_jaundice",
        "result.drug_screen_unexplained",
    }


def test_bad_results_in_a_json_snapshot_are_named() -> None:
    from kratomwatch.domain.safety import SnapshotError, snapshot_from_json

    data = {
        "results": [
            {"analyte": "alt", "value": 40, "unit": "mg", "taken_at": "2026-12-06T08:00:00+00:00"},
            {"item": "cocaine", "outcome": "yes", "taken_at": "2026-12-06T08:00:00"},
            {"analyte": "qtc", "item": "cocaine"},
        ]
    }
    with pytest.raises(SnapshotError) as exc:
        snapshot_from_json(data, now=NOW)
    fields = {path for path, _ in exc.value.errors}
    assert {"results[0].unit", "results[1].outcome", "results[1].taken_at", "results[2]"} <= fields


@pytest.mark.parametrize(
    "typed", ["1,200", "1.200,5", "1e3", "1E+999999", "NaN", "Infinity", "0x10", "١٢"]
)
def test_a_value_that_is_not_plainly_a_number_is_refused_never_guessed(typed: str) -> None:
    with pytest.raises(ResultRejected) as refused:
        check_value("alt", typed, "U/L")
    assert "dot as the decimal point" in str(refused.value.errors)


def test_a_huge_number_sent_as_a_number_is_refused_without_overflow() -> None:
    with pytest.raises(ResultRejected):
        check_value("alt", Decimal("1E+999999"), "U/L")
    assert check_value("alt", Decimal("310"), "U/L").value == Decimal("310")


def test_liver_values_weeks_apart_are_not_combined_into_one_finding() -> None:
    """An old raised bilirubin beside a new ALT is not 'injury with jaundice'."""
    now = NOW
    doses = daily_doses(30)
    leaf = LEAF
    old_bili = Measurement("bilirubin", now - timedelta(days=60), Decimal("2.5"))
    new_alt = Measurement("alt", now - timedelta(days=1), Decimal("300"))

    def codes(*measurements: Measurement) -> set[str]:
        snapshot = Snapshot(as_of=now, products=(leaf,), doses=doses, measurements=measurements)
        return {f.code for f in screen(snapshot).findings if f.code.startswith("result.liver")}

    assert codes(old_bili, new_alt) == {"result.liver_injury"}
    same_week = replace(old_bili, taken_at=now - timedelta(days=3))
    assert codes(same_week, new_alt) == {"result.liver_injury_with_jaundice"}


@pytest.mark.parametrize(
    ("item", "listed", "explained"),
    [
        ("amphetamines", "caffeine 200 mg", False),
        ("amphetamines", "Excedrin Migraine", False),
        ("amphetamines", "modafinil 100 mg", False),
        ("amphetamines", "Adderall XR 20 mg", True),
        ("amphetamines", "Vyvanse 30 mg", True),
        ("cannabinoids", "Epidiolex (cannabidiol)", False),
        ("cannabinoids", "dronabinol 2.5 mg", True),
    ],
)
def test_a_positive_screen_is_explained_only_by_what_it_detects(
    item: str, listed: str, explained: bool
) -> None:
    positive = ScreenResult(item, SAMPLE, "positive")
    snapshot = Snapshot(
        as_of=NOW,
        products=(LEAF,),
        doses=daily_doses(7),
        medications=(Medication(listed),),
        screens=(positive,),
    )
    fired = {f.code for f in screen(snapshot).findings}
    assert ("result.drug_screen_unexplained" in fired) is not explained
