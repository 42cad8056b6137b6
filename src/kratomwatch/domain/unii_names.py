"""Official and international names of the knowledge base's substances, from the FDA's
UNII Names list (public domain).

The hand-written substance files give each ingredient its interaction classes and the
names people use most; the FDA's Unique Ingredient Identifier (UNII) list adds the other
official names, and forms of the ingredient's own name, under which the same ingredient is
known (Meperidol, Amoxicilline, Caffeinum, salt forms). Brand names are not taken from it
(see ``KEPT_TYPES``). This module picks those names; ``kratomwatch knowledge import-unii``
writes them to ``substances/unii_names.yaml``, which the loader adds as synonyms.

A name is taken only when it is plain (letters, spaces and hyphens; no word the medication
reader treats as a strength, form, direction, salt or indication), belongs to one
substance of the knowledge base only, is not already one of our names, and is not, nor
begins, a combination product's name.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import yaml

from .substances import Knowledge, is_plain_name, normalize_name, strip_salts

#: Name types of the UNII list kept: official (of) and common (cn) names. Brand names (bn)
#: are not taken: the list files combination brands under one of their ingredients
#: (a lopinavir-ritonavir brand under lopinavir), which would drop the others unseen.
#: Systematic chemical names (sys) and codes (cd) are not how people write medicines.
KEPT_TYPES = frozenset({"of", "cn"})
#: A common name is taken only when it is a form of the ingredient's own name (it shares
#: its first letters with the UNII display name or one of ours: "Caffeinum", "Alfentanyl",
#: "Naloxone Chlorhydrate"). Common names of other kinds (street names, brands filed as
#: common names, everyday words such as "Choice") are not.
SHARED_PREFIX = 5
SHORT_WORD = 6
MAX_WORDS = 4
MIN_LENGTH = 4
MAX_LENGTH = 40


@dataclass(frozen=True)
class UniiName:
    name: str
    kind: str  # of, cn, bn, sys, cd
    unii: str
    display: str


def read_unii_names(lines: Iterable[str]) -> Iterator[UniiName]:
    """Rows of the UNII Names file (tab-separated: Name, TYPE, UNII, Display Name)."""
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:4]] != [
        "name",
        "type",
        "unii",
        "display name",
    ]:
        raise ValueError("not a UNII Names file: the header must be Name, TYPE, UNII, Display Name")
    for row in reader:
        if len(row) >= 4:
            yield UniiName(row[0].strip(), row[1].strip().lower(), row[2].strip(), row[3].strip())


def _plain(name: str) -> bool:
    words = name.split()
    return (
        MIN_LENGTH <= len(name) <= MAX_LENGTH
        and len(words) <= MAX_WORDS
        and all(ch.isalpha() or ch in " -'" for ch in name)
        and is_plain_name(name)
        and not any(word.lower() in NOT_MEDICINE_WORDS for word in words)
        # A short single word is too often an everyday word or a street name ("Chalk").
        and not (len(words) == 1 and len(name) <= SHORT_WORD)
    )


#: Words that mark a name as something other than a medicine's name: parts of combination
#: products, laboratory standards and impurities, DEA schedule suffixes ("Oxycodone CII").
NOT_MEDICINE_WORDS = frozenset(
    "component impurity impurities standard reference related compound melting point "
    "preparation metabolite enantiomer isomer suitability system nos cii ciii civ cv usp nf ep "
    "jp bp dbl".split()
)


def official_names(rows: Iterable[UniiName], kb: Knowledge) -> dict[str, list[str]]:
    """For each substance of ``kb``, the plain UNII names of its ingredient and its salts
    (in title case) that the knowledge base does not list yet, sorted.

    A UNII ingredient is the substance's when its display name, with or without its salt
    words ("LOPERAMIDE HYDROCHLORIDE"), is one of the substance's names."""
    rows = list(rows)
    combinations = _combination_names(rows)
    ours: dict[str, set[str]] = {}
    stems: dict[str, tuple[str, ...]] = {}
    for s in kb.substances.values():
        for name in (s.name, s.id.replace("_", " "), *s.brands, *s.synonyms):
            ours.setdefault(normalize_name(name), set()).add(s.id)
        stems[s.id] = (s.name, s.id.replace("_", " "), *s.synonyms)
    # Names of our combination products, their first words, and the names they resemble are
    # never given to one ingredient ("Robitussin" of "Robitussin DM").
    for c in kb.combinations:
        for name in (c.name, *c.aliases, *c.misspellings):
            key = normalize_name(name)
            combinations.add(key)
            combinations.add(key.split()[0])
    owner_of_display: dict[str, set[str]] = {}
    owned: list[tuple[UniiName, str]] = []
    for row in rows:
        if row.display not in owner_of_display:
            sids: set[str] = set()
            for key in {normalize_name(row.display), normalize_name(strip_salts(row.display))}:
                sids |= ours.get(key, set())
            owner_of_display[row.display] = sids
        sids = owner_of_display[row.display]
        if len(sids) == 1 and row.kind in KEPT_TYPES and _plain(row.name):
            sid = next(iter(sids))
            if row.kind == "of" or _a_form_of(row.name, (row.display, *stems[sid])):
                owned.append((row, sid))
    claimed: dict[str, set[str]] = {}
    for row, sid in owned:
        claimed.setdefault(normalize_name(row.name), set()).add(sid)
    result: dict[str, set[str]] = {}
    for key, sids in claimed.items():
        if len(sids) == 1 and key not in ours and key not in combinations:
            result.setdefault(next(iter(sids)), set()).add(_title(key))
    return {sid: sorted(result[sid]) for sid in sorted(result)}


def _a_form_of(name: str, own: Iterable[str]) -> bool:
    head = normalize_name(name)[:SHARED_PREFIX]
    return len(head) == SHARED_PREFIX and any(
        normalize_name(o).startswith(head) for o in own
    )


def _combination_names(rows: Iterable[UniiName]) -> set[str]:
    """Names of combination products, from the list's "<PRODUCT> COMPONENT <INGREDIENT>"
    rows, with and without their suffixes ("SYNALGOS-DC" and "SYNALGOS"). A name that is also
    a combination product is never given to one of its ingredients: the others would be
    dropped without notice."""
    names: set[str] = set()
    for row in rows:
        product, sep, _ = row.name.upper().partition(" COMPONENT ")
        if sep:
            names.add(normalize_name(product))
            names.add(normalize_name(product.split("-")[0]))
    return names


def _title(key: str) -> str:
    return " ".join(word.capitalize() for word in key.split())


def render_yaml(names: Mapping[str, list[str]], source: str) -> str:
    """The generated data file."""
    header = (
        "# Generated by `kratomwatch knowledge import-unii`; do not edit by hand.\n"
        "# Official names, and forms of the ingredient's own name, of the knowledge base's\n"
        "# substances from the FDA's UNII Names list (Global Substance Registration System;\n"
        "# public domain, a work of the US Government). The loader adds them as synonyms;\n"
        "# hand-written names win.\n"
        "# Schema: $defs/official_names in ../../schemas/substances.schema.json\n\n"
    )
    body = {"source": source, "names": {sid: list(found) for sid, found in names.items()}}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
