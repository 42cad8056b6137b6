"""Whose bundle is it? The identity check of a FHIR import.

Medications and conditions are added to the patient named on the command line, so a bundle
of someone else must not reach their record. :func:`check_patient` compares the bundle's
Patient (the one its MedicationStatements and Conditions refer to) with the target patient:

- **identifier**: a KratomWatch patient identifier (system ``…/sid/patient``, written by our
  own export) must be the target's id; identifiers of other systems (an EHR's record number)
  are not stored in KratomWatch and are not compared;
- **name**: one of the bundle's names must be the target's display name or account name,
  compared word by word ignoring case, accents, punctuation and order; a middle name on one
  side only is accepted when at least two words match (``Jordan A. Rivera`` and
  ``Rivera, Jordan``);
- **birth date**: its year must be the target's year of birth (only the year is stored).

Anything that differs is a mismatch. A bundle whose patient cannot be compared at all (no
Patient resource, or one with neither a name nor a KratomWatch identifier) is unverified.
Either refuses the import unless the operator overrides the check.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kratomwatch.clinic.models import PatientProfile

from . import codes as C

_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class PatientCheck:
    """The outcome: what matched, what differs, or why nothing could be compared."""

    matched: tuple[str, ...] = ()
    differences: tuple[str, ...] = ()
    unverified: str = ""
    overridden: bool = False

    @property
    def ok(self) -> bool:
        return not self.differences and not self.unverified

    def describe(self) -> str:
        """One sentence for the operator."""
        if self.ok:
            return "The bundle's patient matches this patient (" + ", ".join(self.matched) + ")."
        if self.unverified:
            why = f"The bundle's patient cannot be checked against this patient: {self.unverified}."
        else:
            why = "The bundle's patient is not this patient: " + "; ".join(self.differences) + "."
        if self.overridden:
            return why + " Imported anyway: the patient check was overridden."
        return why

    def to_dict(self) -> dict[str, Any]:
        return {
            "matches": self.ok,
            "matched": list(self.matched),
            "differences": list(self.differences),
            "unverified": self.unverified or None,
            "overridden": self.overridden,
        }


def _words(text: str) -> frozenset[str]:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return frozenset(_WORD.findall(plain.casefold()))


def _same_person(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    small, large = sorted((a, b), key=len)
    return small == large or (len(small) >= 2 and small <= large)


def _names(resource: Mapping[str, Any]) -> list[str]:
    found = []
    for name in resource.get("name") or []:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str) and name["text"].strip():
            found.append(name["text"].strip())
        given = [g for g in name.get("given") or [] if isinstance(g, str)]
        family = name.get("family") if isinstance(name.get("family"), str) else ""
        parts = " ".join([*given, family]).strip()
        if parts:
            found.append(parts)
    return list(dict.fromkeys(found))


def _kratomwatch_ids(identifiers: Iterable[Any]) -> list[str]:
    return [
        str(i.get("value"))
        for i in identifiers
        if isinstance(i, dict) and i.get("system") == C.SID_PATIENT and i.get("value")
    ]


def _compare(patient: PatientProfile, resource: Mapping[str, Any]) -> PatientCheck:
    matched: list[str] = []
    differences: list[str] = []
    ids = _kratomwatch_ids(resource.get("identifier") or [])
    if ids:
        if str(patient.uuid) in ids:
            matched.append("KratomWatch id")
        else:
            differences.append(
                f"KratomWatch id {', '.join(ids)} in the bundle, {patient.uuid} here"
            )
    names = _names(resource)
    ours = [n for n in (patient.display_name, patient.user.get_full_name()) if n.strip()]
    if names and ours:
        if any(_same_person(_words(a), _words(b)) for a in names for b in ours):
            matched.append("name")
        else:
            differences.append(f"name {' / '.join(names)!r} in the bundle, {ours[0]!r} here")
    birth = resource.get("birthDate")
    if isinstance(birth, str) and birth[:4].isdigit() and patient.year_of_birth:
        if int(birth[:4]) == patient.year_of_birth:
            matched.append("year of birth")
        else:
            differences.append(f"born {birth[:4]} in the bundle, {patient.year_of_birth} here")
    if not differences and not {"KratomWatch id", "name"} & set(matched):
        return PatientCheck(
            unverified="its Patient has neither a name nor a KratomWatch id to compare"
        )
    return PatientCheck(tuple(matched), tuple(differences))


def check_patient(
    patient: PatientProfile,
    subjects: Iterable[Mapping[str, Any]],
    missing: Iterable[str],
    patients_in_bundle: Iterable[Mapping[str, Any]],
) -> PatientCheck:
    """Compare the bundle's patient with ``patient``.

    ``subjects`` are the Patient resources the bundle's medications and conditions refer to
    (a reference by identifier only counts as a Patient with that identifier) and
    ``missing`` the references to a Patient the bundle does not hold. When the medications
    and conditions refer to no one, the bundle's Patient resources stand in for them.
    """
    candidates, missing = list(subjects), list(missing)
    if not candidates and missing:
        return PatientCheck(
            unverified=f"the Patient its entries refer to ({', '.join(missing)}) is not in it"
        )
    candidates = candidates or list(patients_in_bundle)
    if not candidates:
        return PatientCheck(unverified="the bundle holds no Patient resource")
    results = [_compare(patient, resource) for resource in candidates]
    differences = tuple(d for r in results for d in r.differences)
    unverified = next((r.unverified for r in results if r.unverified), "")
    matched = tuple(dict.fromkeys(m for r in results for m in r.matched))
    return PatientCheck(matched, differences, "" if differences else unverified)
