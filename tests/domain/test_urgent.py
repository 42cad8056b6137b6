"""Urgent guidance for what is reported now, from the same rules as the full screening."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kratomwatch.domain.questionnaires import get_instrument, load_instruments, urgent_symptoms
from kratomwatch.domain.safety import (
    Snapshot,
    SymptomReport,
    load_knowledge,
    screen,
    urgent_findings,
)

NOW = datetime(2026, 12, 7, 6, 12, tzinfo=UTC)
KB = load_knowledge()
RED_FLAGS = [s for s in KB.symptoms.values() if s.red_flag]


@pytest.mark.parametrize("symptom", RED_FLAGS, ids=lambda s: s.id)
def test_each_red_flag_gives_the_words_the_full_screening_stores(symptom: object) -> None:
    found = urgent_findings([symptom.id], NOW)  # type: ignore[attr-defined]
    assert found and all(f.category == "red_flag" and f.patient_message for f in found)
    full = screen(Snapshot(as_of=NOW, symptoms=(SymptomReport(symptom.label, NOW, 3),)))  # type: ignore[attr-defined]
    assert {f.code: f.patient_message for f in full.findings if f.category == "red_flag"} == {
        f.code: f.patient_message for f in found
    }


def test_words_people_use_are_recognized_and_other_symptoms_are_not_urgent() -> None:
    assert [f.code for f in urgent_findings(["passed out"], NOW)] == ["red_flag.fainting"]
    assert urgent_findings(["constipation", "headache", "no such thing"], NOW) == ()
    assert urgent_findings([], NOW) == ()


def test_a_phq9_item_9_answer_reports_thoughts_of_self_harm_on_its_own() -> None:
    phq9 = get_instrument("phq9")
    assert urgent_symptoms(phq9, {"self_harm_thoughts": 1}) == ["suicidal_thoughts"]
    for value in (0, None, 4, -1, "2", True):
        assert urgent_symptoms(phq9, {"self_harm_thoughts": value}) == []
    assert urgent_symptoms(phq9, {}) == []


def test_every_symptom_an_instrument_reports_is_a_red_flag_of_the_knowledge_base() -> None:
    named = [
        (instrument.id, rule.symptom)
        for instrument in load_instruments().values()
        for rule in instrument.scoring.safety_rules
        if rule.symptom is not None
    ]
    assert named  # PHQ-9 item 9 at least
    for instrument_id, symptom in named:
        assert symptom in KB.symptoms and KB.symptoms[symptom].red_flag, (instrument_id, symptom)
