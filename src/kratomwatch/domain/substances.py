"""Substances knowledge base and medication-name recognizer.

The knowledge base (``data/knowledge/substances.yaml`` and its part files) lists
ingredients with their brand names, synonyms, common misspellings and interaction
classes, plus combination products. It is validated against
``data/schemas/substances.schema.json`` and cross-checked when loaded.

:func:`recognize` turns one entry of a medication list into a :class:`Match` (one or more
substances) or a :class:`NotRecognized` with close suggestions. Matching is exact on a
normalised form of the text; fuzzy similarity is only ever used for suggestions, never
to match. An entry is read as prescriptions are written:

* case, accents and apostrophes are folded; other punctuation separates words; "#3" is
  "No. 3" and "w/" is "with";
* the longest known name the entry starts with is taken when everything after it is
  strengths and units ("10 mg", "5/325", "25mcg/hr"), dose forms, routes and release
  modifiers ("tablets", "patch", "ER"), directions ("1-2 tabs q6h prn", "twice daily") or
  salts ("HCl"), so "Tylenol #3 1 tab q4h" is Tylenol with codeine, not Tylenol;
* otherwise those words are removed step by step, looking the text up again after each step;
  a number is a strength only with a unit or none ("3TC" is a name);
* what a medicine is for is removed only after "for", "prn" or "as needed", and only
  indication words ("for nerve pain", "prn anxiety"): a name after "for" is kept;
* several names ("A/B", "A + B", "A 5 mg and B", "A for pain, B q6h") are read left to
  right, each the longest known name at its place (so "Nurofen Plus" is not cut at its
  connector), and the entry is matched only when every part is a known name or strength,
  form or direction: an unreadable part means nothing is matched, so that no ingredient is
  silently dropped;
* text in brackets is also tried without the brackets, and alone only when what is outside
  names one thing ("Zubsolv (buprenorphine/naloxone)").

The route the entry names (:func:`route_of`: a cream, eye drops, an inhaler, a patch) is
kept on the match; a substance whose official source calls its systemic exposure negligible
by that route (``local_routes`` in the data) is recognized and not screened for
interactions.

Pure Python: no Django imports.

About 570 lines: the recognizer (splitting an entry, matching names, strengths and
routes) is one algorithm over one knowledge base; its parts are not used apart.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any, Literal

import jsonschema
import yaml

__all__ = [
    "MAX_QUERY_LENGTH",
    "Route",
    "Combination",
    "InvalidQueryError",
    "Knowledge",
    "KnowledgeBaseError",
    "Match",
    "MatchKind",
    "NotRecognized",
    "Source",
    "Substance",
    "SubstanceClass",
    "build_knowledge",
    "load_knowledge",
    "normalize_name",
    "recognize",
    "route_of",
    "substances_in_class",
]

MatchKind = Literal["generic", "brand", "synonym", "misspelling", "combination"]
#: Where a product is used, as written in the entry ("cream", "eye drops", "inhaler").
#: None: taken by mouth or not said, which is screened as systemic.
Route = Literal["skin", "eye", "ear", "nasal", "inhaled", "transdermal"]

#: Longest accepted query, in characters (a medication-list line, not a document).
MAX_QUERY_LENGTH = 300
#: How many suggestions a :class:`NotRecognized` carries at most.
MAX_SUGGESTIONS = 3
#: difflib similarity needed for a name to be suggested.
SUGGESTION_CUTOFF = 0.75


class KnowledgeBaseError(ValueError):
    """The knowledge-base files are invalid (schema or cross-reference problem)."""


class InvalidQueryError(ValueError):
    """A query cannot be looked up: it is empty, blank or too long."""


# ------------------------------------------------------------------------ data model


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class SubstanceClass:
    id: str
    label: str
    description: str
    source: Source
    additional_sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Substance:
    id: str
    name: str
    brands: tuple[str, ...]
    synonyms: tuple[str, ...]
    misspellings: tuple[str, ...]
    classes: frozenset[str]
    atc: tuple[str, ...] = ()
    notes: str | None = None
    #: Routes with negligible systemic exposure (skin, eye, ear, nasal, inhaled), each with
    #: the source that says so: in these routes the substance is not screened for
    #: interactions.
    local_routes: Mapping[str, Source] = field(default_factory=dict)
    #: Further official, common and brand names from the FDA's UNII list (generated).
    official_names: tuple[str, ...] = ()

    def in_class(self, class_id: str) -> bool:
        return class_id in self.classes

    def acts_locally(self, route: Route | None) -> bool:
        return route is not None and route in self.local_routes


@dataclass(frozen=True)
class Combination:
    name: str
    aliases: tuple[str, ...]
    misspellings: tuple[str, ...]
    ingredients: tuple[str, ...]
    notes: str | None = None


@dataclass(frozen=True)
class Match:
    """The query names these substances (several for a combination product)."""

    query: str
    substances: tuple[Substance, ...]
    matched_as: MatchKind
    matched_name: str = ""  # the known name that matched, as written in the data
    route: Route | None = None  # as written in the entry; None: by mouth or not said

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.substances)

    @property
    def classes(self) -> frozenset[str]:
        return frozenset().union(*(s.classes for s in self.substances))


@dataclass(frozen=True)
class NotRecognized:
    """No known name matches; ``suggestions`` are close display names (may be empty)."""

    query: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class _Entry:
    ids: tuple[str, ...]
    kind: MatchKind
    display: str


# Preference when one name is listed several times for the same ingredients.
_KIND_RANK: Mapping[str, int] = {
    "generic": 0,
    "synonym": 1,
    "brand": 2,
    "combination": 3,
    "misspelling": 4,
}

# ---------------------------------------------------------------------- normalisation

_TOKEN_RE = re.compile(r"[a-z0-9]+|[/+&,;-]")
_SEPARATOR_TOKENS = frozenset("/+&,;-")
_CONNECTOR_WORDS = frozenset({"and", "with", "plus"})
_APOSTROPHES_RE = re.compile(r"['\u2018\u2019`\u00b4]")

# 10, 20mg, 24h, 2x: a number with a unit, never a name that starts with one ("3TC")
_NUMBER_RE = re.compile(
    r"^\d+(?:mg|mgs|mcg|mcgs|ug|g|gm|ml|mls|l|iu|meq|mmol|h|hr|hrs|x|d|am|pm|st|nd|rd|th|k)?$"
)
_DIRECTION_RE = re.compile(r"^(q\d+[a-z]*|x\d+)$")  # q6h, q4, x2

_UNITS = frozenset(
    "mg mgs mcg mcgs ug g gm gram grams milligram milligrams microgram micrograms ml mls "
    "millilitre millilitres milliliter milliliters l iu unit units meq mmol percent pct "
    "h hr hrs hour hours no nr num number cup cups mug mugs glass glasses can cans".split()
    # "No. 3" as in Tylenol No. 3; "3 cups of coffee"
)
_FORMS = frozenset(
    "tablet tablets tab tabs tbl caplet caplets capsule capsules cap caps gelcap gelcaps "
    "softgel softgels liquigel liquigels liqui gel gels pill pills oral solution soln "
    "suspension susp syrup elixir liquid drops drop concentrate injection injectable inj "
    "infusion iv im sc subcut subcutaneous intravenous intramuscular vial vials ampoule "
    "ampoules ampule prefilled syringe pen pens autoinjector cartridge nasal spray sprays "
    "inhaler inhalation inhaled nebuliser nebulizer neb mdi hfa puff puffs rectal "
    "suppository suppositories supp topical cream ointment lotion foam ophthalmic eye ear "
    "vaginal buccal sublingual sl transdermal patch patches film films strip strips "
    "lozenge lozenges troche gum chewable dispersible soluble effervescent orodispersible "
    "disintegrating odt melt melts wafer granules powder sachet sachets packet packets "
    "coated enteric ec dr delayed extended er xr xl sr cr ir la cd mr xt cc ds hp es "
    "release released modified immediate controlled sustained prolonged long short "
    "acting rapid fast quick dissolve dissolving generic brand otc rx usp bp po pr mlt "
    "zmt soltab solutab retard extra strength maximum regular junior childrens children "
    "infant infants kids pediatric paediatric adult adults gummy gummies shampoo wash scalp "
    "skin topically paste otic intranasal nose nostril nostrils nebule nebules diskus "
    "respimat turbuhaler ellipta evohaler accuhaler eyes ears".split()
)
_DIRECTIONS = frozenset(
    "take takes taking use apply inject inhale insert one two three four half whole "
    "once twice thrice times time daily day days a per every each weekly week monthly "
    "month morning evening nightly bedtime noon at in the as of to up by mouth needed "
    "required directed prn od om on bd bid tds tid qds qid qd qhs hs qam qpm qod nocte "
    "mane stat x mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday "
    "thursday friday saturday sunday weekdays alternate after before meal meals food loose "
    "watery stool stools motion motions".split()
)
_NIGHT_AFTER = frozenset({"at", "every", "each", "per", "a"})  # "at night" is a direction
#: What a medicine is taken for, written after "for", "prn" or "as needed" ("prn pain",
#: "for sleep"). Dropped only there, and only these words: a name after "for" is never
#: dropped, so "paracetamol for pain and oxycodone" keeps its oxycodone.
_INDICATIONS = frozenset(
    "pain pains ache aches aching breakthrough severe moderate mild acute chronic back neck "
    "nerve joint joints muscle muscles knee knees hip shoulder period periods menstrual "
    "headache headaches migraine migraines anxiety anxious panic attack attacks agitation "
    "sleep sleeping insomnia nausea vomiting sickness cough coughing itch itching itchy "
    "allergy allergies hayfever hay fever cold colds flu spasm spasms cramp cramps cramping "
    "heartburn reflux indigestion acid stomach constipation diarrhea diarrhoea "
    "inflammation swelling arthritis gout mood depression nerves stress restless legs bp "
    "blood pressure cholesterol sugar diabetes thyroid asthma wheeze wheezing breathing "
    "infection seizures withdrawal symptoms symptom relief".split()
)
_INDICATION_START = frozenset({"for", "prn"})
_SALTS = frozenset(
    "hydrochloride hcl dihydrochloride hydrobromide hbr sodium disodium potassium "
    "dipotassium calcium magnesium succinate tartrate bitartrate besylate besilate "
    "mesylate mesilate dimesylate maleate fumarate hemifumarate citrate sulfate sulphate "
    "bisulfate phosphate acetate bromide methylbromide chloride carbonate lactate "
    "gluconate malate napsylate pamoate embonate hyclate monohydrate dihydrate "
    "trihydrate hemihydrate sesquihydrate anhydrous hydrate valerate propionate "
    "dipropionate decanoate enanthate palmitate xinafoate stearate benzoate tosylate "
    "tromethamine trometamol saccharate aspartate teoclate oxalate erbumine arginine "
    "medoxomil cilexetil etexilate axetil pivoxil ethylsuccinate estolate lactobionate "
    "salt salts base".split()
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().replace("\u03bc", "u").replace("\u00b5", "u")
    return _APOSTROPHES_RE.sub("", folded)


_NUMBER_SIGN_RE = re.compile(r"#\s*(?=\d)")  # "Tylenol #3" is "Tylenol No. 3"


def _tokens(text: str) -> list[str]:
    found: list[str] = _TOKEN_RE.findall(_NUMBER_SIGN_RE.sub(" no ", _fold(text)))
    tokens: list[str] = []
    for word in found:
        if word == "/" and tokens and tokens[-1] == "w":  # "w/ codeine", "Tylenol w/codeine"
            tokens[-1] = "with"
        else:
            tokens.append(word)
    return tokens


def _key(tokens: Iterable[str]) -> str:
    return " ".join(t for t in tokens if t not in _SEPARATOR_TOKENS)


def normalize_name(text: str) -> str:
    """The lookup form of a name: folded, punctuation dropped, single spaces."""
    return _key(_tokens(text))


def strip_salts(text: str) -> str:
    """The name without its salt and hydrate words ("loperamide hydrochloride" → "loperamide")."""
    return " ".join(t for t in _tokens(text) if t not in _SALTS)


#: Words the reader treats as something other than a name.
_NOT_NAME_WORDS = (
    _UNITS | _FORMS | _DIRECTIONS | _INDICATIONS | _SALTS | _CONNECTOR_WORDS | _INDICATION_START
)


def is_plain_name(text: str) -> bool:
    """Whether every word of ``text`` is read as part of a name: none is a strength, form,
    direction, indication, salt or connector word, so the reader cannot cut it short."""
    tokens = _tokens(text)
    return bool(tokens) and not any(
        t in _NOT_NAME_WORDS
        or t in _SEPARATOR_TOKENS
        or _NUMBER_RE.match(t)
        or _DIRECTION_RE.match(t)
        for t in tokens
    )


def _drop_strengths(tokens: list[str]) -> list[str]:
    return [t for t in tokens if not (_NUMBER_RE.match(t) or t in _UNITS)]


def _drop_forms(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in _FORMS]


def _drop_indications(tokens: list[str]) -> list[str]:
    """Drop what a medicine is for, after "for", "prn" or "as needed": only indication words
    (and directions, numbers and units among them) are dropped; "for" followed by anything
    else is kept, so that the entry does not match and nothing after it is lost."""
    kept: list[str] = []
    after = False
    for i, word in enumerate(tokens):
        starts = word in _INDICATION_START or (word == "needed" and i > 0 and tokens[i - 1] == "as")
        if starts:
            following = tokens[i + 1 : i + 2]
            if word == "for" and not (following and following[0] in _INDICATIONS):
                kept.append(word)
                after = False
                continue
            after = True
            if word != "for":
                kept.append(word)  # "prn" and "needed" are directions, dropped later
            continue
        if after and (
            word in _INDICATIONS or word in _DIRECTIONS or word in _UNITS or _NUMBER_RE.match(word)
        ):
            continue
        after = False
        kept.append(word)
    return kept


def _drop_directions(tokens: list[str]) -> list[str]:
    tokens = _drop_indications(tokens)
    tokens = [
        t
        for i, t in enumerate(tokens)
        if not (t == "night" and i > 0 and tokens[i - 1] in _NIGHT_AFTER)
    ]
    return [t for t in tokens if t not in _DIRECTIONS and not _DIRECTION_RE.match(t)]


def _drop_salts(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in _SALTS]


_STEPS = (_drop_strengths, _drop_forms, _drop_directions, _drop_salts)


def _stage_keys(tokens: list[str]) -> list[str]:
    """Lookup keys for the text and each cumulative clean-up step (distinct, non-empty)."""
    keys: list[str] = []
    current = tokens
    for step in (None, *_STEPS):
        if step is not None:
            current = step(current)
        key = _key(current)
        if key and key not in keys:
            keys.append(key)
    return keys


def _split_parts(tokens: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in _SEPARATOR_TOKENS or token in _CONNECTOR_WORDS:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if _cleaned_key(p)]  # parts that are only "5 mg" etc. drop out


def _is_strength_separator(tokens: list[str], i: int) -> bool:
    """A "/" or "-" between two numbers ("5/325", "1-2 tabs", "4-6 hours") belongs to a
    strength or a direction, not between two names."""
    return (
        tokens[i] in {"/", "-"}
        and 0 < i < len(tokens) - 1
        and bool(_NUMBER_RE.match(tokens[i - 1]))
        and bool(_NUMBER_RE.match(tokens[i + 1]))
    )


def _cleaned_key(tokens: list[str]) -> str:
    for step in _STEPS:
        tokens = step(tokens)
    return _key(tokens)


#: RxNorm's names of clinical drugs and packs (its SCD, SBD, GPCK and BPCK term types), as
#: EHRs send them in MedicationRequest.medicationCodeableConcept: a duration first for
#: extended-release forms
#: ("72 HR", "12 HR"), rates and metered doses as "<unit>/<unit>" ("MCG/HR", "MG/ACTUAT",
#: "MG/ML"), the dose form "Transdermal System", and packs as "{...} Pack".
_RXNORM_DURATIONS = frozenset({"h", "hr", "hrs", "hour", "hours", "day", "days", "week", "weeks"})
_RXNORM_PER = frozenset(
    {"h", "hr", "hour", "day", "actuat", "actuation", "ml", "g", "mg", "l", "unt", "cm2"}
)
_RXNORM_WORDS = frozenset({"system", "systems", "pack", "actuat", "actuation", "unt"})


def _drop_rxnorm_words(tokens: list[str]) -> list[str]:
    """An RxNorm-style name read as a medication-list entry: the leading duration, the
    "per hour" or "per actuation" of a strength, "/" between two strengths of a combination,
    and the words "System", "Pack" and "ACTUAT" dropped. Leaves any other name unchanged."""
    out = list(tokens)
    if len(out) > 2 and _NUMBER_RE.match(out[0]) and out[1] in _RXNORM_DURATIONS:
        out = out[2:]
    kept: list[str] = []
    i = 0
    while i < len(out):
        word = out[i]
        if word == "/" and kept and kept[-1] in _UNITS and i + 1 < len(out):
            following = out[i + 1]
            if following in _RXNORM_PER:
                i += 2  # "MCG/HR": the rate's "per hour" goes, its strength stays
                continue
            if _NUMBER_RE.match(following):
                i += 1  # "8 MG / 2 MG": two strengths of one combination product
                continue
        if word not in _RXNORM_WORDS:
            kept.append(word)
        i += 1
    return kept


_PAREN_RE = re.compile(r"[(\[]([^()\[\]]*)[)\]]")


def _check_query(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"medication name must be a string, not {type(text).__name__}")
    query = text.strip()
    if not query:
        raise InvalidQueryError("medication name is empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidQueryError(
            f"medication name is too long ({len(query)} characters, at most {MAX_QUERY_LENGTH})"
        )
    return query


_ROUTE_WORDS: Mapping[str, Route] = MappingProxyType(
    {
        **dict.fromkeys(("patch", "patches", "transdermal"), "transdermal"),
        **dict.fromkeys(("eye", "eyes", "ophthalmic"), "eye"),
        **dict.fromkeys(("ear", "ears", "otic"), "ear"),
        **dict.fromkeys(("nasal", "nose", "intranasal", "nostril", "nostrils"), "nasal"),
        **dict.fromkeys(
            (
                "inhaler",
                "inhalers",
                "inhalation",
                "inhaled",
                "puff",
                "puffs",
                "hfa",
                "mdi",
                "nebuliser",
                "nebulizer",
                "nebule",
                "nebules",
                "neb",
                "diskus",
                "respimat",
                "turbuhaler",
                "ellipta",
                "evohaler",
                "accuhaler",
            ),
            "inhaled",
        ),
        **dict.fromkeys(
            (
                "cream",
                "creams",
                "ointment",
                "lotion",
                "foam",
                "shampoo",
                "topical",
                "topically",
                "skin",
                "scalp",
                "paste",
                "wash",
                "gel",
            ),
            "skin",
        ),
    }
)
_SYSTEMIC_WORDS = frozenset("oral po mouth tablet tablets tab tabs capsule capsules".split())


def route_of(text: str) -> Route | None:
    """The route an entry names ("ketoconazole 2% cream" is on the skin), or None.

    None when no route is named, when the entry also says it is taken by mouth ("oral gel"),
    or when it names two different routes: those are screened as systemic.
    """
    tokens = _tokens(text)
    if any(t in _SYSTEMIC_WORDS for t in tokens):
        return None
    routes = {_ROUTE_WORDS[t] for t in tokens if t in _ROUTE_WORDS}
    if "transdermal" in routes and routes <= {"transdermal", "skin"}:
        return "transdermal"  # a patch is a patch, whatever else the label says
    return routes.pop() if len(routes) == 1 else None


# --------------------------------------------------------------------------- knowledge


@dataclass(frozen=True, eq=False)
class Knowledge:
    """The loaded knowledge base. Build it with :func:`load_knowledge`."""

    version: str
    classes: Mapping[str, SubstanceClass]
    substances: Mapping[str, Substance]
    combinations: tuple[Combination, ...]
    _index: Mapping[str, _Entry] = field(repr=False)
    _keys: tuple[str, ...] = field(repr=False)
    _by_class: Mapping[str, tuple[Substance, ...]] = field(repr=False)

    def substances_in_class(self, class_id: str) -> tuple[Substance, ...]:
        """Substances in a class, ordered by id. Unknown class ids raise ``KeyError``."""
        if class_id not in self.classes:
            raise KeyError(f"unknown substance class {class_id!r}")
        return self._by_class.get(class_id, ())

    def recognize(self, text: str) -> Match | NotRecognized:
        """Recognise one medication-list entry (see the module docstring)."""
        query = _check_query(text)
        probes: list[str] = []
        for tokens in self._readings(query):
            entry = self._lookup(tokens, probes)
            if entry is not None:
                return self._match(text, entry.ids, entry.kind, entry.display)
            found = self._parse(tokens, probes)
            if found and len(found) == 1:
                return self._match(text, found[0].ids, found[0].kind, found[0].display)
            if found:
                ids = tuple(dict.fromkeys(i for e in found for i in e.ids))
                display = " + ".join(dict.fromkeys(e.display for e in found))
                return self._match(text, ids, "combination", display)
        return NotRecognized(query=text, suggestions=self._suggest(probes))

    @staticmethod
    def _readings(query: str) -> list[list[str]]:
        """The entry as written; without its bracketed text; and each bracketed text alone,
        but only when what is outside the brackets names one thing ("Zubsolv
        (buprenorphine/naloxone)"): never "A 5 mg, B (vitamin B6)" read as B alone."""
        readings = [_tokens(query)]
        inner = [m.group(1) for m in _PAREN_RE.finditer(query)]
        if inner:
            outer = _tokens(_PAREN_RE.sub(" ", query))
            readings.append(outer)
            if len(_split_parts(outer)) <= 1:
                readings.extend(_tokens(i) for i in inner if i.strip())
        # RxNorm's way of writing a name, tried after the entry as written.
        readings += [r for r in map(_drop_rxnorm_words, readings) if r not in readings]
        return [r for r in readings if r]

    def _parse(self, tokens: list[str], probes: list[str]) -> list[_Entry] | None:
        """Several names in one entry ("A 5 mg and B", "A for pain, B q6h"), or None.

        From left to right: the longest known name at this point (so that "Nurofen Plus"
        or "Tylenol with Codeine" is not cut at its connector word), then what follows it up
        to the next separator or connector must be strengths, forms, directions or salts. A
        stretch that is none of these and no known name makes the whole entry unreadable:
        nothing is ever dropped.
        """
        entries: list[_Entry] = []
        i, n = 0, len(tokens)
        while i < n:
            if tokens[i] in _SEPARATOR_TOKENS or tokens[i] in _CONNECTOR_WORDS:
                i += 1
                continue
            stop = i
            while stop < n and not (
                tokens[stop] in _SEPARATOR_TOKENS or tokens[stop] in _CONNECTOR_WORDS
            ):
                stop += 1
            name_end = next(
                (
                    j
                    for j in range(n, i, -1)
                    if tokens[j - 1] not in _SEPARATOR_TOKENS and _key(tokens[i:j]) in self._index
                ),
                None,
            )
            if name_end is not None:
                entries.append(self._index[_key(tokens[i:name_end])])
                i = name_end
                rest_end = max(stop, i)
                while rest_end < n and not (
                    tokens[rest_end] in _SEPARATOR_TOKENS or tokens[rest_end] in _CONNECTOR_WORDS
                ):
                    rest_end += 1
                if _cleaned_key(tokens[i:rest_end]):
                    return None
                i = rest_end
                continue
            chunk = tokens[i:stop]
            if _cleaned_key(chunk):
                entry = self._lookup(chunk, probes)
                if entry is None:
                    return None
                entries.append(entry)
            i = stop
        return entries

    def _lookup(self, tokens: list[str], probes: list[str]) -> _Entry | None:
        # The longest known name the entry starts with, when all that follows it is
        # strengths, forms, directions and salts: "Tylenol #3 1 tab q4h" is Tylenol #3
        # (with codeine), not Tylenol with its number dropped as a strength.
        several = [
            i for i, t in enumerate(tokens) if t in _SEPARATOR_TOKENS or t in _CONNECTOR_WORDS
        ]
        for end in range(len(tokens), 0, -1):
            if tokens[end - 1] in _SEPARATOR_TOKENS:
                continue
            entry = self._index.get(_key(tokens[:end]))
            if entry is None or _cleaned_key(tokens[end:]):
                continue
            # What follows the name is read as its strength and directions only up to the
            # next part: "Relexxii 10 mg + magnesium" is two names, even though "magnesium"
            # is also a salt word.
            if all(_is_strength_separator(tokens, i) for i in several if i >= end):
                return entry
        if several:
            return None  # several parts: read one by one (_parse), never some dropped
        keys = _stage_keys(tokens)
        for key in keys:
            entry = self._index.get(key)
            if entry is not None:
                return entry
        if keys:
            probes.append(keys[-1])
        return None

    def _match(self, query: str, ids: Sequence[str], kind: MatchKind, display: str) -> Match:
        substances = tuple(self.substances[i] for i in ids)
        return Match(
            query=query,
            substances=substances,
            matched_as=kind,
            matched_name=display,
            route=route_of(query),
        )

    def _suggest(self, probes: Sequence[str]) -> tuple[str, ...]:
        suggestions: list[str] = []
        for probe in dict.fromkeys(probes):
            close = difflib.get_close_matches(
                probe, self._keys, n=MAX_SUGGESTIONS * 3, cutoff=SUGGESTION_CUTOFF
            )
            for key in close:
                display = self._index[key].display
                if display not in suggestions:
                    suggestions.append(display)
        return tuple(suggestions[:MAX_SUGGESTIONS])


# ----------------------------------------------------------------------------- loading


def _data_dir() -> Traversable:
    return resources.files("kratomwatch") / "data"


@functools.cache
def _schema() -> Mapping[str, Any]:
    text = (_data_dir() / "schemas" / "substances.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _validate(document: Any, schema: Mapping[str, Any], where: str) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise KnowledgeBaseError(f"substances knowledge base, {where} at {path}: {error.message}")


def _source(raw: Mapping[str, Any]) -> Source:
    return Source(title=" ".join(raw["title"].split()), url=raw["url"])


def _text(value: str | None) -> str | None:
    return None if value is None else " ".join(value.split())


def build_knowledge(
    document: Mapping[str, Any],
    parts: Mapping[str, Any] | None = None,
    official: Mapping[str, Any] | None = None,
) -> Knowledge:
    """Validate and build a knowledge base from parsed YAML.

    ``document`` is the main file; ``parts`` maps each name listed in its ``parts`` to
    that file's parsed content (substances may also be given directly in ``parts`` under
    names the main file lists); ``official`` is the parsed file of names from the FDA's UNII
    list, if any. Raises :class:`KnowledgeBaseError` on any problem.
    """
    schema = _schema()
    _validate(document, schema, "main file")
    part_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/part"}
    parts = parts or {}
    raw_substances: list[Mapping[str, Any]] = []
    problems: list[str] = []
    for name in document["parts"]:
        if name not in parts:
            problems.append(f"part {name!r} is missing")
            continue
        _validate(parts[name], part_schema, name)
        raw_substances.extend(parts[name]["substances"])
    for name in parts:
        if name not in document["parts"]:
            problems.append(f"part {name!r} is not listed in the main file")

    classes = {
        cid: SubstanceClass(
            id=cid,
            label=raw["label"],
            description=" ".join(raw["description"].split()),
            source=_source(raw["source"]),
            additional_sources=tuple(_source(s) for s in raw.get("additional_sources", ())),
        )
        for cid, raw in document["classes"].items()
    }
    substances: dict[str, Substance] = {}
    for raw in raw_substances:
        sid = raw["id"]
        if sid in substances:
            problems.append(f"substance id {sid!r} is listed twice")
        unknown = [c for c in raw["classes"] if c not in classes]
        problems.extend(f"substance {sid!r} uses undefined class {c!r}" for c in unknown)
        substances[sid] = Substance(
            id=sid,
            name=raw["name"],
            brands=tuple(raw["brands"]),
            synonyms=tuple(raw["synonyms"]),
            misspellings=tuple(raw["misspellings"]),
            classes=frozenset(raw["classes"]),
            atc=tuple(raw.get("atc", ())),
            notes=_text(raw.get("notes")),
            local_routes=MappingProxyType(
                {r: _source(s) for r, s in raw.get("local_routes", {}).items()}
            ),
        )
    if official is not None:
        _validate(
            official, {"$defs": schema["$defs"], "$ref": "#/$defs/official_names"}, "UNII names"
        )
        for sid, found in official["names"].items():
            if sid not in substances:
                problems.append(f"UNII names are given for unknown substance {sid!r}")
                continue
            substances[sid] = replace(substances[sid], official_names=tuple(found))
    combinations: list[Combination] = []
    for raw in document["combinations"]:
        missing = [i for i in raw["ingredients"] if i not in substances]
        problems.extend(
            f"combination {raw['name']!r} uses unknown ingredient {i!r}" for i in missing
        )
        combinations.append(
            Combination(
                name=raw["name"],
                aliases=tuple(raw.get("aliases", ())),
                misspellings=tuple(raw.get("misspellings", ())),
                ingredients=tuple(raw["ingredients"]),
                notes=_text(raw.get("notes")),
            )
        )
    index = _build_index(substances.values(), combinations, problems)
    if problems:
        raise KnowledgeBaseError("substances knowledge base: " + "; ".join(problems))

    by_class: dict[str, list[Substance]] = {}
    for substance in sorted(substances.values(), key=lambda s: s.id):
        for cid in substance.classes:
            by_class.setdefault(cid, []).append(substance)
    return Knowledge(
        version=str(document["version"]),
        classes=MappingProxyType(classes),
        substances=MappingProxyType(substances),
        combinations=tuple(combinations),
        _index=MappingProxyType(index),
        _keys=tuple(sorted(index)),
        _by_class=MappingProxyType({c: tuple(v) for c, v in by_class.items()}),
    )


def _build_index(
    substances: Iterable[Substance], combinations: Iterable[Combination], problems: list[str]
) -> dict[str, _Entry]:
    index: dict[str, _Entry] = {}

    def add(name: str, entry: _Entry) -> None:
        key = normalize_name(name)
        if not key:
            problems.append(f"name {name!r} has no letters or digits")
            return
        existing = index.get(key)
        if existing is None or (
            existing.ids == entry.ids and _KIND_RANK[entry.kind] < _KIND_RANK[existing.kind]
        ):
            index[key] = entry
        elif existing.ids != entry.ids:
            problems.append(
                f"name {name!r} stands for {'+'.join(entry.ids)} and also for "
                f"{'+'.join(existing.ids)}"
            )

    for s in substances:
        ids = (s.id,)
        add(s.name, _Entry(ids, "generic", s.name))
        add(s.id.replace("_", " "), _Entry(ids, "generic", s.name))
        for brand in s.brands:
            add(brand, _Entry(ids, "brand", brand))
        for synonym in s.synonyms:
            add(synonym, _Entry(ids, "synonym", s.name))
        for misspelling in s.misspellings:
            add(misspelling, _Entry(ids, "misspelling", s.name))
    for c in combinations:
        for name in (c.name, *c.aliases):
            add(name, _Entry(c.ingredients, "combination", name))
        for misspelling in c.misspellings:
            add(misspelling, _Entry(c.ingredients, "misspelling", c.name))
    # Names from the UNII list come last and never displace a hand-written name.
    for s in substances:
        for name in s.official_names:
            key = normalize_name(name)
            if key and key not in index:
                index[key] = _Entry((s.id,), "synonym", s.name)
    return index


def _read_yaml(path: Traversable) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"substances knowledge base, {path.name}: {exc}") from exc


@functools.cache
def load_knowledge() -> Knowledge:
    """The shipped knowledge base, validated and loaded once."""
    base = _data_dir() / "knowledge"
    document = _read_yaml(base / "substances.yaml")
    _validate(document, _schema(), "main file")  # part names are checked before use
    parts = {name: _read_yaml(base.joinpath(*name.split("/"))) for name in document["parts"]}
    official = document.get("official_names")
    return build_knowledge(
        document, parts, _read_yaml(base.joinpath(*official.split("/"))) if official else None
    )


def recognize(text: str) -> Match | NotRecognized:
    """Recognise one medication-list entry against the shipped knowledge base."""
    return load_knowledge().recognize(text)


def substances_in_class(class_id: str) -> tuple[Substance, ...]:
    """Shipped substances in a class, ordered by id (``KeyError`` for unknown classes)."""
    return load_knowledge().substances_in_class(class_id)
