"""Symptoms in people's words: free text to symptom ids, without guessing.

A report such as "my eyes have gone yellow" or "can't catch my breath" is matched against the
names of the symptom vocabulary (``data/knowledge/symptoms.yaml``) as bags of words:

1. **Normalize.** Lower case; curly apostrophes and contractions ("can't", "cannot",
   "couldn't", "unable to" → ``cant``; "don't", "didn't"… → ``not``; "won't" → ``wont``);
   hyphens split words ("self-harm" = "self harm"); intensifiers (really, so, extremely…)
   read as ``very``; filler words (``FILLERS``: my, i, a bit, have, had, been, got, to, of…)
   are dropped.
2. **Stem.** Each word is reduced to a simple stem, so that plurals and verb forms meet:
   breathe/breathes/breathing/breathed → ``breath``, vomits/vomited → ``vomit``, threw →
   ``throw``, eyes → ``eye``, slowly → ``slow``. The stemmer is deliberately small; what it
   does not join, a synonym in the data must.
3. **Clauses.** The text is split into clauses at sentence punctuation, commas and
   ``SEPARATORS`` ("and", "or", "but", "with"…), and each clause is matched on its own, so
   that "yellow vomit and itchy skin" is not read as "yellow skin". Two neighbouring clauses
   across a soft break (and, or, a comma) are joined when together they name a symptom and
   one of them names nothing on its own: "slow and shallow breathing", "yellow eyes and
   skin", "hot and cold".
4. **Match.** A name matches a clause when every one of its words is in the clause, in any
   order; other words may be present ("fainted at work"). When the words of a name of one
   symptom are a strict subset of a name of another, the longer wins ("very sleepy" is
   extreme drowsiness, not drowsiness; "shaking uncontrollably" a seizure, not a tremor).
5. **Negation.** Read in one form only: a clause that starts with a negation word (no, not,
   never, without, denies, none) and names nothing but a symptom ("no chest pain", "I didn't
   faint", "no loss of appetite") denies it. A negation word that belongs to a name ("no
   appetite", "not breathing") is no denial, and one anywhere else in the clause is not read
   ("chest pain, not sure why" reports chest pain): a red flag is not dropped on a guess.
6. **Everything named is reported.** A text naming two symptoms ("chest pain and yellow
   eyes") reports both, red flags first, so that no red flag is lost. A clause that names
   nothing, a denied clause, and a word left over that belongs to another symptom's names
   ("yellow" in "yellow vomit") are returned as *unplaced*: the screening then also reports
   the text as not recognized, with suggestions, so that somebody reads it.

Nothing is decided by similarity: ``difflib`` only proposes suggestions. A text equal to a
name (after normalization) is looked up directly. The index is built once, when the knowledge
base loads, and checked: no two symptoms may share a name or read as the same bag of words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: Dropped everywhere, from reports and synonyms alike: they never decide a match.
FILLERS = frozenset(
    """
    i im ive id me my a an bit little have has had having been got get gets getting gotten
    do does did done am is are was were be it its that this just kind sort of to in at on
    some any like quite pretty rather today tonight yesterday now lately recently again still
    since before ever properly day days time times week weeks bad badly severe mild slight
    slightly keep keeps kept can could
    """.split()
)
#: Words that qualify a symptom rather than name one: never a sign of another symptom.
_MODIFIER_WORDS = """
    very not no cant wont feel feeling felt being up down over lot hard difficult difficulty
    trouble problem problems poor constant excessive loss lose low fast rapid the out
    off want better real stay about easy turn end open food sit think stop drop pass run self
    body night rate water light short bump temper edge attack all here anymore go gone look
    """.split()
_NEGATION_WORDS = ("no", "not", "never", "without", "deny", "denies", "denied", "none")
#: Words between clauses. Across the soft ones an elliptic clause may borrow words from its
#: neighbour ("slow and shallow breathing", "yellow eyes and skin"); across the hard ones and
#: sentence punctuation never ("no chest pain but tightness").
SOFT_SEPARATORS = frozenset({"and", "or", "plus"})
HARD_SEPARATORS = frozenset({"but", "with", "also", "then", "though", "although", "however"})
SEPARATORS = SOFT_SEPARATORS | HARD_SEPARATORS
INTENSIFIERS = frozenset(
    "very really so too extreme extremely super incredibly terribly awfully".split()
)
_CONTRACTIONS = {
    "cannot": "cant",
    "couldnt": "cant",
    "dont": "not",
    "doesnt": "not",
    "didnt": "not",
    "isnt": "not",
    "arent": "not",
    "wasnt": "not",
    "werent": "not",
    "havent": "not",
    "hasnt": "not",
    "hadnt": "not",
    "wouldnt": "not",
    "shouldnt": "not",
    "aint": "not",
}
_PHRASES = (
    (re.compile(r"\b(?:can|could) not\b"), "cant"),
    (re.compile(r"\bunable to\b"), "cant"),
    (re.compile(r"\bwill not\b"), "wont"),
    (re.compile(r"\ba bit\b|\ba little\b|\ba lot of\b"), " "),
    (re.compile(r"\ba lot\b|\blots\b"), "lot"),
)
_IRREGULAR = {
    "threw": "throw",
    "thrown": "throw",
    "felt": "feel",
    "lost": "lose",
    "woke": "wake",
    "woken": "wake",
    "shook": "shake",
    "shaken": "shake",
    "fell": "fall",
    "fallen": "fall",
    "slept": "sleep",
    "dying": "die",
    "died": "die",
    "ate": "eat",
    "peed": "pee",
    "weed": "wee",
}
_DOUBLED = frozenset("bdgmnprt")
_SENTENCE_BREAK = re.compile(r"[.;:!?()\[\]\n]+")
_SOFT_BREAK = re.compile(r"[,/]+")
_NOT_WORD = re.compile(r"[^a-z0-9' ]+")


def stem(word: str) -> str:
    """A simple stem: plural and verb endings off, so that inflections of a word meet."""
    w = _IRREGULAR.get(word, word)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith(("ably", "ibly")):
        w = w[:-1] + "e"
    elif len(w) > 4 and w.endswith("ly"):
        w = w[:-2]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("eed"):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] in _DOUBLED:
                w = w[:-1]
            elif suffix == "ed" and w.endswith("i"):
                w = w[:-1] + "y"  # worried → worry
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


#: Stems: what the matcher compares.
NEGATIONS = frozenset(stem(w) for w in _NEGATION_WORDS)
MODIFIERS = frozenset(stem(w) for w in _MODIFIER_WORDS) | NEGATIONS


def _words(text: str) -> list[str]:
    """Normalized raw words of one clause (before stemming), fillers kept."""
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("-", " ")
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"n't\b", "nt", text)  # can't → cant, don't → dont
    text = re.sub(r"'(?:s|m|ve|re|ll|d)\b", "", text)  # it's, i'm, i've → it, i, i
    text = _NOT_WORD.sub(" ", text).replace("'", "")
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return [_CONTRACTIONS.get(w, w) for w in text.split()]


Clause = list[tuple[str, str]]  # (word as written, stem)


def clauses(text: str) -> list[tuple[Clause, bool]]:
    """The clauses of ``text``, each as its (word, stem) pairs in order, fillers dropped, and
    whether the break after it is soft (see ``SOFT_SEPARATORS``)."""
    found: list[tuple[Clause, bool]] = []
    for sentence in _SENTENCE_BREAK.split(text.lower()):
        current: Clause = []
        for word in _words(_SOFT_BREAK.sub(" and ", sentence)):
            if word in SEPARATORS:
                if current:
                    found.append((current, word in SOFT_SEPARATORS))
                current = []
            elif word in INTENSIFIERS:
                current.append((word, "very"))
            elif word not in FILLERS:
                current.append((word, stem(word)))
        if current:
            found.append((current, False))
    return found


def bag(name: str) -> frozenset[str]:
    """The words of a name, as matched: stems; fillers and separators dropped."""
    return frozenset(w for part, _ in clauses(name) for _, w in part)


def key(text: str) -> str:
    """``text`` as compared with the names of the vocabulary for an exact match."""
    return " ".join(_words(_SOFT_BREAK.sub(" ", _SENTENCE_BREAK.sub(" ", text.lower()))))


@dataclass(frozen=True)
class TextMatch:
    """What a text names: symptom ids (red flags first), the parts not placed (as written),
    and suggestions (labels) for those parts."""

    symptoms: tuple[str, ...]
    unplaced: tuple[str, ...]
    suggestions: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Every part of the text was placed: nothing for a person to read again."""
        return bool(self.symptoms) and not self.unplaced


