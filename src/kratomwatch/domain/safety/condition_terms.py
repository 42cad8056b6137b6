"""Condition text beyond the engine's classes: ICD-10-CM codes and titles, and lay names.

The engine's condition classes (``conditions.yaml``) cover the conditions that matter with
kratom. Every other condition a patient or an EHR names is placed, when it can be, in
ICD-10-CM so that it is *recognized* (shown with its code and title, no finding) rather than
reported as not recognized:

- an ICD-10-CM code, with or without its dot (``E11.9``, ``E119``), valid in the release
  shipped with the ``simple-icd-10-cm`` package;
- an ICD-10-CM title or inclusion term, equal after :func:`normalize_text` (case,
  punctuation, spaces); a title ending in ", unspecified" also answers to the part before the
  comma and an inclusion term ending in "NOS" to the part before it, unless an exact title
  says otherwise. A name shared by codes of which none is the parent of all the others names
  no code;
- a lay name from ``condition_terms.yaml`` ("high blood pressure" → I10).

Patient text is also tried step by step with fewer words (:meth:`ConditionTerms.variants`):
determiners ("my"), filler words ("bad"), body-site phrases ("in my hands", "down my left
leg") and sides ("left") are dropped, and each form is tried again with plurals made
singular. Each step only removes words, and a form that leaves a name too general to mean
anything on its own ("pain", "disease") is not looked up. Nothing is fuzzy-matched:
close names are only offered as suggestions.

The ICD-10-CM index is built once per process, on first use (some seconds and about 200 MB:
see docs/screening.md), and never when the text names one of the engine's classes.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

ICD10CM_PACKAGE = "simple-icd-10-cm"
_ICD_SHAPE = re.compile(r"([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?")
_HEIGHTS = ("lower", "upper")
_PUNCTUATION = re.compile(r"[^\w\s'-]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """As ``knowledge.normalize_text`` (a test checks it), with the patterns compiled once:
    the ICD-10-CM index normalizes some 200,000 titles and terms."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()


@dataclass(frozen=True)
class IcdCondition:
    """A condition recognized in ICD-10-CM that none of the engine's classes covers."""

    code: str
    title: str


def icd_code(text: str) -> str | None:
    """``text`` as an ICD-10-CM code with its dot (``"g40909"`` → ``"G40.909"``), if it has
    the shape of one; whether the code exists is not checked here."""
    found = _ICD_SHAPE.fullmatch(text.strip().upper().replace(" ", ""))
    if found is None:
        return None
    return found[1] + (f".{found[2]}" if found[2] else "")


@dataclass(frozen=True)
class Icd10cm:
    """ICD-10-CM codes (categories, subcategories and codes with a seventh character) with
    their titles, and the names that point to exactly one code."""

    release: str
    titles: Mapping[str, str]
    names: Mapping[str, str]

    def get(self, code: str) -> IcdCondition | None:
        title = self.titles.get(code)
        return None if title is None else IcdCondition(code, title)


def _one_code(codes: set[str]) -> str | None:
    """The code that is the parent (or equal) of all ``codes``, if there is one."""
    if len(codes) == 1:
        return next(iter(codes))
    ordered = sorted(codes, key=lambda c: (len(c), c))
    head = ordered[0].replace(".", "")
    return ordered[0] if all(c.replace(".", "").startswith(head) for c in ordered) else None


@cache
def icd10cm() -> Icd10cm:
    """The ICD-10-CM index, built on first use from the ``simple-icd-10-cm`` package."""
    with warnings.catch_warnings():  # the package reads its data with a deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm  # parses the whole tabular list

    titles: dict[str, str] = {}
    exact: dict[str, set[str]] = defaultdict(set)
    loose: dict[str, set[str]] = defaultdict(set)
    for code in cm.get_all_codes(True):
        code = str(code)
        if (len(code) <= 3 or "-" in code) and cm.is_chapter_or_block(code):
            continue
        title = str(cm.get_description(code))
        titles[code] = title
        exact[normalize_text(title)].add(code)
        if title.lower().endswith(", unspecified"):
            loose[normalize_text(title[: -len(", unspecified")])].add(code)
        for term in cm.get_inclusion_term(code):
            term = str(term)
            loose[normalize_text(term[:-4] if term.endswith(" NOS") else term)].add(code)
    names: dict[str, str] = {}
    for table in (loose, exact):  # an exact title overrides a loose name
        for name, codes in table.items():
            one = _one_code(codes)
            if one is None:
                names.pop(name, None)
            else:
                names[name] = one
    return Icd10cm(version(ICD10CM_PACKAGE), titles, names)


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


@dataclass(frozen=True)
class ConditionTerms:
    """Lay names mapped to ICD-10-CM codes, and the words that step-by-step matching drops."""

    codes: Mapping[str, str]
    names: Mapping[str, str]
    determiners: frozenset[str]
    filler_words: frozenset[str]
    sides: frozenset[str]
    site_phrase: re.Pattern[str]
    too_general: frozenset[str]

    def variants(self, key: str) -> Iterator[str]:
        """``key`` (already normalized), then shorter forms, one step at a time: determiners
        dropped, filler words dropped, body-site phrases dropped, sides dropped; each form
        is followed by the form with plurals made singular. A form equal to a word of
        ``too_general`` is left out."""
        steps = (
            lambda ws: [w for w in ws if w not in self.determiners],
            lambda ws: [w for w in ws if w not in self.filler_words],
            lambda ws: self.site_phrase.sub(" ", " ".join(ws)).split(),
            lambda ws: [w for w in ws if w not in self.sides],
        )
        words = key.split()
        forms = [words]
        for step in steps:
            words = step(words)
            forms.append(words)
        seen: set[str] = set()
        for form in forms:
            for text in (" ".join(form), " ".join(map(_singular, form))):
                if text and text not in seen and (text == key or text not in self.too_general):
                    seen.add(text)
                    yield text


def condition_terms(data: Mapping[str, Any]) -> ConditionTerms:
    """The lay names of ``condition_terms.yaml`` (already validated against its schema)."""
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for term in data["terms"]:
        code = icd_code(term["icd10"])
        if code is None:  # pragma: no cover - the schema's pattern refuses it
            raise ValueError(f"not an ICD-10-CM code: {term['icd10']!r}")
        for name in term["names"]:
            codes[normalize_text(name)] = code
            names[normalize_text(name)] = name
    words = data["words"]
    before = _alternatives((*words["determiners"], "a", "an", *words["sides"], *_HEIGHTS))
    site_phrase = re.compile(
        rf"\b(?:{_alternatives(words['site_prepositions'])})(?:\s+(?:{before}))*"
        rf"\s+(?:{_alternatives(words['body_sites'])})s?\b"
    )
    return ConditionTerms(
        codes=codes,
        names=names,
        determiners=frozenset(words["determiners"]),
        filler_words=frozenset(words["filler"]),
        sides=frozenset(words["sides"]),
        site_phrase=site_phrase,
        too_general=frozenset(words["too_general"]),
    )


def _alternatives(items: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, items), key=lambda w: (-len(w), w)))
