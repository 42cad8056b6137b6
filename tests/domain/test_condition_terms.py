"""Conditions from a standard vocabulary: ICD-10-CM codes and titles, lay names, variants.

The cases are generated from the data (conditions.yaml, condition_terms.yaml, ICD-10-CM
titles), so a name added there is tested here. Screening uses the shipped knowledge base.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kratomwatch.domain.safety import Snapshot, load_knowledge, screen
from kratomwatch.domain.safety.condition_terms import IcdCondition, icd10cm, icd_code
from kratomwatch.domain.safety.condition_terms import normalize_text as fast_normalize
from kratomwatch.domain.safety.knowledge import ConditionEntry, normalize_text

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KB = load_knowledge()
DATA = Path(__file__).parents[2] / "src" / "kratomwatch" / "data" / "knowledge"
TERMS: dict[str, Any] = yaml.safe_load((DATA / "condition_terms.yaml").read_text("utf-8"))
WORDS = TERMS["words"]


def _class_of(text: str) -> str | None:
    found = KB.match_condition(text)
    return found.code if isinstance(found, ConditionEntry) else None


def _icd_of(text: str) -> str | None:
    found = KB.match_condition(text)
    return found.code if isinstance(found, IcdCondition) else None


def _synonyms() -> list[tuple[str, str]]:
    return [(syn, entry.code) for entry in KB.conditions.values() for syn in entry.synonyms]


def _lay_names() -> list[tuple[str, str]]:
    return [(name, term["icd10"]) for term in TERMS["terms"] for name in term["names"]]


def _has_dropped_word(name: str) -> bool:
    words = set(normalize_text(name).split())
    dropped = {*WORDS["determiners"], *WORDS["filler"], *WORDS["sides"]}
    return bool(words & dropped)


def _variants(name: str) -> list[str]:
    """How people write a name: case, punctuation, plural, filler, body site."""
    out = [name.upper(), name.lower(), f"  {name}.", f"{name}!", f"({name})"]
    if _has_dropped_word(name):
        return out
    last = normalize_text(name).split()[-1]
    adjective = last.endswith(("nt", "ed", "ic"))  # pregnant, treated, epileptic
    if len(last) > 3 and not last.endswith(("s", "y")) and not name.isupper() and not adjective:
        out.append(f"{name}s")
    out += [
        f"my {name}",
        f"bad {name}",
        f"chronic {name}",
        f"{name} in my hands",
        f"{name} down my left leg",
        f"my {name} in both knees",
        f"severe {name} on the right side",
    ]
    return out


# ----------------------------------------------------------------------------- the data


def test_normalization_is_the_same_in_both_modules() -> None:
    names = [n for n, _ in _synonyms() + _lay_names()] + list(icd10cm().titles.values())[:5000]
    assert [fast_normalize(n) for n in names] == [normalize_text(n) for n in names]


@pytest.mark.parametrize(("name", "code"), _lay_names())
def test_every_lay_code_exists_and_falls_in_no_class(name: str, code: str) -> None:
    assert icd10cm().get(code) is not None, f"{code} is not an ICD-10-CM code"
    owners = [e.code for e in KB.conditions.values() for p in e.icd10 if code.startswith(p.upper())]
    assert owners == [], f"{name!r} → {code} belongs in conditions.yaml ({owners})"


def test_lay_names_are_unique_and_are_not_condition_synonyms() -> None:
    counts = Counter(normalize_text(n) for n, _ in _lay_names())
    assert [n for n, c in counts.items() if c > 1] == []
    synonyms = set(KB.condition_index)
    assert sorted(set(counts) & synonyms) == []


def test_no_word_list_holds_a_word_of_a_condition_class_label() -> None:
    # dropping a word must never turn one condition into another class's name
    labels = {w for e in KB.conditions.values() for w in normalize_text(e.label).split()}
    dropped = {*WORDS["determiners"], *WORDS["filler"], *WORDS["sides"], *WORDS["body_sites"]}
    assert sorted(dropped & labels - {"chronic", "back"}) == []


# ----------------------------------------------------------------------------- generated


@pytest.mark.parametrize(("name", "code"), _synonyms())
def test_every_condition_synonym_and_its_variants_give_its_class(name: str, code: str) -> None:
    wrong = {v: _class_of(v) for v in _variants(name) if _class_of(v) != code}
    assert wrong == {}


@pytest.mark.parametrize(("name", "code"), _lay_names())
def test_every_lay_name_and_its_variants_give_its_icd10_code(name: str, code: str) -> None:
    wrong = {v: _icd_of(v) for v in _variants(name) if _icd_of(v) != code}
    # a variant that is itself an ICD-10-CM title ("chronic gout") names its own code
    assert {v: c for v, c in wrong.items() if icd10cm().names.get(normalize_text(v)) != c} == {}


@pytest.mark.parametrize(("name", "code"), _lay_names())
def test_the_icd10_title_of_every_lay_code_gives_that_code(name: str, code: str) -> None:
    title = icd10cm().titles[code]
    assert _icd_of(title) == code, title
    assert _icd_of(title.upper()) == code


@pytest.mark.parametrize("code", sorted({c for _, c in _lay_names()}))
def test_icd10_codes_are_read_with_and_without_the_dot(code: str) -> None:
    assert _icd_of(code) == code
    assert _icd_of(code.replace(".", "")) == code
    assert _icd_of(code.lower()) == code


@pytest.mark.parametrize(
    ("entry", "prefix"), [(e.code, p) for e in KB.conditions.values() for p in e.icd10]
)
def test_every_class_prefix_is_found_from_a_real_code_and_its_title(
    entry: str, prefix: str
) -> None:
    codes = sorted(c for c in icd10cm().titles if c.startswith(prefix))
    assert codes, f"{prefix} matches no ICD-10-CM code"
    leaf = codes[-1]
    assert _class_of(leaf) == entry
    assert _class_of(leaf.replace(".", "")) == entry
    assert _class_of(icd10cm().titles[leaf]) in (entry, None)


def test_a_code_of_the_right_shape_that_does_not_exist_is_not_recognized() -> None:
    assert isinstance(KB.match_condition("A1C"), list)
    assert isinstance(KB.match_condition("I10.99"), list)
    assert icd_code("i10") == "I10" and icd_code("g40909") == "G40.909"
    assert icd_code("epilepsy") is None


# ----------------------------------------------------------------------------- screening

NO_CONCERN = {
    "hypertension": "I10",
    "High blood pressure": "I10",
    "asthma": "J45",
    "hypothyroidism": "E03.9",
    "underactive thyroid": "E03.9",
    "GERD": "K21.9",
    "acid reflux": "K21.9",
    "migraines": "G43",
    "sugar diabetes": "E11.9",
    "Type 2 diabetes": "E11.9",
    "E11.9": "E11.9",
    "E119": "E11.9",
    "high cholesterol": "E78.00",
    "hyperlipidemia": "E78.5",
    "gout": "M10.9",
    "psoriasis": "L40.9",
    "eczema": "L30.9",
    "kidney stones": "N20.0",
    "allergies": "T78.40",
    "hay fever": "J30.9",
    "anemia": "D64.9",
    "insomnia": "G47.00",
    "Gastro-esophageal reflux disease without esophagitis": "K21.9",
    "Essential (primary) hypertension": "I10",
    "rheumatoid arthritis": "M06.9",
    "irritable bowel syndrome": "K58",
    "overactive thyroid": "E05.90",
    "osteoporosis": "M81.0",
    "glaucoma": "H40.9",
    "obesity": "E66.9",
}


@pytest.mark.parametrize(("text", "code"), sorted(NO_CONCERN.items()))
def test_a_common_condition_without_kratom_concern_is_recognized_and_raises_nothing(
    text: str, code: str
) -> None:
    result = screen(Snapshot(as_of=NOW, conditions=(text,)))
    assert result.findings == ()
    data = result.to_dict()
    assert data["not_recognized"]["conditions"] == []
    [seen] = data["recognized_without_concern"]["conditions"]
    assert seen["text"] == text and seen["icd10"] == code
    assert seen["title"] == icd10cm().titles[code]
    assert seen["status"] == "recognized — no kratom-specific concern"


def test_all_the_negative_controls_together_give_zero_findings() -> None:
    assert len(NO_CONCERN) >= 20
    result = screen(Snapshot(as_of=NOW, conditions=tuple(NO_CONCERN)))
    assert result.findings == ()
    assert len(result.without_concern["conditions"]) == len(NO_CONCERN)


CLASSES = [
    # codes, with and without the dot
    ("K70.30", "liver_disease"),
    ("K7030", "liver_disease"),
    ("I45.81", "arrhythmia_long_qt"),
    ("G40.909", "seizure_disorder"),
    ("O09.90", "pregnancy"),
    ("Z39.1", "breastfeeding"),
    ("F11.20", "sud_history"),
    ("Z71.51", "sud_in_treatment"),
    ("F32.A", "psychiatric"),
    ("F3289", "psychiatric"),
    # ICD-10-CM titles
    ("Alcoholic cirrhosis of liver without ascites", "liver_disease"),
    ("Long QT syndrome", "arrhythmia_long_qt"),
    ("Unspecified atrial fibrillation", "arrhythmia_long_qt"),
    ("Epilepsy, unspecified, not intractable, without status epilepticus", "seizure_disorder"),
    ("Opioid dependence, uncomplicated", "sud_history"),
    ("Major depressive disorder, single episode, unspecified", "psychiatric"),
    ("Post-traumatic stress disorder, unspecified", "psychiatric"),
    ("Pregnant state, incidental", "pregnancy"),
    ("Type 2 diabetes mellitus with diabetic polyneuropathy", "neuropathic_pain"),
    ("Pain in left knee", "other_pain"),
    # lay names and variants
    ("liver damage", "liver_disease"),
    ("my fatty liver", "liver_disease"),
    ("irregular heartbeat", "arrhythmia_long_qt"),
    ("A-fib", "arrhythmia_long_qt"),
    ("seizures", "seizure_disorder"),
    ("fits", "seizure_disorder"),
    ("pregnant", "pregnancy"),
    ("recovering addict", "sud_history"),
    ("methadone program", "sud_in_treatment"),
    ("depression", "psychiatric"),
    ("my anxiety", "psychiatric"),
    ("arthritis in my hands", "other_pain"),
    ("bad back", "low_back_pain"),
    ("sciatica down my left leg", "low_back_pain"),
    ("my chronic pain", "other_pain"),
    ("pain in my knees", "other_pain"),
]


@pytest.mark.parametrize(("text", "code"), CLASSES)
def test_the_engine_classes_are_found_from_codes_titles_and_lay_names(text: str, code: str) -> None:
    assert _class_of(text) == code
    result = screen(Snapshot(as_of=NOW, conditions=(text,)))
    assert result.to_dict()["not_recognized"]["conditions"] == []
    assert result.without_concern["conditions"] == ()
    rules = {r.id for r in KB.rules if code in r.trigger.get("conditions", ())}
    assert rules <= {f.code for f in result.findings}


@pytest.mark.parametrize(
    "text",
    [
        "blorb",
        "family history of epilepsy",
        "no epilepsy",
        "rule out pregnancy",
        "pain",
        "my pain",
        "pain in my back",
        "problems",
        "A1C",
        "left",
    ],
)
def test_text_that_cannot_be_placed_stays_not_recognized(text: str) -> None:
    found = KB.match_condition(text)
    if text == "pain":  # ICD-10-CM R52 "Pain, unspecified", said in full
        assert isinstance(found, IcdCondition) and found.code == "R52"
        return
    assert isinstance(found, list), found
    result = screen(Snapshot(as_of=NOW, conditions=(text,)))
    assert "screening.not_recognized" in {f.code for f in result.findings}


def test_suggestions_include_lay_names_and_class_labels() -> None:
    assert KB.match_condition("hypertention") == ["hypertension"]
    found = KB.match_condition("livr disease")
    assert isinstance(found, list) and "Liver disease" in found


def test_variants_drop_words_one_step_at_a_time() -> None:
    steps = list(KB.condition_terms.variants("bad sciatica down my left legs"))
    assert steps == [
        "bad sciatica down my left legs",
        "bad sciatica down my left leg",
        "bad sciatica down left legs",
        "bad sciatica down left leg",
        "sciatica down left legs",
        "sciatica down left leg",
        "sciatica",
    ]
    assert list(KB.condition_terms.variants("my pain")) == ["my pain"]


@pytest.mark.parametrize(
    "text",
    ["COPD", "emphysema", "sleep apnea", "obstructive sleep apnoea", "G47.33", "J44.9", "CPAP"],
)
def test_lung_disease_and_sleep_apnoea_are_screened_not_silenced(text: str) -> None:
    """Kratom acts on opioid receptors: these are not conditions without concern."""
    result = screen(Snapshot(as_of=NOW, conditions=(text,)))
    assert [f.code for f in result.findings] == ["condition.respiratory_disease"]
