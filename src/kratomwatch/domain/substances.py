"""Substances knowledge base and medication-name recognizer.

The knowledge base (``data/knowledge/substances.yaml`` and its part files) lists
ingredients with their brand names, synonyms, common misspellings and interaction
classes, plus combination products. It is validated against
``data/schemas/substances.schema.json`` and cross-checked when loaded.

:func:`recognize` turns one entry of a medication list into a :class:`Match` (one or more
substances) or a :class:`NotRecognized` with close suggestions. Matching is exact on a
normalised form of the text; fuzzy similarity is only ever used for suggestions, never
to match. Normalisation:

* case, accents and apostrophes are folded; other punctuation separates words;
* if the whole text is not a known name, these are removed step by step, looking the
  text up again after each step: strengths and units ("10 mg", "5/325", "25mcg/hr");
  dose forms, routes and release modifiers ("tablets", "patch", "ER", "XR", "extra
  strength"); directions ("TID", "twice daily", "for pain ..."); salts ("HCl",
  "sodium", "succinate");
* text in parentheses is also tried on its own and without the parentheses;
* "A/B", "A + B", "A and B", "A with B", "A-B" is matched as a combination only when
  every part is recognised (an unrecognised part means nothing is matched, so that no
  ingredient is silently dropped).

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
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any, Literal

import jsonschema
import yaml

__all__ = [
    "MAX_QUERY_LENGTH",
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
    "substances_in_class",
]

MatchKind = Literal["generic", "brand", "synonym", "misspelling", "combination"]

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

    def in_class(self, class_id: str) -> bool:
        return class_id in self.classes


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

_NUMBER_RE = re.compile(r"^\d+[a-z]*$")  # 10, 20mg, 24h, 2x
_DIRECTION_RE = re.compile(r"^(q\d+[a-z]*|x\d+)$")  # q6h, q4, x2

_UNITS = frozenset(
    "mg mgs mcg mcgs ug g gm gram grams milligram milligrams microgram micrograms ml mls "
    "millilitre millilitres milliliter milliliters l iu unit units meq mmol percent pct "
    "h hr hrs hour hours no nr num number".split()  # "No. 3" as in Tylenol No. 3
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
    "infant infants kids pediatric paediatric adult adults gummy gummies".split()
)
_DIRECTIONS = frozenset(
    "take takes taking use apply inject inhale insert one two three four half whole "
    "once twice thrice times time daily day days a per every each weekly week monthly "
    "month morning evening nightly bedtime noon at in the as of to up by mouth needed "
    "required directed prn od om on bd bid tds tid qds qid qd qhs hs qam qpm qod nocte "
    "mane stat x mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday "
    "thursday friday saturday sunday weekdays alternate".split()
)
_NIGHT_AFTER = frozenset({"at", "every", "each", "per", "a"})  # "at night" is a direction
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


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(_fold(text))


def _key(tokens: Iterable[str]) -> str:
    return " ".join(t for t in tokens if t not in _SEPARATOR_TOKENS)


def normalize_name(text: str) -> str:
    """The lookup form of a name: folded, punctuation dropped, single spaces."""
    return _key(_tokens(text))


def _drop_strengths(tokens: list[str]) -> list[str]:
    return [t for t in tokens if not (_NUMBER_RE.match(t) or t in _UNITS)]


def _drop_forms(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in _FORMS]


def _drop_directions(tokens: list[str]) -> list[str]:
    if "for" in tokens:  # "... for pain", "... for sleep"
        tokens = tokens[: tokens.index("for")]
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


def _cleaned_key(tokens: list[str]) -> str:
    for step in _STEPS:
        tokens = step(tokens)
    return _key(tokens)


_PAREN_RE = re.compile(r"[(\[]([^()\[\]]*)[)\]]")


def _candidates(query: str) -> list[str]:
    """The query, the query without bracketed text, then each bracketed text."""
    found = [query]
    inner = [m.group(1) for m in _PAREN_RE.finditer(query)]
    if inner:
        found.append(_PAREN_RE.sub(" ", query))
        found.extend(inner)
    return [c for c in found if c.strip()]


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
        candidates = [_tokens(c) for c in _candidates(query)]
        for tokens in candidates:
            entry = self._lookup(tokens, probes)
            if entry is not None:
                return self._match(text, entry.ids, entry.kind, entry.display)
        for tokens in candidates:
            parts = _split_parts(tokens)
            if len(parts) < 2:
                continue
            entries = [self._lookup(part, probes) for part in parts]
            if all(e is not None for e in entries):
                found = [e for e in entries if e is not None]
                ids = tuple(dict.fromkeys(i for e in found for i in e.ids))
                display = " + ".join(dict.fromkeys(e.display for e in found))
                return self._match(text, ids, "combination", display)
        return NotRecognized(query=text, suggestions=self._suggest(probes))

    def _lookup(self, tokens: list[str], probes: list[str]) -> _Entry | None:
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
        return Match(query=query, substances=substances, matched_as=kind, matched_name=display)

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
    document: Mapping[str, Any], parts: Mapping[str, Any] | None = None
) -> Knowledge:
    """Validate and build a knowledge base from parsed YAML.

    ``document`` is the main file; ``parts`` maps each name listed in its ``parts`` to
    that file's parsed content (substances may also be given directly in ``parts`` under
    names the main file lists). Raises :class:`KnowledgeBaseError` on any problem.
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
        )
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
    return build_knowledge(document, parts)


def recognize(text: str) -> Match | NotRecognized:
    """Recognise one medication-list entry against the shipped knowledge base."""
    return load_knowledge().recognize(text)


def substances_in_class(class_id: str) -> tuple[Substance, ...]:
    """Shipped substances in a class, ordered by id (``KeyError`` for unknown classes)."""
    return load_knowledge().substances_in_class(class_id)
