"""Code systems and the few external codes KratomWatch uses in FHIR resources.

External codes are listed here only when the mapping is certain and has been checked
against a published listing of the code system (docs/interoperability.md says where).
Everything else is coded in a KratomWatch code system, whose URIs are below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

BASE = "https://kratomwatch.org/fhir"

# KratomWatch code systems
CS_CONDITION = f"{BASE}/CodeSystem/condition"
CS_OBSERVATION = f"{BASE}/CodeSystem/observation"
CS_SUBSTANCE = f"{BASE}/CodeSystem/substance"
CS_KRATOM_PRODUCT = f"{BASE}/CodeSystem/kratom-product-form"
CS_FINDING = f"{BASE}/CodeSystem/finding"
CS_FINDING_ACTION = f"{BASE}/CodeSystem/finding-action"
CS_PLAN_LIMIT = f"{BASE}/CodeSystem/plan-limit"
CS_ANSWER = f"{BASE}/CodeSystem/answer-value"
CS_REFERENCE = f"{BASE}/CodeSystem/reference"

# KratomWatch identifier systems and extensions
SID_PATIENT = f"{BASE}/sid/patient"
SID_USER = f"{BASE}/sid/user"
SID_CLINIC = f"{BASE}/sid/clinic"
SID_DEVICE = f"{BASE}/sid/device"
EXT_FINDING_STATUS = f"{BASE}/StructureDefinition/finding-status"
EXT_FINDING_ACTIVE = f"{BASE}/StructureDefinition/finding-active"
EXT_FINDING_MANAGEMENT = f"{BASE}/StructureDefinition/finding-management"
EXT_PLAN_VERSION = f"{BASE}/StructureDefinition/plan-version"
QUESTIONNAIRE_BASE = f"{BASE}/Questionnaire"

# External code systems
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
URI_IDENTIFIER = "urn:ietf:rfc:3986"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
MEDICATION_STATEMENT_CATEGORY = (
    "http://terminology.hl7.org/CodeSystem/medication-statement-category"
)
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
MINVALUE_EXT = "http://hl7.org/fhir/StructureDefinition/minValue"
MAXVALUE_EXT = "http://hl7.org/fhir/StructureDefinition/maxValue"

#: LOINC codes of questionnaire totals, checked on loinc.org (see docs/interoperability.md).
#: Instrument id -> (LOINC code, LOINC long common name).
LOINC_TOTALS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "phq9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
        "phq2": ("55758-7", "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]"),
        "gad7": (
            "70274-6",
            "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        ),
    }
)

#: ICD-10-CM codes for condition codes whose meaning is exactly one ICD-10-CM code.
#: The other condition codes are broader than any single ICD-10-CM code (e.g. "psychiatric"
#: covers F20-F48) and are exported with the KratomWatch code only.
ICD10CM_EXACT: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"fibromyalgia": ("M79.7", "Fibromyalgia")}
)

#: UCUM codes of the dose units (counts use UCUM annotations).
UCUM_UNITS: Mapping[str, str] = MappingProxyType(
    {"g": "g", "mg": "mg", "ml": "mL", "capsule": "{capsule}", "tablet": "{tablet}"}
)


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(text: str | None, *codings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if codings:
        out["coding"] = list(codings)
    if text:
        out["text"] = text
    return out


def is_icd10(system: str | None) -> bool:
    return system in (ICD10CM, ICD10_WHO) or bool(system and "icd-10" in system.lower())
