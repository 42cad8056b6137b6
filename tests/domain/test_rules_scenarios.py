"""Every shipped rule, in a positive and a negative scenario built from its own trigger.

For medication rules the positive case is tried with the generic name, a brand name and a
listed misspelling, each inside realistic text ("Xanax 0.5 mg tablets"). A rule added to the
knowledge base is tested here automatically; a trigger kind without a scenario builder fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.induction import BuprenorphineDose, InductionRecord, Observation
from kratomwatch.domain.lots import LotFigures, default_jurisdictions
from kratomwatch.domain.plan_check import PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.results import Measurement, ScreenResult
from kratomwatch.domain.safety import (
    DoseTaken,
    LotUse,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
    load_knowledge,
    screen,
)
from kratomwatch.domain.safety.knowledge import Rule
from kratomwatch.domain.substances import load_knowledge as load_substances

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KB = load_knowledge()
SUBSTANCES = load_substances()
RULES = {rule.id: rule for rule in KB.rules}
_PLAN = PlanLimits(1, max_daily_dose_g=Decimal("40"))
LEAF = ProductUse("Leaf", ProductSpec(ProductForm.LEAF_POWDER, mitragynine_mg_per_g=Decimal(15)))


OKLAHOMA = default_jurisdictions().get("us_ok")
NO_RULE = default_jurisdictions().get("none")


def _with_lot(figures: LotFigures, jurisdiction: Any) -> Snapshot:
    product = replace(LEAF, lots=(LotUse("L1", figures),))
    return Snapshot(as_of=NOW, products=(product,), jurisdiction=jurisdiction)


def _lot_scenarios(code: str) -> Iterator[tuple[str, Snapshot, bool]]:
    """Lots of a leaf product, each named by what its lab figures show."""
    leaf_like = LotFigures(Decimal("15"), Decimal("0.1"), Decimal("20"))  # 0.5 % of alkaloids
    over_cap = LotFigures(Decimal("15"), Decimal("0.3"), Decimal("20"))  # 1.5 %: over 1 %
    semi = LotFigures(Decimal("3"), Decimal("40"))
    blank = LotFigures()
    cases = {
        "leaf-like lot, Oklahoma": (leaf_like, OKLAHOMA, set()),
        "1.5 % of alkaloids, Oklahoma": (over_cap, OKLAHOMA, {"over_cap"}),
        "1.5 % of alkaloids, no jurisdiction": (over_cap, NO_RULE, set()),
        "semi-synthetic, no jurisdiction": (semi, NO_RULE, {"semisynthetic_share"}),
        "semi-synthetic, Oklahoma": (semi, OKLAHOMA, {"over_cap", "semisynthetic_share"}),
        "no figures, Oklahoma": (blank, OKLAHOMA, {"cap_unverifiable"}),
        "no figures, no jurisdiction": (blank, None, set()),
    }
    for name, (figures, jurisdiction, codes) in cases.items():
        yield name, _with_lot(figures, jurisdiction), code in codes
    yield "no lots", Snapshot(as_of=NOW, products=(LEAF,), jurisdiction=OKLAHOMA), False


def fired(snapshot: Snapshot) -> set[str]:
    return {f.code for f in screen(snapshot).findings}


def _substances_for(rule: Rule) -> list[Any]:
    if rule.kind == "substance":
        return [SUBSTANCES.substances[s] for s in rule.trigger["substances"]]
    wanted = set(rule.trigger["classes"])
    return [s for s in SUBSTANCES.substances.values() if wanted & s.classes]


def _unrelated(rule: Rule) -> Any:
    hits = {s.id for s in _substances_for(rule)}
    for candidate in ("loratadine", "levothyroxine", "metformin", "omeprazole", "lisinopril"):
        sub = SUBSTANCES.substances.get(candidate)
        if sub is not None and sub.id not in hits:
            return sub
    raise AssertionError("no unrelated substance found")


def _names(sub: Any) -> Iterator[tuple[str, str]]:
    yield "generic", f"{sub.name} 10 mg tablets"
    if sub.brands:
        yield "brand", f"{sub.brands[0]}"
    if sub.misspellings:
        yield "misspelling", sub.misspellings[0]


def _daily_pain(at: datetime, pain: int) -> Response:
    return Response(
        "kw-daily-pain", at, score(get_instrument("kw-daily-pain"), [pain, pain, 3, 3, 5])
    )


def _dose(at: datetime, grams: Decimal) -> DoseTaken:
    return DoseTaken(at, grams, "g", LEAF.name, Exposure(grams, grams * 15, None))


def _series(days: int, dose: Any, pain: Any, per_day: int = 1) -> Snapshot:
    doses, pains = [], []
    for i in range(days):
        day = NOW - timedelta(days=days - 1 - i)
        for k in range(per_day):
            doses.append(_dose(day - timedelta(hours=k), dose(i)))
        pains.append(_daily_pain(day, pain(i)))
    return Snapshot(as_of=NOW, products=(LEAF,), doses=tuple(doses), responses=tuple(pains))


def _answers_with_band(
    instrument: Any, want: bool, bands: set[str] | None, min_total: int | None
) -> list[int]:
    """Answers whose score meets (or misses) the trigger, by filling items one at a time."""
    items = instrument.items
    lowest = [min(o.value for o in item.options) for item in items]
    highest = [max(o.value for o in item.options) for item in items]
    for k in range(len(items) + 1):
        answers = highest[:k] + lowest[k:]
        result = score(instrument, answers)
        ok = (result.band in bands) if bands is not None else (result.total >= min_total)
        if ok is want:
            return answers
    raise AssertionError(f"cannot build answers for {instrument.id} want={want}")


def scenarios(rule: Rule) -> Iterator[tuple[str, Snapshot, bool]]:
    t = rule.trigger
    kind = rule.kind
    if kind in ("substance_class", "substance"):
        subs = _substances_for(rule)
        assert subs, f"{rule.id}: no substance in the knowledge base triggers it"
        for sub in subs[:3]:
            for how, text in _names(sub):
                yield (
                    f"{sub.id} by {how}",
                    Snapshot(as_of=NOW, medications=(Medication(text),)),
                    True,
                )
        yield (
            "unrelated drug",
            Snapshot(as_of=NOW, medications=(Medication(_unrelated(rule).name),)),
            False,
        )
    elif kind == "medication_amount":
        above = "above_mg_per_day" in t
        limit = Decimal(str(t["above_mg_per_day"] if above else t["at_most_mg_per_day"]))

        def mg(x: Decimal) -> str:
            return f"{x.normalize():f}"

        for sid in t["substances"]:
            sub = SUBSTANCES.substances[sid]
            brand = sub.brands[0] if sub.brands else sub.name
            high = [
                (sub.name, f"{mg(limit * 2)} mg/day"),
                (f"{brand} {mg(limit / 2)} mg, 2 caps qid", None),
            ]
            if "unit_mg" in t:  # a count of capsules, each of the label's strength
                count = int(limit * 2 / Decimal(str(t["unit_mg"])))
                high.append((sub.name.lower(), f"{count} caps a day"))
            ordinary = [(f"{sub.name} {mg(limit / 4)} mg", "twice a day")]
            unknown = [(sub.name, None), (f"{brand} {mg(limit / 8)} mg prn", None)]
            for name, dose in high:
                snap = Snapshot(as_of=NOW, medications=(Medication(name, dose),))
                yield f"{name} {dose}", snap, above
            for name, dose in ordinary + unknown:
                snap = Snapshot(as_of=NOW, medications=(Medication(name, dose),))
                yield f"{name} {dose}", snap, not above
    elif kind == "condition":
        for code in t["conditions"]:
            yield code, Snapshot(as_of=NOW, conditions=(code,)), True
            entry = KB.conditions[code]
            if entry.synonyms:
                yield f"{code} synonym", Snapshot(as_of=NOW, conditions=(entry.synonyms[0],)), True
        other = next(c for c in KB.conditions if c not in t["conditions"])
        yield "other condition", Snapshot(as_of=NOW, conditions=(other,)), False
    elif kind == "age" and "max_years" in t:
        top = t["max_years"]
        yield "younger", Snapshot(as_of=NOW, year_of_birth=NOW.year - top), True
        yield "much younger", Snapshot(as_of=NOW, year_of_birth=NOW.year - top + 3), True
        # Born a year earlier: perhaps still that young, perhaps not; only the certain match.
        yield "perhaps older", Snapshot(as_of=NOW, year_of_birth=NOW.year - top - 1), False
        yield "adult", Snapshot(as_of=NOW, year_of_birth=NOW.year - 40), False
        yield "age unknown", Snapshot(as_of=NOW), False
    elif kind == "age":
        yield "older", Snapshot(as_of=NOW, year_of_birth=NOW.year - t["min_years"] - 1), True
        yield "younger", Snapshot(as_of=NOW, year_of_birth=NOW.year - t["min_years"] + 2), False
    elif kind == "daily_amount":
        high = Decimal(str(t["min_leaf_g"]))
        days = t["min_days"]
        yield "high on enough days", _series(days, lambda i: high, lambda i: 5), True
        yield "high on too few days", _series(days - 1, lambda i: high, lambda i: 5), False
        yield (
            "just under",
            _series(days, lambda i: high - Decimal("0.5"), lambda i: 5),
            False,
        )
        if t.get("without_plan"):
            planned = _series(days, lambda i: high, lambda i: 5)
            yield "with a plan", replace(planned, plan=_PLAN), False
    elif kind == "product":
        if "forms" in t:
            # unless_concentrated: only products with a measured (low) 7-OH content are left.
            measured = {"hydroxymitragynine_mg_per_g": Decimal("0.1")}
            extra = measured if t.get("unless_concentrated") else {}
            for form in t["forms"]:
                spec = ProductSpec(ProductForm(form), **extra)
                yield form, Snapshot(as_of=NOW, products=(ProductUse("P", spec),)), True
            if t.get("unless_concentrated"):
                untested = ProductSpec(ProductForm.EXTRACT)
                yield (
                    "untested extract, left to the concentrated-product rule",
                    Snapshot(as_of=NOW, products=(ProductUse("P", untested),)),
                    False,
                )
        elif t.get("high_risk"):
            yield (
                "7-OH",
                Snapshot(as_of=NOW, products=(ProductUse("P", ProductSpec(ProductForm.SEVEN_OH)),)),
                True,
            )
        elif t.get("possibly_concentrated"):
            leaf = ProductSpec(ProductForm.LEAF_POWDER)
            for name in ("7-OH", "7OH", "Pseudo Gold", "Enhanced Red", "OPMS shot", "Gold extract"):
                yield name, Snapshot(as_of=NOW, products=(ProductUse(name, leaf),)), True
            for name in ("Maeng Da powder", "Red Bali", "Hydroxy caps"):
                yield name, Snapshot(as_of=NOW, products=(ProductUse(name, leaf),)), False
            # Extracts and tablets are the forms these products are sold in as "kratom".
            for form in (ProductForm.TABLET, ProductForm.EXTRACT):
                spec = ProductSpec(form)
                yield form.value, Snapshot(as_of=NOW, products=(ProductUse("Gold", spec),)), True
            tested = ProductSpec(ProductForm.TABLET, hydroxymitragynine_mg_per_g=Decimal("0.1"))
            yield (
                "7-OH tablets with a laboratory 7-OH content",
                Snapshot(as_of=NOW, products=(ProductUse("7-OH tablets", tested),)),
                False,
            )
        elif "lot_concern" in t:
            yield from _lot_scenarios(t["lot_concern"])
        else:
            yield (
                "no potency",
                Snapshot(
                    as_of=NOW, products=(ProductUse("P", ProductSpec(ProductForm.LEAF_POWDER)),)
                ),
                True,
            )
        yield (
            "tested leaf",
            Snapshot(as_of=NOW, products=(LEAF,)),
            "forms" in t and "leaf_powder" in t["forms"],
        )
    elif kind == "symptom":
        for sid in t["symptoms"]:
            symptom = KB.symptoms[sid]
            for text in (symptom.label, *symptom.synonyms[:2]):
                yield f"{sid}: {text}", Snapshot(as_of=NOW, symptoms=(SymptomReport(text),)), True
            old = SymptomReport(symptom.label, NOW - timedelta(days=30))
            yield f"{sid} a month ago", Snapshot(as_of=NOW, symptoms=(old,)), False
        other = next(s for s in KB.symptoms.values() if s.id not in t["symptoms"])
        yield "other symptom", Snapshot(as_of=NOW, symptoms=(SymptomReport(other.label),)), False
    elif kind == "questionnaire_item":
        instrument = get_instrument(t["instrument"])
        ids = [item.id for item in instrument.items]
        lowest = [min(o.value for o in item.options) for item in instrument.items]
        for value, expect in ((t["min"], True), (t["min"] - 1, False)):
            answers = list(lowest)
            answers[ids.index(t["item"])] = value
            response = Response(instrument.id, NOW - timedelta(days=1), score(instrument, answers))
            yield f"item={value}", Snapshot(as_of=NOW, responses=(response,)), expect
    elif kind == "questionnaire_score":
        instrument = get_instrument(t["instrument"])
        bands = set(t["bands"]) if "bands" in t else None
        for expect in (True, False):
            answers = _answers_with_band(instrument, expect, bands, t.get("min_total"))
            response = Response(instrument.id, NOW - timedelta(days=1), score(instrument, answers))
            yield f"meets={expect}", Snapshot(as_of=NOW, responses=(response,)), expect
    elif kind == "dose_frequency":
        n = int(Decimal(str(t["min_doses_per_day"])).to_integral_value(rounding="ROUND_CEILING"))
        days = max(t["min_days"], 1)
        yield "frequent", _series(days, lambda i: Decimal(1), lambda i: 5, per_day=n), True
        yield (
            "too few dosing days",
            _series(days - 1, lambda i: Decimal(1), lambda i: 5, per_day=n),
            False,
        )
        if n > 1:
            yield (
                "fewer doses a day",
                _series(days, lambda i: Decimal(1), lambda i: 5, per_day=n - 1),
                False,
            )
    elif kind == "tolerance":
        w = t["window_days"]
        rise = Decimal(1) + Decimal(str(t["min_dose_increase_pct"])) / 100 + Decimal("0.5")
        yield (
            "rising, pain flat",
            _series(2 * w, lambda i: Decimal(2) * (rise if i >= w else 1), lambda i: 6),
            True,
        )
        yield "steady dose", _series(2 * w, lambda i: Decimal(2), lambda i: 6), False
        yield (
            "rising, pain better",
            _series(
                2 * w, lambda i: Decimal(2) * (rise if i >= w else 1), lambda i: 6 if i < w else 2
            ),
            False,
        )
    elif kind == "lack_of_benefit":
        days = t["after_days"] + 10
        yield "no benefit", _series(days, lambda i: Decimal(4), lambda i: 7), True
        yield (
            "benefit",
            _series(days, lambda i: Decimal(4), lambda i: 7 if i < days // 2 else 3),
            False,
        )
        yield "too short", _series(30, lambda i: Decimal(4), lambda i: 7), False
    elif kind == "pharmacogenomic":
        yield (
            "phenotype",
            Snapshot(as_of=NOW, pharmacogenomics={t["gene"]: t["phenotypes"][0]}),
            True,
        )
        yield "normal", Snapshot(as_of=NOW, pharmacogenomics={t["gene"]: "indeterminate"}), False
    elif kind.startswith("induction_"):
        yield from _induction_scenarios(rule)
    elif kind in ("liver_tests", "qtc", "drug_screen_unexplained", "kratom_screen_negative"):
        yield from _result_scenarios(rule)
    else:
        raise AssertionError(f"no scenario builder for trigger kind {kind!r}")


def _induction(
    doses: tuple[BuprenorphineDose, ...] = (), observations: tuple[Observation, ...] = ()
) -> InductionRecord:
    return InductionRecord(NOW - timedelta(days=1), doses, observations)


def _induction_scenarios(rule: Rule) -> Iterator[tuple[str, Snapshot, bool]]:
    t = rule.trigger
    first = NOW - timedelta(hours=10)
    dose = (BuprenorphineDose(first, Decimal(2)),)
    if rule.kind == "induction_cows_rise":
        rise = (
            Observation(first - timedelta(hours=1), cows=9),
            Observation(first + timedelta(hours=1), cows=9 + t["min_rise"]),
        )
        yield "rise", Snapshot(as_of=NOW, induction=_induction(dose, rise)), True
        yield "no active plan", Snapshot(as_of=NOW), False
        small = (rise[0], Observation(first + timedelta(hours=1), cows=8 + t["min_rise"]))
        yield "rise below", Snapshot(as_of=NOW, induction=_induction(dose, small)), False
    elif rule.kind == "induction_sedation":
        seen = (Observation(first + timedelta(hours=1), sedation=t["min_level"]),)
        yield "sedated", Snapshot(as_of=NOW, induction=_induction(dose, seen)), True
        low = (Observation(first + timedelta(hours=1), sedation=t["min_level"] - 1),)
        yield "below", Snapshot(as_of=NOW, induction=_induction(dose, low)), False
    elif rule.kind == "induction_depressants":
        meds = (Medication("diazepam 5 mg"),)
        yield "listed", Snapshot(as_of=NOW, medications=meds, induction=_induction()), True
        yield "no active plan", Snapshot(as_of=NOW, medications=meds), False
    elif rule.kind == "induction_kratom_use":
        after = (_dose(first + timedelta(hours=2), Decimal(2)),)
        with_plan = Snapshot(as_of=NOW, products=(LEAF,), doses=after, induction=_induction(dose))
        yield "kratom after", with_plan, True
        yield "no dose given yet", replace(with_plan, induction=_induction()), False
        before = (_dose(first - timedelta(hours=2), Decimal(2)),)
        yield "kratom before", replace(with_plan, doses=before), False
    else:
        raise AssertionError(f"no scenario builder for trigger kind {rule.kind!r}")


def _result_scenarios(rule: Rule) -> Iterator[tuple[str, Snapshot, bool]]:
    """Results a day old, with a week of daily kratom doses before them."""
    t, at = rule.trigger, NOW - timedelta(days=1)
    used = tuple(_dose(at - timedelta(days=d, hours=1), Decimal(2)) for d in range(7))

    def with_results(*items: Any, medications: tuple[Medication, ...] = ()) -> Snapshot:
        return Snapshot(
            as_of=NOW,
            products=(LEAF,),
            doses=used,
            medications=medications,
            measurements=tuple(i for i in items if isinstance(i, Measurement)),
            screens=tuple(i for i in items if isinstance(i, ScreenResult)),
        )

    def lft(alt: str, alp: str, bili: str) -> list[Measurement]:
        return [
            Measurement("alt", at, Decimal(alt)),
            Measurement("alp", at, Decimal(alp)),
            Measurement("bilirubin", at, Decimal(bili)),
        ]

    if rule.kind == "liver_tests":
        levels = {
            "injury_with_jaundice": lft("200", "120", "2.5"),
            "injury": lft("300", "120", "0.5"),
            "raised": lft("80", "120", "0.5"),
        }
        for level, values in levels.items():
            yield level, with_results(*values), level == t["level"]
        yield "normal", with_results(*lft("30", "80", "0.5")), False
    elif rule.kind == "qtc":
        qt = (Medication("methadone"),)
        with_drug = "with_classes" in t
        yield (
            "above, QT drug",
            with_results(Measurement("qtc", at, Decimal(530)), medications=qt),
            with_drug,
        )
        yield "above, no QT drug", with_results(Measurement("qtc", at, Decimal(530))), not with_drug
        yield (
            "at threshold",
            with_results(Measurement("qtc", at, Decimal(t["above_ms"])), medications=qt),
            False,
        )
    elif rule.kind == "drug_screen_unexplained":
        positive = ScreenResult("benzodiazepines", at, "positive")
        yield "unexplained", with_results(positive), True
        yield "explained", with_results(positive, medications=(Medication("Xanax 0.5 mg"),)), False
    else:
        negative = ScreenResult("mitragynine", at, "negative")
        yield "negative, daily use", with_results(negative), True
        yield "positive, daily use", with_results(replace(negative, result="positive")), False


CASES = [
    (rule_id, name, snap, expect)
    for rule_id, rule in RULES.items()
    for name, snap, expect in scenarios(rule)
]


@pytest.mark.parametrize(
    "rule_id, name, snapshot, expect", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_rule_scenario(rule_id: str, name: str, snapshot: Snapshot, expect: bool) -> None:
    result = screen(snapshot)
    findings = {f.code for f in result.findings}
    notes = {n.code for n in result.notes}
    if RULES[rule_id].shown_as == "note":
        # Nothing to act on: shown beside what it concerns, never raised as a finding.
        assert (rule_id in notes) is expect
        assert rule_id not in findings
    else:
        assert (rule_id in findings) is expect
        assert rule_id not in notes


def test_every_rule_has_a_positive_and_a_negative_scenario() -> None:
    for rule_id in RULES:
        outcomes = {expect for r, _, _, expect in CASES if r == rule_id}
        assert outcomes == {True, False}, rule_id


def test_several_risks_at_once() -> None:
    snap = Snapshot(
        as_of=NOW,
        medications=(
            Medication("Percocet 5/325"),
            Medication("Xanax XR 1 mg"),
            Medication("gabapentin 300mg TID"),
        ),
        conditions=("pregnancy", "G40.909"),
        symptoms=(SymptomReport("had a fit"),),
        products=(ProductUse("7-OH tabs", ProductSpec(ProductForm.SEVEN_OH)),),
        year_of_birth=1950,
    )
    result = screen(snap)
    codes = {f.code for f in result.findings}
    classes = {
        c
        for f in result.findings
        if f.category == "interaction"
        for t in f.triggers
        for c in t.get("ingredients", [])
    }
    assert {"oxycodone", "paracetamol", "alprazolam", "gabapentin"} <= classes | {"paracetamol"}
    by_category = {f.category for f in result.findings}
    assert {"interaction", "condition", "product", "red_flag"} <= by_category
    assert any(c.startswith("interaction.benzodiazepine") for c in codes)
    assert [f.severity for f in result.findings] == sorted(
        (f.severity for f in result.findings), key=lambda s: {"high": 0, "moderate": 1, "low": 2}[s]
    )
    assert not result.to_dict()["not_recognized"]["medications"]
