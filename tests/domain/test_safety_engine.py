"""The engine's mechanics, on a small knowledge base made here (not the shipped rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.plan_check import PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.safety import (
    DoseTaken,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
    load_knowledge,
    screen,
)
from kratomwatch.domain.safety.knowledge import Rule

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def rule(rule_id: str, trigger: dict[str, Any], severity: str = "moderate") -> Rule:
    return Rule(
        id=rule_id,
        severity=severity,
        category=rule_id.split(".")[0],
        title=rule_id,
        trigger=trigger,
        mechanism="Mechanism.",
        consequence="Consequence.",
        management="Manage.",
        patient_message="Tell.",
        evidence_level="case_reports",
        kratom_specific=True,
        references=("tanna2023",),
    )


def kb_with(*rules: Rule) -> Any:
    return replace(load_knowledge(), rules=tuple(rules))


def codes(result: Any) -> list[str]:
    return [f.code for f in result.findings]


def daily_pain(day: datetime, pain: int) -> Response:
    instrument = get_instrument("kw-daily-pain")
    return Response("kw-daily-pain", day, score(instrument, [pain, pain, 3, 3, 5]))


LEAF = ProductUse(
    "Red powder", ProductSpec(ProductForm.LEAF_POWDER, mitragynine_mg_per_g=Decimal("15"))
)


def leaf_dose(at: datetime, grams: str) -> DoseTaken:
    g = Decimal(grams)
    return DoseTaken(at, g, "g", LEAF.name, Exposure(g, g * 15, None))


def test_a_class_rule_fires_on_a_brand_name_and_names_it() -> None:
    kb = kb_with(
        rule("interaction.benzo", {"kind": "substance_class", "classes": ["benzodiazepine"]})
    )
    snap = Snapshot(as_of=NOW, medications=(Medication("Xanax 0.5 mg", "twice a day"),))
    result = screen(snap, kb)
    assert codes(result) == ["interaction.benzo"]
    finding = result.findings[0]
    assert "Xanax 0.5 mg" in finding.rationale and "(Benzodiazepine)" in finding.rationale
    assert finding.triggers == (
        {
            "type": "medication",
            "name": "Xanax 0.5 mg",
            "dose": "twice a day",
            "ingredients": ["alprazolam"],
        },
    )
    assert result.to_dict()["findings"][0]["references"][0]["pmid"] == "36924284"


def test_unknown_names_are_returned_with_suggestions_and_a_finding() -> None:
    kb = kb_with()
    snap = Snapshot(
        as_of=NOW,
        medications=(Medication("zzqx"),),
        conditions=("epilepsy", "blorb"),
        symptoms=(SymptomReport("grumbly toes"),),
    )
    result = screen(snap, kb)
    unknown = result.to_dict()["not_recognized"]
    assert [n["text"] for n in unknown["medications"]] == ["zzqx"]
    assert [n["text"] for n in unknown["conditions"]] == ["blorb"]
    assert [n["text"] for n in unknown["symptoms"]] == ["grumbly toes"]
    assert all(n["status"] == "not recognized — not screened" for n in unknown["medications"])
    assert "screening.not_recognized" in codes(result)


def test_conditions_match_codes_icd10_and_synonyms() -> None:
    kb = kb_with(
        rule("condition.seizure", {"kind": "condition", "conditions": ["seizure_disorder"]})
    )
    for text in ("seizure_disorder", "G40.909", "epilepsy"):
        assert codes(screen(Snapshot(as_of=NOW, conditions=(text,)), kb)) == ["condition.seizure"]
    assert codes(screen(Snapshot(as_of=NOW, conditions=("low_back_pain",)), kb)) == []


def test_questionnaire_item_rule_uses_the_latest_recent_response() -> None:
    kb = kb_with(
        rule(
            "red_flag.phq9",
            {"kind": "questionnaire_item", "instrument": "phq9", "item": _phq9_item9(), "min": 1},
            "high",
        )
    )
    phq9 = get_instrument("phq9")
    positive = Response("phq9", NOW - timedelta(days=2), score(phq9, [0] * 8 + [1]))
    negative = Response("phq9", NOW - timedelta(days=1), score(phq9, [1] * 8 + [0]))
    assert codes(screen(Snapshot(as_of=NOW, responses=(positive,)), kb)) == ["red_flag.phq9"]
    assert codes(screen(Snapshot(as_of=NOW, responses=(positive, negative)), kb)) == []
    stale = replace(positive, taken_at=NOW - timedelta(days=60))
    assert codes(screen(Snapshot(as_of=NOW, responses=(stale,)), kb)) == []


def _phq9_item9() -> str:
    return get_instrument("phq9").items[8].id


def test_tolerance_needs_rising_dose_without_pain_relief() -> None:
    kb = kb_with(
        rule(
            "tolerance.rising",
            {
                "kind": "tolerance",
                "window_days": 14,
                "min_dose_increase_pct": 25,
                "max_pain_improvement_pct": 10,
            },
        )
    )
    days = [NOW - timedelta(days=27 - i) for i in range(28)]
    rising = tuple(leaf_dose(d, "2" if i < 14 else "3") for i, d in enumerate(days))
    flat_pain = tuple(daily_pain(d, 6) for d in days)
    better_pain = tuple(daily_pain(d, 6 if i < 14 else 4) for i, d in enumerate(days))
    hit = screen(Snapshot(as_of=NOW, products=(LEAF,), doses=rising, responses=flat_pain), kb)
    assert codes(hit) == ["tolerance.rising"]
    assert "50%" in hit.findings[0].rationale
    assert (
        codes(
            screen(Snapshot(as_of=NOW, products=(LEAF,), doses=rising, responses=better_pain), kb)
        )
        == []
    )
    steady = tuple(leaf_dose(d, "2") for d in days)
    assert (
        codes(screen(Snapshot(as_of=NOW, products=(LEAF,), doses=steady, responses=flat_pain), kb))
        == []
    )


def test_lack_of_benefit_after_a_stable_period() -> None:
    kb = kb_with(
        rule(
            "benefit.none",
            {
                "kind": "lack_of_benefit",
                "after_days": 90,
                "min_improvement_pct": 30,
                "max_dose_change_pct": 20,
            },
        )
    )
    days = [NOW - timedelta(days=99 - i) for i in range(100)]
    doses = tuple(leaf_dose(d, "4") for d in days)
    flat = tuple(daily_pain(d, 7) for d in days)
    helped = tuple(daily_pain(d, 7 if i < 50 else 4) for i, d in enumerate(days))
    assert codes(
        screen(Snapshot(as_of=NOW, products=(LEAF,), doses=doses, responses=flat), kb)
    ) == ["benefit.none"]
    assert (
        codes(screen(Snapshot(as_of=NOW, products=(LEAF,), doses=doses, responses=helped), kb))
        == []
    )
    short = Snapshot(as_of=NOW, products=(LEAF,), doses=doses[-30:], responses=flat[-30:])
    assert codes(screen(short, kb)) == []  # not enough history: no verdict


def test_dose_frequency() -> None:
    kb = kb_with(
        rule(
            "dependence.frequent",
            {"kind": "dose_frequency", "window_days": 14, "min_doses_per_day": 4, "min_days": 7},
        )
    )
    times = [NOW - timedelta(days=d, hours=h) for d in range(10) for h in (1, 3, 5, 7)]
    doses = tuple(leaf_dose(t, "1") for t in times)
    assert codes(screen(Snapshot(as_of=NOW, products=(LEAF,), doses=doses), kb)) == [
        "dependence.frequent"
    ]
    assert codes(screen(Snapshot(as_of=NOW, products=(LEAF,), doses=doses[::2]), kb)) == []


def test_products_in_use_high_risk_and_unknown_potency() -> None:
    kb = kb_with(
        rule("product.seven_oh", {"kind": "product", "high_risk": True}, "high"),
        rule("product.unknown", {"kind": "product", "potency_unknown": True}, "low"),
    )
    seven = ProductUse("7-OH tabs", ProductSpec(ProductForm.SEVEN_OH))
    assert codes(screen(Snapshot(as_of=NOW, products=(seven,)), kb)) == [
        "product.seven_oh",
        "product.unknown",
    ]
    assert codes(screen(Snapshot(as_of=NOW, products=(LEAF,)), kb)) == []
    old = DoseTaken(
        NOW - timedelta(days=90),
        Decimal(1),
        "tablet",
        seven.name,
        Exposure(None, None, Decimal(15)),
    )
    recent = leaf_dose(NOW - timedelta(days=1), "2")
    snap = Snapshot(as_of=NOW, products=(seven, LEAF), doses=(old, recent))
    assert codes(screen(snap, kb)) == []  # the 7-OH product is no longer in use


def test_plan_limits_are_checked_when_a_plan_is_given() -> None:
    snap = Snapshot(
        as_of=NOW,
        products=(LEAF,),
        doses=(leaf_dose(NOW, "5"),),
        plan=PlanLimits(1, max_single_dose_g=Decimal("3")),
    )
    assert codes(screen(snap, kb_with())) == ["plan.single_dose_exceeded"]


def test_a_failing_rule_is_reported_not_swallowed() -> None:
    kb = kb_with(
        rule("broken.rule", {"kind": "questionnaire_score", "instrument": "phq9"}),
        rule("condition.any", {"kind": "condition", "conditions": ["pregnancy"]}),
    )
    result = screen(
        Snapshot(
            as_of=NOW,
            conditions=("pregnancy",),
            responses=(Response("phq9", NOW, score(get_instrument("phq9"), [0] * 9)),),
        ),
        kb,
    )
    assert "screening.incomplete" in codes(result) and "condition.any" in codes(result)
    incomplete = next(f for f in result.findings if f.code == "screening.incomplete")
    assert incomplete.severity == "high" and "broken.rule" in incomplete.rationale


def test_findings_are_sorted_by_severity_and_deterministic() -> None:
    kb = kb_with(
        rule("a.low", {"kind": "condition", "conditions": ["pregnancy"]}, "low"),
        rule("b.high", {"kind": "condition", "conditions": ["pregnancy"]}, "high"),
    )
    snap = Snapshot(as_of=NOW, conditions=("pregnancy",))
    first, second = screen(snap, kb).to_dict(), screen(snap, kb).to_dict()
    assert first == second
    assert [f["code"] for f in first["findings"]] == ["b.high", "a.low"]


@pytest.mark.parametrize("year, fires", [(1961, True), (1962, False)])
def test_age_threshold(year: int, fires: bool) -> None:
    kb = kb_with(rule("condition.older", {"kind": "age", "min_years": 65}))
    assert bool(codes(screen(Snapshot(as_of=NOW, year_of_birth=year), kb))) is fires


def test_rationales_name_things_by_their_labels_never_their_codes() -> None:
    item = _phq9_item9()
    kb = kb_with(
        rule(
            "red_flag.phq9",
            {"kind": "questionnaire_item", "instrument": "phq9", "item": item, "min": 1},
            "high",
        ),  # fmt: skip
        rule("interaction.opioid", {"kind": "substance_class", "classes": ["opioid_agonist"]}),
        rule("product.seven_oh", {"kind": "product", "forms": ["seven_oh"]}),
        rule("broken.rule", {"kind": "questionnaire_score", "instrument": "phq9"}),
    )
    snap = Snapshot(
        as_of=NOW,
        medications=(Medication("oxycodone 5 mg"),),
        products=(ProductUse("Blue tabs", ProductSpec(form=ProductForm.SEVEN_OH)),),
        responses=(Response("phq9", NOW, score(get_instrument("phq9"), [0] * 8 + [2])),),
    )
    text = " ".join(f.rationale for f in screen(snap, kb).findings)
    assert "PHQ-9 on" in text and "item 9 answered 2" in text
    assert "(Opioid agonist)" in text and "7-OH" in text
    assert "rules could not be evaluated: “broken.rule”" in text  # the test rule's title
    for code in ("phq9", item, "opioid_agonist", "seven_oh"):
        assert code not in text
