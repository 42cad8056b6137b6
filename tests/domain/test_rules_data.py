"""Integrity of the safety rules, symptom and condition vocabularies (pure data checks)."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

DATA = Path(__file__).resolve().parents[2] / "src" / "kratomwatch" / "data"
KNOWLEDGE = DATA / "knowledge"
SCHEMAS = DATA / "schemas"
INSTRUMENTS = DATA / "instruments"

RULES = KNOWLEDGE / "rules.yaml"
SYMPTOMS = KNOWLEDGE / "symptoms.yaml"
CONDITIONS = KNOWLEDGE / "conditions.yaml"
REFERENCES = KNOWLEDGE / "references.yaml"
SUBSTANCES = KNOWLEDGE / "substances.yaml"

CATEGORIES = {
    "interaction",
    "condition",
    "product",
    "red_flag",
    "dependence",
    "tolerance",
    "benefit",
    "result",
}
CONDITION_CODES = {
    "low_back_pain",
    "neuropathic_pain",
    "fibromyalgia",
    "other_pain",
    "pregnancy",
    "breastfeeding",
    "liver_disease",
    "respiratory_disease",
    "arrhythmia_long_qt",
    "seizure_disorder",
    "sud_history",
    "sud_in_treatment",
    "psychiatric",
}
WEAK_EVIDENCE = {"extrapolated_from_opioid_class", "expert_consensus"}
HONESTY_WORDS = ("extrapolated", "no kratom-specific")
# Amounts such as "2 g" or "25 mg": never part of advice to the clinician or the patient.
AMOUNT_RE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:g|mg|grams?|milligrams?)\b", re.IGNORECASE)
SAFETY_CLAIM_RE = re.compile(
    r"\b(?:kratom is safe|safe to (?:take|use)|non-addictive|not addictive)\b", re.IGNORECASE
)


@cache
def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _rules() -> list[dict[str, Any]]:
    return list(_yaml(RULES)["rules"])


def _rules_with_trigger(kind: str) -> list[dict[str, Any]]:
    return [rule for rule in _rules() if rule["trigger"]["kind"] == kind]


def _symptoms() -> list[dict[str, Any]]:
    return list(_yaml(SYMPTOMS)["symptoms"])


def _conditions() -> list[dict[str, Any]]:
    return list(_yaml(CONDITIONS)["conditions"])


def _reference_ids() -> set[str]:
    return {ref["id"] for ref in _yaml(REFERENCES)["references"]}


def _class_ids() -> set[str]:
    return set(_yaml(SUBSTANCES)["classes"])


def _substance_ids() -> set[str]:
    ids: set[str] = set()
    for part in _yaml(SUBSTANCES)["parts"]:
        path = KNOWLEDGE / part
        if path.exists():  # parts are checked for existence by the substances tests
            ids |= {item["id"] for item in _yaml(path)["substances"]}
    return ids


@cache
def _instruments() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(INSTRUMENTS.glob("*.yaml")):
        doc = _yaml(path)
        found[doc["id"]] = doc
    return found


def _validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    schema = _json(schema_path)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _rule_text(rule: dict[str, Any]) -> str:
    return " ".join((rule["mechanism"], rule["consequence"])).lower()


# --- schemas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_path", "schema_name"),
    [
        (RULES, "rules.schema.json"),
        (SYMPTOMS, "symptoms.schema.json"),
        (CONDITIONS, "conditions.schema.json"),
    ],
    ids=["rules", "symptoms", "conditions"],
)
def test_file_validates_against_its_schema(data_path: Path, schema_name: str) -> None:
    validator = _validator(SCHEMAS / schema_name)
    errors = sorted(validator.iter_errors(_yaml(data_path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def _first_rule_copy() -> dict[str, Any]:
    doc = copy.deepcopy(_yaml(RULES))
    doc["rules"] = [doc["rules"][0]]
    return doc


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda r: r["trigger"].update(symptoms=["seizure"]), id="two-trigger-fields"),
        pytest.param(lambda r: r["trigger"].update(kind="telepathy"), id="unknown-trigger-kind"),
        pytest.param(lambda r: r.update(severity="critical"), id="unknown-severity"),
        pytest.param(lambda r: r.update(references=[]), id="no-references"),
        pytest.param(lambda r: r.update(dose_advice="take 2 g"), id="extra-field"),
        pytest.param(lambda r: r.update(id="no_dot"), id="bad-id"),
        pytest.param(
            lambda r: r.update(category="red_flag", severity="moderate"), id="red-flag-not-high"
        ),
        pytest.param(
            lambda r: r.update(category="red_flag", severity="high", patient_message=None),
            id="red-flag-without-message",
        ),
        pytest.param(
            lambda r: r.update(evidence_level="expert_consensus", kratom_specific=True),
            id="consensus-marked-kratom-specific",
        ),
        pytest.param(
            lambda r: r.update(
                trigger={"kind": "product", "forms": ["extract"], "high_risk": True}
            ),
            id="product-two-selectors",
        ),
        pytest.param(
            lambda r: r.update(
                trigger={
                    "kind": "questionnaire_score",
                    "instrument": "cows",
                    "min_total": 5,
                    "bands": ["mild"],
                }
            ),
            id="score-two-selectors",
        ),
        pytest.param(
            lambda r: r.update(trigger={"kind": "condition", "conditions": ["gout"]}),
            id="unknown-condition",
        ),
    ],
)
def test_rules_schema_rejects(mutate: Any) -> None:
    doc = _first_rule_copy()
    mutate(doc["rules"][0])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            doc, _json(SCHEMAS / "rules.schema.json"), cls=jsonschema.Draft202012Validator
        )


def test_shared_version() -> None:
    """The knowledge base is released as a whole: every file carries the newest version
    named in its changelog."""
    versions = {str(_yaml(path)["version"]) for path in (RULES, SYMPTOMS, CONDITIONS)}
    changelog = (RULES.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = next(line for line in changelog.splitlines() if line.startswith("## "))
    assert versions == {newest.split()[1]}
    assert str(_yaml(RULES.parent / "substances.yaml")["version"]) == newest.split()[1]


# --- rules: identity and cross-file references ---------------------------------------------


def test_rule_ids_are_unique() -> None:
    counts = Counter(rule["id"] for rule in _rules())
    assert not [rid for rid, n in counts.items() if n > 1]


def test_rule_count_is_in_the_planned_range() -> None:
    assert 45 <= len(_rules()) <= 100


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r["id"])
def test_rule_cites_existing_references(rule: dict[str, Any]) -> None:
    missing = [rid for rid in rule["references"] if rid not in _reference_ids()]
    assert not missing, missing


def test_substance_classes_exist_in_the_vocabulary() -> None:
    classes = _class_ids()
    for rule in _rules_with_trigger("substance_class"):
        unknown = [c for c in rule["trigger"]["classes"] if c not in classes]
        assert not unknown, (rule["id"], unknown)


def test_substances_exist_in_the_substance_files() -> None:
    substances = _substance_ids()
    for rule in _rules_with_trigger("substance"):
        unknown = [s for s in rule["trigger"]["substances"] if s not in substances]
        assert not unknown, (rule["id"], unknown)


def test_symptoms_used_by_rules_exist() -> None:
    ids = {s["id"] for s in _symptoms()}
    for rule in _rules_with_trigger("symptom"):
        unknown = [s for s in rule["trigger"]["symptoms"] if s not in ids]
        assert not unknown, (rule["id"], unknown)


def test_conditions_used_by_rules_exist() -> None:
    codes = {c["code"] for c in _conditions()}
    for rule in _rules_with_trigger("condition"):
        unknown = [c for c in rule["trigger"]["conditions"] if c not in codes]
        assert not unknown, (rule["id"], unknown)


def _max_value(item: dict[str, Any]) -> int:
    return max(int(option["value"]) for option in item["options"])


def test_questionnaire_items_exist_and_can_reach_the_threshold() -> None:
    instruments = _instruments()
    for rule in _rules_with_trigger("questionnaire_item"):
        trigger = rule["trigger"]
        assert trigger["instrument"] in instruments, rule["id"]
        items = {item["id"]: item for item in instruments[trigger["instrument"]]["items"]}
        assert trigger["item"] in items, (rule["id"], trigger["item"])
        assert 0 < trigger["min"] <= _max_value(items[trigger["item"]]), rule["id"]


def test_questionnaire_scores_use_existing_bands_or_reachable_totals() -> None:
    instruments = _instruments()
    for rule in _rules_with_trigger("questionnaire_score"):
        trigger = rule["trigger"]
        assert trigger["instrument"] in instruments, rule["id"]
        instrument = instruments[trigger["instrument"]]
        if "bands" in trigger:
            labels = {band["label"] for band in instrument["scoring"].get("bands", [])}
            unknown = [b for b in trigger["bands"] if b not in labels]
            assert not unknown, (rule["id"], unknown)
        else:
            ceiling = sum(_max_value(item) for item in instrument["items"])
            assert 0 < trigger["min_total"] <= ceiling, rule["id"]


def test_dose_frequency_windows_are_consistent() -> None:
    for rule in _rules_with_trigger("dose_frequency"):
        trigger = rule["trigger"]
        assert trigger["min_days"] <= trigger["window_days"], rule["id"]


# --- rules: honesty ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r["id"])
def test_weak_evidence_is_labelled_in_words(rule: dict[str, Any]) -> None:
    if rule["evidence_level"] in WEAK_EVIDENCE:
        assert rule["kratom_specific"] is False
        text = _rule_text(rule)
        assert any(word in text for word in HONESTY_WORDS), rule["id"]


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r["id"])
def test_advice_never_gives_an_amount_or_calls_kratom_safe(rule: dict[str, Any]) -> None:
    for field in ("management", "patient_message"):
        text = rule[field] or ""
        assert not AMOUNT_RE.search(text), (rule["id"], field)
        assert not SAFETY_CLAIM_RE.search(text), (rule["id"], field)


def test_red_flag_rules_are_high_and_send_the_patient_for_help() -> None:
    red_flags = [rule for rule in _rules() if rule["category"] == "red_flag"]
    assert red_flags
    for rule in red_flags:
        assert rule["severity"] == "high", rule["id"]
        assert rule["trigger"]["kind"] in {"symptom", "questionnaire_item"}, rule["id"]
        message = (rule["patient_message"] or "").lower()
        assert "emergency" in message or "urgent" in message, rule["id"]


def test_symptom_rules_in_red_flag_category_use_red_flag_symptoms() -> None:
    flagged = {s["id"] for s in _symptoms() if s["red_flag"]}
    for rule in _rules_with_trigger("symptom"):
        if rule["category"] == "red_flag":
            assert set(rule["trigger"]["symptoms"]) <= flagged, rule["id"]


# --- rules: required coverage --------------------------------------------------------------


def test_every_category_has_a_rule() -> None:
    assert {rule["category"] for rule in _rules()} == CATEGORIES


def test_every_red_flag_symptom_has_a_red_flag_rule() -> None:
    covered = {
        symptom
        for rule in _rules_with_trigger("symptom")
        if rule["category"] == "red_flag"
        for symptom in rule["trigger"]["symptoms"]
    }
    flagged = {s["id"] for s in _symptoms() if s["red_flag"]}
    assert flagged - covered == set()


def test_required_red_flags_are_in_the_vocabulary() -> None:
    flagged = {s["id"] for s in _symptoms() if s["red_flag"]}
    assert flagged >= {
        "seizure",
        "jaundice",
        "dark_urine",
        "chest_pain",
        "fainting",
        "breathing_difficulty",
        "extreme_drowsiness",
        "suicidal_thoughts",
    }


def test_phq9_item_9_rule_gives_crisis_resources() -> None:
    item9 = _instruments()["phq9"]["items"][8]["id"]
    matches = [
        rule
        for rule in _rules_with_trigger("questionnaire_item")
        if rule["trigger"]["instrument"] == "phq9"
        and rule["trigger"]["item"] == item9
        and rule["trigger"]["min"] == 1
    ]
    assert len(matches) == 1
    rule = matches[0]
    assert rule["category"] == "red_flag"
    assert "988" in rule["patient_message"]
    assert "local emergency number" in rule["patient_message"]
    assert {"kroenke2001", "lifeline988"} <= set(rule["references"])


def test_suicidal_thoughts_symptom_rule_gives_crisis_resources() -> None:
    rules = [
        rule
        for rule in _rules_with_trigger("symptom")
        if "suicidal_thoughts" in rule["trigger"]["symptoms"]
    ]
    assert rules
    for rule in rules:
        assert "988" in rule["patient_message"], rule["id"]
        assert "lifeline988" in rule["references"], rule["id"]


@pytest.mark.parametrize("code", ["pregnancy", "breastfeeding"])
def test_condition_rule_present(code: str) -> None:
    assert any(code in rule["trigger"]["conditions"] for rule in _rules_with_trigger("condition"))


def test_older_age_rule_present() -> None:
    ages = [rule["trigger"].get("min_years") for rule in _rules_with_trigger("age")]
    assert 65 in ages


def test_minor_rule_present() -> None:
    ages = [rule["trigger"].get("max_years") for rule in _rules_with_trigger("age")]
    assert 17 in ages


def test_high_risk_7oh_product_rule_is_high_severity() -> None:
    rules = [r for r in _rules_with_trigger("product") if r["trigger"].get("high_risk")]
    assert rules and all(rule["severity"] == "high" for rule in rules)


def test_unknown_potency_rule_present() -> None:
    assert any(r["trigger"].get("potency_unknown") for r in _rules_with_trigger("product"))


@pytest.mark.parametrize("substance", ["naltrexone", "buprenorphine", "methadone", "quetiapine"])
def test_substance_rule_present(substance: str) -> None:
    assert any(
        substance in rule["trigger"]["substances"] for rule in _rules_with_trigger("substance")
    )


def test_naltrexone_rule_is_high_and_cites_the_case_report() -> None:
    rules = [
        r for r in _rules_with_trigger("substance") if "naltrexone" in r["trigger"]["substances"]
    ]
    assert any(r["severity"] == "high" and "jarka2023" in r["references"] for r in rules)


def test_cyp2d6_rules_stay_low_because_no_clinical_effect_was_shown() -> None:
    for rule in _rules_with_trigger("substance_class"):
        if any(c.startswith("cyp2d6_") for c in rule["trigger"]["classes"]):
            assert rule["severity"] == "low", rule["id"]
            assert "tanna2023" in rule["references"], rule["id"]


def test_lack_of_benefit_uses_the_immpact_threshold() -> None:
    rules = _rules_with_trigger("lack_of_benefit")
    assert any(
        r["trigger"]["min_improvement_pct"] == 30 and "dworkin2008" in r["references"]
        for r in rules
    )


def test_tolerance_and_frequency_rules_present() -> None:
    assert _rules_with_trigger("tolerance")
    assert _rules_with_trigger("dose_frequency")


# --- vocabularies --------------------------------------------------------------------------


def test_symptom_ids_are_unique() -> None:
    counts = Counter(s["id"] for s in _symptoms())
    assert not [sid for sid, n in counts.items() if n > 1]


def test_symptom_synonyms_are_unique_across_symptoms() -> None:
    counts = Counter(syn.lower() for s in _symptoms() for syn in s["synonyms"])
    assert not [syn for syn, n in counts.items() if n > 1]


def test_condition_codes_are_exactly_the_fixed_set() -> None:
    codes = [c["code"] for c in _conditions()]
    assert len(codes) == len(set(codes))
    assert set(codes) == CONDITION_CODES


def test_condition_synonyms_are_unique_across_conditions() -> None:
    counts = Counter(syn.lower() for c in _conditions() for syn in c["synonyms"])
    assert not [syn for syn, n in counts.items() if n > 1]


def test_icd10_prefixes_map_a_code_to_at_most_one_condition() -> None:
    owned = [(prefix, c["code"]) for c in _conditions() for prefix in c["icd10"]]
    for prefix, code in owned:
        for other_prefix, other_code in owned:
            if code != other_code:
                assert not other_prefix.startswith(prefix), (prefix, code, other_prefix, other_code)


def _normalise(text: str) -> str:
    """Lower case, punctuation (except ' and -) to spaces, single spaces: as free-text matching."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'-]", " ", text.lower())).strip()


@pytest.mark.parametrize(
    ("entries", "key"),
    [(_symptoms(), "id"), (_conditions(), "code")],
    ids=["symptoms", "conditions"],
)
def test_names_stay_unique_after_normalisation(entries: list[dict[str, Any]], key: str) -> None:
    owner: dict[str, str] = {}
    for entry in entries:
        for name in (entry[key].replace("_", " "), entry["label"], *entry["synonyms"]):
            norm = _normalise(name)
            assert owner.setdefault(norm, entry[key]) == entry[key], (name, owner[norm])
