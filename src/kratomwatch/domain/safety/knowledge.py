"""Load the safety knowledge base: rules, symptom and condition vocabularies, references.

Every file is validated against its JSON Schema at load and cross-checked (every reference a
rule cites exists, every symptom a rule names is in the vocabulary). A knowledge base that
fails these checks does not load: screening then reports that it could not run.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
import yaml

from .condition_terms import ConditionTerms, IcdCondition, condition_terms, icd10cm, icd_code
from .symptom_text import SymptomIndex, TextMatch

PLAN_REFERENCE_ID = "clinician-plan"


class KnowledgeError(Exception):
    """The knowledge base is invalid; the message names the file and the problem."""


@dataclass(frozen=True)
class Reference:
    id: str
    citation: str
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None

    def link(self) -> str:
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url or ""

    def to_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "citation": self.citation,
            "pmid": self.pmid,
            "doi": self.doi,
            "url": self.link() or None,
        }


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    category: str
    title: str
    trigger: Mapping[str, Any]
    mechanism: str
    consequence: str
    management: str
    patient_message: str | None
    evidence_level: str
    kratom_specific: bool
    references: tuple[str, ...]
    #: "finding", or "note": shown beside the medication or product it concerns, never
    #: raised as a finding (nothing for the clinician to act on now).
    shown_as: str = "finding"
    #: "remove" when the management's step for a new order that triggers the rule is to
    #: remove the order (a CDS Hooks card then suggests it); ``None`` otherwise.
    order_action: str | None = None

    @property
    def kind(self) -> str:
        return str(self.trigger["kind"])


@dataclass(frozen=True)
class Symptom:
    id: str
    label: str
    red_flag: bool
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class ConditionEntry:
    code: str
    label: str
    synonyms: tuple[str, ...]
    icd10: tuple[str, ...]


@dataclass(frozen=True)
class Knowledge:
    version: str
    released: date
    rules: tuple[Rule, ...]
    symptoms: Mapping[str, Symptom]
    conditions: Mapping[str, ConditionEntry]
    references: Mapping[str, Reference]
    symptom_index: SymptomIndex
    condition_index: Mapping[str, str]
    condition_terms: ConditionTerms

    def reference(self, ref_id: str) -> Reference:
        return self.references[ref_id]

    def match_symptom(self, text: str) -> TextMatch:
        """The symptoms ``text`` names in people's words (red flags first), the parts of it
        that could not be placed, and suggestions (labels) for those: see ``symptom_text``."""
        return self.symptom_index.match(text)

    def match_condition(self, text: str) -> ConditionEntry | IcdCondition | list[str]:
        """The engine's condition class named by ``text``; else the ICD-10-CM condition it
        names, which no class covers; else close suggestions (never a guess).

        Tried in order: a condition code; an ICD-10-CM code, with or without its dot; then
        the text and its shorter forms (``ConditionTerms.variants``), each against the
        synonyms of conditions.yaml, the lay names of condition_terms.yaml and ICD-10-CM
        titles. An ICD-10-CM code, however found, is the class its prefix falls in, if any.
        """
        key = normalize_text(text)
        if key.replace(" ", "_") in self.conditions:
            return self.conditions[key.replace(" ", "_")]
        code = icd_code(text)
        if code is not None and (found := self._icd_condition(code)) is not None:
            return found
        index, terms = self.condition_index, self.condition_terms
        for variant in terms.variants(key):
            if variant in index:
                return self.conditions[index[variant]]
            code = terms.codes.get(variant) or icd10cm().names.get(variant)
            if code is not None and (found := self._icd_condition(code)) is not None:
                return found
        close = difflib.get_close_matches(key, [*index, *terms.names], n=3, cutoff=0.75)
        return sorted(
            {self.conditions[index[c]].label if c in index else terms.names[c] for c in close}
        )

    def _icd_condition(self, code: str) -> ConditionEntry | IcdCondition | None:
        """The class whose longest ICD-10-CM prefix starts ``code``; else the code and its
        title when ICD-10-CM has it. The package is only loaded for the second question."""
        best: tuple[int, ConditionEntry] | None = None
        for entry in self.conditions.values():
            for prefix in entry.icd10:
                if code.startswith(prefix.upper()) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), entry)
        return best[1] if best is not None else icd10cm().get(code)


def normalize_text(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'-]", " ", text.lower())).strip()


def _symptom_index(symptoms: Mapping[str, Symptom]) -> SymptomIndex:
    """Every name of every symptom; no name, and no bag of words, may belong to two."""
    names = {s.id: (s.label, s.id.replace("_", " "), *s.synonyms) for s in symptoms.values()}
    try:
        return SymptomIndex(names, (s.id for s in symptoms.values() if s.red_flag))
    except ValueError as exc:
        raise KnowledgeError(f"symptoms.yaml: {exc}") from exc


def _condition_index(conditions: Mapping[str, ConditionEntry]) -> dict[str, str]:
    index: dict[str, str] = {}
    for entry in conditions.values():
        for name in (entry.code.replace("_", " "), entry.label, *entry.synonyms):
            index[normalize_text(name)] = entry.code
    return index


def _read(name: str) -> Any:
    path = files("kratomwatch") / "data" / "knowledge" / name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{name}: cannot be read: {exc}") from exc


def _validate(name: str, data: Any, schema_name: str) -> None:
    path = files("kratomwatch") / "data" / "schemas" / schema_name
    schema = json.loads(path.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise KnowledgeError(f"{name}: {where}: {errors[0].message}")


def _references(data: Any) -> dict[str, Reference]:
    refs = {
        PLAN_REFERENCE_ID: Reference(
            PLAN_REFERENCE_ID,
            "The patient's active plan, written by their clinician in KratomWatch",
        )
    }
    for raw in data.get("references", data) if isinstance(data, dict) else data:
        refs[raw["id"]] = Reference(
            id=raw["id"],
            citation=" ".join(str(raw["citation"]).split()),
            pmid=str(raw["pmid"]) if raw.get("pmid") else None,
            doi=raw.get("doi") or None,
            url=raw.get("url") or None,
        )
    return refs


@cache
def release_notes() -> tuple[str, str]:
    """The newest entry of the knowledge base's changelog: its heading and its text."""
    path = files("kratomwatch") / "data" / "knowledge" / "CHANGELOG.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## "))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start][3:].strip(), "\n".join(lines[start + 1 : end]).strip()