@dataclass(frozen=True)
class _Synonym:
    symptom: str
    name: str
    words: frozenset[str]


class SymptomIndex:
    """Names of every symptom, indexed by word; built once per knowledge base."""

    def __init__(self, names: Mapping[str, Sequence[str]], red_flags: Iterable[str]) -> None:
        """``names``: symptom id → its names, the label first. Raises ValueError when a name
        has no words to match, or when two symptoms share a name or a bag of words."""
        self._order = {sid: n for n, sid in enumerate(names)}
        self._red = frozenset(red_flags)
        self._labels = {sid: group[0] for sid, group in names.items()}
        self._names: dict[str, str] = {}
        self._by_word: dict[str, list[_Synonym]] = {}
        vocabulary: dict[str, set[str]] = {}
        owner: dict[frozenset[str], _Synonym] = {}
        for sid, group in names.items():
            for name in group:
                exact = key(name)
                if self._names.setdefault(exact, sid) != sid:
                    raise ValueError(f"{name!r} names both {self._names[exact]} and {sid}")
                words = bag(name)
                if not words:
                    raise ValueError(f"{sid}: {name!r} has no words to match")
                synonym = owner.setdefault(words, _Synonym(sid, name, words))
                if synonym.symptom != sid:
                    raise ValueError(
                        f"{name!r} ({sid}) and {synonym.name!r} ({synonym.symptom}) read as "
                        f"the same words: {' '.join(sorted(words))}"
                    )
                if synonym.name != name:
                    continue  # the same words as another name of this symptom
                for word in words:
                    self._by_word.setdefault(word, []).append(synonym)
                for word in words - MODIFIERS:
                    vocabulary.setdefault(word, set()).add(sid)
        self._vocabulary = {w: frozenset(s) for w, s in vocabulary.items()}

    @property
    def vocabulary(self) -> Mapping[str, frozenset[str]]:
        """Stem → the symptoms whose names use it (modifiers left out)."""
        return self._vocabulary

    def _candidates(self, words: frozenset[str]) -> list[_Synonym]:
        """Synonyms wholly in ``words``, less those inside a longer one of another symptom."""
        found = {s for w in words for s in self._by_word.get(w, ()) if s.words <= words}
        return [
            s for s in found if not any(s.words < o.words and o.symptom != s.symptom for o in found)
        ]

    def _joins(self, left: Clause, right: Clause) -> bool:
        """Whether two clauses name one symptom together, and one of them nothing on its own
        ("slow and shallow breathing", "hot and cold")."""
        a, b = frozenset(w for _, w in left), frozenset(w for _, w in right)
        spanning = [s for s in self._candidates(a | b) if s.words & a - b and s.words & b - a]
        return bool(spanning) and (not self._candidates(a) or not self._candidates(b))

    def match(self, text: str) -> TextMatch:
        """The symptoms ``text`` names, and what of it could not be placed."""
        sid = self._names.get(key(text))
        if sid is not None:
            return TextMatch((sid,), (), ())
        parts = clauses(text)
        n = 0
        while n < len(parts) - 1:
            (left, soft), (right, after) = parts[n], parts[n + 1]
            if soft and self._joins(left, right):
                parts[n : n + 2] = [(left + right, after)]
            else:
                n += 1
        found: set[str] = set()
        unplaced: list[str] = []
        hints: set[str] = set()
        for part, _ in parts:
            words = frozenset(w for _, w in part)
            said = " ".join(raw for raw, _ in part)
            matched = self._candidates(words)
            if not matched:
                unplaced.append(said)
                hints.update(s for w in words for s in self._vocabulary.get(w, ()))
                continue
            mine = {s.symptom for s in matched}
            first = part[0][1]
            if first in NEGATIONS:
                plain = frozenset(w for s in matched if first not in s.words for w in s.words)
                if plain and all(w in plain or w in MODIFIERS for w in words):
                    unplaced.append(said)  # denied: not screened, left to a person to read
                    hints.update(mine)
                    continue
            found.update(mine)
            used = frozenset(w for s in matched for w in s.words)
            stray = [
                (raw, w)
                for raw, w in part
                if w not in used and w not in MODIFIERS and self._vocabulary.get(w, mine) - mine
            ]
            if stray:
                unplaced.append(" ".join(raw for raw, _ in stray))
                hints.update(s for _, w in stray for s in self._vocabulary[w] - mine)
        symptoms = tuple(sorted(found, key=lambda s: (s not in self._red, self._order[s])))
        suggestions: tuple[str, ...] = ()
        if unplaced or not symptoms:
            close = difflib.get_close_matches(key(text), list(self._names), n=3, cutoff=0.75)
            hints.update(self._names[c] for c in close)
            suggestions = tuple(sorted(self._labels[s] for s in hints - found))
        return TextMatch(symptoms, tuple(unplaced), suggestions)
