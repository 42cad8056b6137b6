"""Symptoms in people's words: every name in symptoms.yaml, reworded as people write it, maps
to its own symptom and to no other; denied, unrelated and half-placed text is never guessed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kratomwatch.domain.safety import (
    KnowledgeError,
    Snapshot,
    SymptomReport,
    load_knowledge,
    screen,
    urgent_findings,
)
from kratomwatch.domain.safety.knowledge import Symptom, _symptom_index
from kratomwatch.domain.safety.symptom_text import (
    FILLERS,
    INTENSIFIERS,
    NEGATIONS,
    SEPARATORS,
    SymptomIndex,
)

NOW = datetime(2026, 12, 7, 6, 12, tzinfo=UTC)
KB = load_knowledge()
SYMPTOMS = list(KB.symptoms.values())
RED_FLAGS = [s for s in SYMPTOMS if s.red_flag]


def _names() -> Iterator[tuple[str, str]]:
    for s in SYMPTOMS:
        for name in (s.label, s.id.replace("_", " "), *s.synonyms):
            yield s.id, name


def _inflections(word: str, last: bool) -> set[str]:
    """Regular English forms of ``word``: plural/singular, -ing/-ed/-s, adverb/adjective."""
    if not word.isalpha() or len(word) < 4 or word in FILLERS | SEPARATORS | NEGATIONS:
        return set()
    if word.endswith("ing") and len(word) > 5:
        base = word[:-3]
        single = base[:-1] if base[-1] == base[-2] and base[-1] not in "ls" else base
        third = single + ("es" if single.endswith(("s", "sh", "ch", "x")) else "s")
        return {base + "ed", third}
    if word.endswith("ied"):
        return {word[:-3] + "ying"}
    if word.endswith("ed") and not word.endswith("eed") and len(word) > 4:
        return {word[:-2] + "ing"}
    if word.endswith("ably"):
        return {word[:-1] + "e"}
    if word.endswith("ly") and len(word) > 4:
        return {word[:-2]}
    if word.endswith("s"):
        return {word[:-1]} if not word.endswith(("ss", "us", "is")) else set()
    if last and not word.endswith(("y", "x", "sh", "ch", "ous", "ful", "ness", "ia", "al", "en")):
        return {word + "s"}
    return set()


def _variants(name: str) -> Iterator[str]:
    """The name as people might write it (the vocabulary's words, reworded)."""
    yield name.upper()
    yield name.title()
    yield f"  {name}!! "
    yield f"{name}."
    yield f'"{name}"'
    for filler in ("I have", "I've got", "I had", "been", "a bit", "I think I have", "still"):
        yield f"{filler} {name}"
    yield f"{name} today"
    yield f"{name} since yesterday"
    words = name.split()
    for i, word in enumerate(words):
        for form in _inflections(word, i == len(words) - 1):
            yield " ".join([*words[:i], form, *words[i + 1 :]])
    if len(words) > 1 and name.replace(" ", "").replace("'", "").replace("-", "").isalpha():
        yield " ".join(reversed(words))
        yield " ".join([*words[1:], words[0]])


CASES = [(sid, name, variant) for sid, name in _names() for variant in _variants(name)]


@pytest.mark.parametrize(("sid", "name"), list(_names()))
def test_every_name_of_a_symptom_maps_to_it(sid: str, name: str) -> None:
    found = KB.match_symptom(name)
    assert found.symptoms == (sid,) and found.complete, found


def test_the_reworded_names_map_to_their_own_symptom_and_no_other() -> None:
    wrong = [
        (sid, name, variant, found.symptoms)
        for sid, name, variant in CASES
        if (found := KB.match_symptom(variant)).symptoms != (sid,)
    ]
    assert len(CASES) > 3000
    assert wrong == []


@pytest.mark.parametrize("symptom", RED_FLAGS, ids=lambda s: s.id)
def test_an_intensifier_keeps_a_red_flag(symptom: Symptom) -> None:
    for name in symptom.synonyms:
        for word in sorted(INTENSIFIERS):
            assert KB.match_symptom(f"{word} {name}").symptoms == (symptom.id,), (word, name)


# The words people use for red flags and common side effects (issue 21).
PEOPLES_WORDS = {
    "can't catch my breath": "breathing_difficulty",
    "Can’t catch my breath!": "breathing_difficulty",
    "I couldn't breathe": "breathing_difficulty",
    "breathing really slow": "breathing_difficulty",
    "slow breathing": "breathing_difficulty",
    "breathing slowly": "breathing_difficulty",
    "his breathing is very slow and shallow": "breathing_difficulty",
    "trouble breathing": "breathing_difficulty",
    "hard to breathe": "breathing_difficulty",
    "struggling to breathe": "breathing_difficulty",
    "not breathing properly": "breathing_difficulty",
    "his lips went blue": "breathing_difficulty",
    "fainted": "fainting",
    "I fainted at work": "fainting",
    "passed out": "fainting",
    "blacking out": "fainting",
    "eyes gone yellow": "jaundice",
    "my eyes are yellow": "jaundice",
    "yellow eyes": "jaundice",
    "the whites of my eyes have gone yellow": "jaundice",
    "skin turned yellow": "jaundice",
    "my skin is yellowish": "jaundice",
    "pee is dark": "dark_urine",
    "my urine is very dark": "dark_urine",
    "chest feels tight": "chest_pain",
    "pains in my chest": "chest_pain",
    "my chest hurts": "chest_pain",
    "fits": "seizure",
    "had a fit": "seizure",
    "shaking uncontrollably": "seizure",
    "can't stay awake": "extreme_drowsiness",
    "we couldn't wake him up": "extreme_drowsiness",
    "keep nodding off": "extreme_drowsiness",
    "I want to die": "suicidal_thoughts",
    "I don't want to live anymore": "suicidal_thoughts",
    "thinking about killing myself": "suicidal_thoughts",
    "threw up": "vomiting",
    "throwing up": "vomiting",
    "vomited twice": "vomiting",
    "heart racing": "fast_heartbeat",
    "my heart is racing": "fast_heartbeat",
    "hands shaking": "tremor",
    "feeling sick": "nausea",
    "constipated": "constipation",
    "can't sleep": "insomnia",
    "really sleepy": "extreme_drowsiness",  # as "very sleepy" in the vocabulary
    "a bit sleepy": "drowsiness",
    "my nose is running": "runny_nose",
    "the runs": "diarrhoea",
    "aching all over": "muscle_aches",
}


@pytest.mark.parametrize(("text", "sid"), PEOPLES_WORDS.items())
def test_peoples_words(text: str, sid: str) -> None:
    found = KB.match_symptom(text)
    assert found.symptoms == (sid,) and found.complete, found


@pytest.mark.parametrize(
    "text",
    [
        "breathing fine",
        "breathing normally",
        "grumbly toes",
        "sore throat",
        "rash",
        "all good",
        "feeling great",
        "sick",  # being sick (vomiting) or feeling sick (nausea): not guessed
        "eyes",
        "yellow",
        "dark",
        "chest",
        "pain",
        "running",
        "",
    ],
)
def test_text_that_names_no_symptom_is_not_recognized(text: str) -> None:
    found = KB.match_symptom(text)
    assert found.symptoms == () and not found.complete


@pytest.mark.parametrize(
    ("sid", "name"),
    [
        (s.id, name)
        for s in SYMPTOMS
        for name in s.synonyms
        if not {w.strip("'") for w in name.split()} & {"no", "not", "don't", "won't", "can't"}
    ],
)
def test_a_denied_symptom_is_not_reported(sid: str, name: str) -> None:
    for text in (f"no {name}", f"denies {name}", f"without {name}", f"No {name} today."):
        found = KB.match_symptom(text)
        assert found.symptoms == () and found.unplaced, (text, found)


@pytest.mark.parametrize(
    ("text", "sid"),
    [
        ("I didn't faint", None),
        ("never had a seizure", None),
        ("I don't want to die", None),
        ("not dizzy", None),
        ("no loss of appetite", None),
        ("no chest pain or tightness", None),
        ("no hot and cold", None),
        # A negation word that belongs to the symptom is no denial ...
        ("not breathing", "breathing_difficulty"),
        ("no appetite", "poor_appetite"),
        ("not sleeping", "insomnia"),
        ("I don't want to live", "suicidal_thoughts"),
        # ... and one not in front of the whole symptom is not read: the red flag stays.
        ("without warning I fainted", "fainting"),
        ("chest pain, not sure why", "chest_pain"),
    ],
)
def test_only_a_negation_in_front_of_the_whole_symptom_denies_it(
    text: str, sid: str | None
) -> None:
    assert KB.match_symptom(text).symptoms == (() if sid is None else (sid,))


def test_a_text_naming_two_symptoms_reports_both_red_flags_first() -> None:
    found = KB.match_symptom("headache and yellow eyes")
    assert found.symptoms == ("jaundice", "headache") and found.complete
    found = KB.match_symptom("chest pain and yellow eyes")
    assert set(found.symptoms) == {"chest_pain", "jaundice"} and found.complete
    assert KB.match_symptom("dizzy & sick to my stomach").symptoms == ("nausea", "dizziness")
    found = KB.match_symptom("dizzy; no chest pain")
    assert found.symptoms == ("dizziness",) and found.unplaced == ("no chest pain",)


@pytest.mark.parametrize(
    ("text", "sid", "unplaced"),
    [
        ("chest pain and rash", "chest_pain", "rash"),
        ("fainted and hit my head", "fainting", "hit head"),
        # A word of another symptom left over is not folded into the one found.
        ("yellow vomit", "vomiting", "yellow"),
        ("sleepy but easy to wake", "drowsiness", "easy wake"),
    ],
)
def test_what_is_found_is_kept_and_the_rest_is_left_to_a_person(
    text: str, sid: str, unplaced: str
) -> None:
    found = KB.match_symptom(text)
    assert found.symptoms == (sid,) and found.unplaced == (unplaced,) and not found.complete


def test_words_of_one_clause_are_not_joined_with_another() -> None:
    # "yellow" and "skin" are in different clauses: not jaundice.
    found = KB.match_symptom("yellow vomit and itchy skin")
    assert set(found.symptoms) == {"vomiting", "itching"}
    assert "jaundice" not in found.symptoms


def test_the_longer_name_wins_across_symptoms() -> None:
    assert KB.match_symptom("very sleepy").symptoms == ("extreme_drowsiness",)
    assert KB.match_symptom("cold sweats").symptoms == ("hot_cold_flushes",)
    assert KB.match_symptom("shaky").symptoms == ("tremor",)


def test_suggestions_never_decide() -> None:
    found = KB.match_symptom("jaundise")
    assert found.symptoms == () and "Yellow skin or eyes (jaundice)" in found.suggestions


def test_two_symptoms_sharing_a_name_or_its_words_do_not_load() -> None:
    with pytest.raises(ValueError, match="same words"):
        SymptomIndex({"a": ("Alpha", "pain in my chest"), "b": ("Beta", "chest pains")}, ())
    with pytest.raises(ValueError, match="names both"):
        SymptomIndex({"a": ("Alpha", "fits"), "b": ("Beta", "Fits")}, ())
    with pytest.raises(ValueError, match="no words"):
        SymptomIndex({"a": ("Alpha", "my")}, ())
    broken = dict(KB.symptoms)
    broken["dizziness"] = Symptom("dizziness", "Dizziness", False, ("breathing troubles",))
    with pytest.raises(KnowledgeError, match="symptoms.yaml"):
        _symptom_index(broken)


# --- the engine -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sid"),
    [(t, s) for t, s in PEOPLES_WORDS.items() if KB.symptoms[s].red_flag],
)
def test_a_red_flag_in_peoples_words_raises_its_urgent_guidance(text: str, sid: str) -> None:
    rule = next(r for r in KB.rules if r.kind == "symptom" and sid in r.trigger["symptoms"])
    found = urgent_findings([text], NOW)
    assert [f.code for f in found] == [rule.id]
    assert found[0].patient_message == rule.patient_message and found[0].triggers[0]["text"] == text
    result = screen(Snapshot(as_of=NOW, symptoms=(SymptomReport(text, NOW, 3),)))
    assert rule.id in {f.code for f in result.findings}
    assert result.not_recognized["symptoms"] == ()


def test_two_red_flags_in_one_report_both_raise_guidance() -> None:
    codes = {f.code for f in urgent_findings(["chest pain and my eyes have gone yellow"], NOW)}
    assert codes == {"red_flag.chest_pain", "red_flag.liver_injury"}


def test_a_denied_red_flag_raises_nothing_and_is_shown_as_not_recognized() -> None:
    assert urgent_findings(["no chest pain"], NOW) == ()
    result = screen(Snapshot(as_of=NOW, symptoms=(SymptomReport("no chest pain", NOW),)))
    assert [f.code for f in result.findings] == ["screening.not_recognized"]
    assert [n.text for n in result.not_recognized["symptoms"]] == ["no chest pain"]


def test_a_half_placed_report_is_screened_and_also_shown_as_not_recognized() -> None:
    result = screen(Snapshot(as_of=NOW, symptoms=(SymptomReport("chest pain and rash", NOW),)))
    codes = {f.code for f in result.findings}
    assert "red_flag.chest_pain" in codes and "screening.not_recognized" in codes
    assert [n.text for n in result.not_recognized["symptoms"]] == ["chest pain and rash"]