@cache
def load_knowledge() -> Knowledge:
    rules_data = _read("rules.yaml")
    _validate("rules.yaml", rules_data, "rules.schema.json")
    symptoms_data = _read("symptoms.yaml")
    _validate("symptoms.yaml", symptoms_data, "symptoms.schema.json")
    conditions_data = _read("conditions.yaml")
    _validate("conditions.yaml", conditions_data, "conditions.schema.json")
    terms_data = _read("condition_terms.yaml")
    _validate("condition_terms.yaml", terms_data, "condition_terms.schema.json")
    references = _references(_read("references.yaml"))
    symptoms = {
        s["id"]: Symptom(s["id"], s["label"], bool(s["red_flag"]), tuple(s.get("synonyms", ())))
        for s in symptoms_data["symptoms"]
    }
    conditions = {
        c["code"]: ConditionEntry(
            c["code"], c["label"], tuple(c.get("synonyms", ())), tuple(c.get("icd10", ()))
        )
        for c in conditions_data["conditions"]
    }
    rules = []
    for raw in rules_data["rules"]:
        rule = Rule(
            id=raw["id"],
            severity=raw["severity"],
            category=raw["category"],
            title=raw["title"],
            trigger=dict(raw["trigger"]),
            mechanism=raw["mechanism"],
            consequence=raw["consequence"],
            management=raw["management"],
            patient_message=raw.get("patient_message"),
            evidence_level=raw["evidence_level"],
            kratom_specific=bool(raw.get("kratom_specific", False)),
            references=tuple(raw["references"]),
            shown_as=raw.get("shown_as", "finding"),
            order_action=raw.get("order_action"),
        )
        missing = [r for r in rule.references if r not in references]
        if missing:
            raise KnowledgeError(f"rules.yaml: {rule.id}: unknown references {missing}")
        for symptom in rule.trigger.get("symptoms", ()):
            if symptom not in symptoms:
                raise KnowledgeError(f"rules.yaml: {rule.id}: unknown symptom {symptom!r}")
        rules.append(rule)
    return Knowledge(
        version=str(rules_data["version"]),
        released=date.fromisoformat(str(rules_data["released"])),
        rules=tuple(rules),
        symptoms=symptoms,
        conditions=conditions,
        references=references,
        symptom_index=_symptom_index(symptoms),
        condition_index=_condition_index(conditions),
        condition_terms=condition_terms(terms_data),
    )
