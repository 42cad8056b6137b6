"""Integrity of the reference registry and the evidence library (pure data checks, no Django)."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

DATA = Path(__file__).resolve().parents[2] / "src" / "kratomwatch" / "data"
REFERENCES = DATA / "knowledge" / "references.yaml"
EVIDENCE = DATA / "knowledge" / "evidence.yaml"
RULES = DATA / "knowledge" / "rules.yaml"
REFERENCES_SCHEMA = DATA / "schemas" / "references.schema.json"
EVIDENCE_SCHEMA = DATA / "schemas" / "evidence.schema.json"

# A reference added for the safety rules (rules.yaml) rather than for the evidence library
# lists this pseudo-topic in `supports`.
SAFETY_RULES = "safety_rules"

TOPICS = {
    "pain",
    "pharmacology",
    "interactions",
    "dependence_withdrawal",
    "adverse_events",
    "products_regulation",
}

# Claims the patient-facing page must answer: id -> words the claim text must contain.
REQUIRED_CLAIMS = {
    "claim_not_addictive": ("not addictive",),
    "claim_dopamine_natural": ("dopamine",),
    "claim_trials_back_pain": ("clinical trials", "back pain"),
    "claim_safe_starting_dose": ("1-3 g", "safe"),
    "claim_topical_extracts": ("topical",),
    "claim_dopamine_monitoring": ("monitoring dopamine",),
    "claim_side_effects_mild": ("side effects", "mild"),
    "claim_fibromyalgia": ("fibromyalgia",),
    "claim_jpr_2017_allodynia_rats": ("2017", "journal of pain research", "allodynia", "rats"),
}

PMID_RE = re.compile(r"^\d+$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


@cache
def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _references() -> list[dict[str, Any]]:
    return list(_load_yaml(REFERENCES)["references"])


def _evidence() -> dict[str, Any]:
    return dict(_load_yaml(EVIDENCE))


def _statements() -> list[dict[str, Any]]:
    return [st for topic in _evidence()["topics"] for st in topic["statements"]]


def _claims() -> list[dict[str, Any]]:
    return list(_evidence()["claims"])


def _reference_ids() -> set[str]:
    return {ref["id"] for ref in _references()}


def _cited_by_rules() -> set[str]:
    return {rid for rule in _load_yaml(RULES)["rules"] for rid in rule["references"]}


def _cited_by_jurisdictions() -> set[str]:
    entries = _load_yaml(RULES.with_name("jurisdictions.yaml"))["jurisdictions"]
    return {rid for entry in entries for rid in entry["references"]}


# --- schemas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_path", "schema_path"),
    [(REFERENCES, REFERENCES_SCHEMA), (EVIDENCE, EVIDENCE_SCHEMA)],
    ids=["references", "evidence"],
)
def test_file_validates_against_its_schema(data_path: Path, schema_path: Path) -> None:
    schema = _load_json(schema_path)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(_load_yaml(data_path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schemas_reject_a_reference_without_identifier() -> None:
    schema = _load_json(REFERENCES_SCHEMA)
    bad = {
        "references": [
            {
                "id": "nobody2020",
                "citation": "Nobody A. A paper that cannot be found. J Nowhere 2020;1:1-2.",
                "confirmed_via": "nothing",
                "key_findings": ["Nothing was read, so nothing may be claimed."],
                "study_type": "review",
                "supports": ["pain"],
            }
        ]
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def test_schema_requires_references_unless_no_evidence() -> None:
    schema = _load_json(EVIDENCE_SCHEMA)
    doc = _evidence()
    doc = json.loads(json.dumps(doc))
    statement = doc["topics"][0]["statements"][0]
    statement["grade"] = "clinical_study"
    statement["references"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)


# --- references ----------------------------------------------------------------------------


def test_reference_ids_are_unique() -> None:
    counts = Counter(ref["id"] for ref in _references())
    assert not [rid for rid, n in counts.items() if n > 1]


@pytest.mark.parametrize("ref", _references(), ids=lambda r: r["id"])
def test_reference_has_checkable_identifier(ref: dict[str, Any]) -> None:
    assert any(ref.get(key) for key in ("pmid", "doi", "url")), ref["id"]
    if "pmid" in ref:
        assert isinstance(ref["pmid"], str) and PMID_RE.match(ref["pmid"]), ref["pmid"]
    if "doi" in ref:
        assert isinstance(ref["doi"], str) and DOI_RE.match(ref["doi"]), ref["doi"]
    if "url" in ref:
        parsed = urlparse(ref["url"])
        assert parsed.scheme == "https" and parsed.netloc, ref["url"]
        # Vendor sites are never cited.
        assert "kratom" not in parsed.netloc.lower(), ref["url"]
    assert ref["key_findings"], ref["id"]
    assert ref["confirmed_via"].strip(), ref["id"]


def test_dois_and_pmids_are_not_shared_between_entries() -> None:
    for key in ("pmid", "doi", "pmcid", "url"):
        values = Counter(ref[key].lower() for ref in _references() if key in ref)
        assert not [v for v, n in values.items() if n > 1], key


def test_every_reference_is_cited_by_a_statement_claim_or_safety_rule() -> None:
    cited = {rid for item in _statements() + _claims() for rid in item["references"]}
    cited |= _cited_by_rules() | _cited_by_jurisdictions()
    unused = [ref["id"] for ref in _references() if ref["id"] not in cited]
    assert not unused


def test_references_added_for_the_safety_rules_are_cited_by_a_rule() -> None:
    cited = _cited_by_rules()
    for ref in _references():
        if SAFETY_RULES in ref["supports"]:
            assert ref["id"] in cited, ref["id"]


def test_supports_entries_name_real_topics_statements_or_claims() -> None:
    known = TOPICS | {st["id"] for st in _statements()} | {c["id"] for c in _claims()}
    known |= {SAFETY_RULES}
    for ref in _references():
        unknown = [s for s in ref["supports"] if s not in known]
        assert not unknown, (ref["id"], unknown)


def test_supports_lists_every_statement_and_claim_that_cites_the_reference() -> None:
    supports = {ref["id"]: set(ref["supports"]) for ref in _references()}
    for item in _statements() + _claims():
        for rid in item["references"]:
            assert item["id"] in supports[rid], (rid, item["id"])


# --- evidence library ----------------------------------------------------------------------


def test_all_topics_present_once_with_5_to_10_statements() -> None:
    topics = _evidence()["topics"]
    assert Counter(t["id"] for t in topics) == Counter(TOPICS)
    for topic in topics:
        assert 5 <= len(topic["statements"]) <= 10, topic["id"]


def test_statement_and_claim_ids_are_unique() -> None:
    counts = Counter(item["id"] for item in _statements() + _claims())
    assert not [i for i, n in counts.items() if n > 1]


def test_statements_cite_existing_references_and_have_a_grade() -> None:
    ids = _reference_ids()
    for st in _statements():
        assert st["grade"], st["id"]
        missing = [r for r in st["references"] if r not in ids]
        assert not missing, (st["id"], missing)
        if st["grade"] != "no_evidence":
            assert st["references"], st["id"]


def test_claims_cite_existing_references_and_have_a_verdict() -> None:
    ids = _reference_ids()
    for claim in _claims():
        assert claim["verdict"] in {"contradicted", "unsupported", "misleading", "partly_true"}
        assert claim["references"], claim["id"]
        missing = [r for r in claim["references"] if r not in ids]
        assert not missing, (claim["id"], missing)


@pytest.mark.parametrize("claim_id", sorted(REQUIRED_CLAIMS))
def test_required_claim_is_present(claim_id: str) -> None:
    claims = {c["id"]: c for c in _claims()}
    assert claim_id in claims, claim_id
    text = claims[claim_id]["claim"].lower()
    for word in REQUIRED_CLAIMS[claim_id]:
        assert word in text, (claim_id, word)


def test_patient_text_is_short_plain_language() -> None:
    for claim in _claims():
        text = " ".join(claim["what_the_evidence_says"].split())
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
        assert 2 <= len(sentences) <= 4, (claim["id"], len(sentences))
        for sentence in sentences:
            assert len(sentence.split()) <= 35, (claim["id"], sentence)
