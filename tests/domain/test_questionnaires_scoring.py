"""Scoring: hand-computed examples, every band edge, missing items and invalid input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kratomwatch.domain.questionnaires import (
    Instrument,
    ScoringError,
    get_instrument,
    load_instruments,
    parse_instrument_text,
    score,
)


def answers_for_total(instrument: Instrument, target: int) -> list[int | None]:
    """Some valid answer vector whose scored items sum to ``target`` (dynamic programming)."""
    total_ids = set(instrument.scoring.total_items)
    reachable: list[dict[int, list[int | None]]] = [{0: []}]
    for item in instrument.items:
        nxt: dict[int, list[int | None]] = {}
        values = sorted(item.allowed) if item.id in total_ids else [item.min_value]
        for subtotal, path in reachable[-1].items():
            for value in values:
                nxt.setdefault(subtotal + (value if item.id in total_ids else 0), path + [value])
        reachable.append(nxt)
    return reachable[-1][target]


def errors_of(instrument_id: str, answers: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(ScoringError) as info:
        score(get_instrument(instrument_id), answers, **kwargs)
    assert info.value.instrument_id == instrument_id
    return info.value.errors


# --- hand-computed examples -------------------------------------------------------------


def test_phq9_example_with_safety_flag() -> None:
    result = score(get_instrument("phq9"), [1, 2, 0, 1, 3, 0, 1, 0, 1])
    assert result.total == 9
    assert isinstance(result.total, int)
    assert result.band == "mild"
    assert result.flags == ["suicidal_ideation"]
    assert result.instrument == "phq9" and result.version == "1.0"


def test_phq9_item9_zero_raises_no_flag_and_difficulty_is_unscored() -> None:
    result = score(get_instrument("phq9"), [3, 3, 3, 3, 3, 3, 3, 3, 0, 3])
    assert result.total == 24
    assert result.band == "severe"
    assert result.flags == []
    assert result.answers["difficulty"] == 3


def test_phq9_item9_flag_even_when_total_is_minimal() -> None:
    result = score(get_instrument("phq9"), [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert (result.total, result.band, result.flags) == (1, "minimal", ["suicidal_ideation"])


def test_phq9_by_mapping() -> None:
    phq9 = get_instrument("phq9")
    answers = dict(zip(phq9.item_ids[:9], [2, 2, 2, 2, 2, 2, 2, 2, 0], strict=True))
    result = score(phq9, answers)
    assert (result.total, result.band) == (16, "moderately severe")


def test_phq2_and_gad2_screens() -> None:
    assert score(get_instrument("phq2"), [1, 2]).band == "positive screen"
    assert score(get_instrument("phq2"), [1, 1]).band == "negative screen"
    assert score(get_instrument("gad2"), [2, 0]).band == "negative screen"
    assert score(get_instrument("gad2"), [0, 3]).band == "positive screen"


def test_gad7_example() -> None:
    result = score(get_instrument("gad7"), [2, 2, 1, 1, 0, 3, 1])
    assert (result.total, result.band, result.flags) == (10, "moderate", [])


def test_cows_example() -> None:
    # pulse 101-120 (2), chills (1), frequent shifting (3), pupils larger (1), severe aches (2),
    # stuffy nose (1), nausea (2), felt tremor (1), yawning once (1), obviously anxious (2),
    # piloerection felt (3) = 19
    result = score(get_instrument("cows"), [2, 1, 3, 1, 2, 1, 2, 1, 1, 2, 3])
    assert (result.total, result.band) == (19, "moderate")


def test_cows_maximum() -> None:
    result = score(get_instrument("cows"), [4, 4, 5, 5, 4, 4, 5, 4, 4, 4, 5])
    assert (result.total, result.band) == (48, "severe")


def test_daily_pain_example() -> None:
    result = score(get_instrument("kw-daily-pain"), [6, 7, 5, 4, 3])
    assert result.total == Decimal("6.5")
    assert result.subscales == {
        "pain": Decimal("6.5"),
        "interference": Decimal("4.5"),
        "sleep": 3,
    }
    assert result.band is None
    assert result.to_dict()["total"] == 6.5


def test_daily_pain_by_mapping_in_any_key_order() -> None:
    result = score(
        get_instrument("kw-daily-pain"),
        {
            "sleep_quality": 10,
            "interference_enjoyment": 0,
            "interference_activity": 1,
            "pain_average": 3,
            "pain_now": 2,
        },
    )
    assert result.subscales == {"pain": Decimal("2.5"), "interference": Decimal("0.5"), "sleep": 10}


def test_withdrawal_checklist_example() -> None:
    result = score(get_instrument("kw-withdrawal"), [3, 2, 2, 1, 1, 0, 2, 1, 3, 1, 2, 0])
    assert (result.total, result.band, result.flags) == (18, None, [])


def test_use_criteria_counts_domains() -> None:
    checklist = get_instrument("kw-use-criteria")
    result = score(checklist, [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    assert (result.total, result.band) == (4, "moderate")


def test_use_criteria_medical_supervision_ignores_tolerance_and_withdrawal() -> None:
    checklist = get_instrument("kw-use-criteria")
    answers = [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    result = score(checklist, answers, context={"under_medical_supervision": True})
    assert (result.total, result.band) == (2, "mild")
    assert result.excluded_items == ("tolerance", "withdrawal")
    assert result.context == {"under_medical_supervision": True}
    off = score(checklist, answers, context={"under_medical_supervision": False})
    assert off.total == 4


def test_use_criteria_supervision_allows_tolerance_and_withdrawal_unanswered() -> None:
    checklist = get_instrument("kw-use-criteria")
    answers = [1, 0, 0, 1, 0, 0, 0, 0, 0, None, None]
    result = score(checklist, answers, context={"under_medical_supervision": True})
    assert (result.total, result.band) == (2, "mild")
    errors = errors_of("kw-use-criteria", answers)
    assert {item for item, _ in errors} == {"tolerance", "withdrawal"}


def test_use_criteria_tolerance_and_withdrawal_alone_under_supervision_is_none() -> None:
    checklist = get_instrument("kw-use-criteria")
    answers = [0] * 9 + [1, 1]
    assert score(checklist, answers).band == "mild"
    supervised = score(checklist, answers, context={"under_medical_supervision": True})
    assert (supervised.total, supervised.band) == (0, "none")


def test_unknown_or_malformed_context_is_rejected() -> None:
    errors = errors_of("kw-use-criteria", [0] * 11, context={"supervised": True})
    assert errors[0][0] == "context" and "supervised" in errors[0][1]
    errors = errors_of("kw-use-criteria", [0] * 11, context={"under_medical_supervision": "yes"})
    assert errors[0][0] == "context"
    errors = errors_of("phq9", [0] * 9, context={"under_medical_supervision": True})
    assert errors[0][0] == "context"


# --- ACR 2016 fibromyalgia -------------------------------------------------------------


def fm_answers(
    painful: set[str], fatigue: int, unrefreshed: int, cognitive: int, somatic: int, months: int
) -> dict[str, int]:
    fm = get_instrument("acr2016-fm")
    answers = {item_id: int(item_id in painful) for item_id in fm.subscale("wpi").items}
    answers.update(fatigue=fatigue, waking_unrefreshed=unrefreshed, cognitive_symptoms=cognitive)
    for position, item_id in enumerate(("headaches", "lower_abdominal_pain", "depression")):
        answers[item_id] = int(position < somatic)
    answers["symptoms_3_months"] = months
    return answers


FOUR_REGIONS_7_AREAS = {
    "shoulder_girdle_left",
    "upper_arm_left",
    "shoulder_girdle_right",
    "hip_left",
    "upper_leg_left",
    "neck",
    "lower_back",
}


def test_acr_criteria_met_wpi7_sss5() -> None:
    result = score(get_instrument("acr2016-fm"), fm_answers(FOUR_REGIONS_7_AREAS, 2, 2, 1, 0, 1))
    assert result.subscales == {"wpi": 7, "sss": 5, "regions": 4}
    assert result.total == 12
    assert result.band == "criteria met"


def test_acr_wpi7_sss4_not_met() -> None:
    result = score(get_instrument("acr2016-fm"), fm_answers(FOUR_REGIONS_7_AREAS, 2, 1, 1, 0, 1))
    assert (result.subscales["sss"], result.band) == (4, "criteria not met")


def test_acr_wpi4_needs_sss9() -> None:
    painful = {"shoulder_girdle_left", "shoulder_girdle_right", "hip_left", "neck"}
    fm = get_instrument("acr2016-fm")
    met = score(fm, fm_answers(painful, 3, 3, 1, 2, 1))
    assert met.subscales == {"wpi": 4, "sss": 9, "regions": 4}
    assert met.band == "criteria met"
    not_met = score(fm, fm_answers(painful, 3, 3, 1, 1, 1))
    assert (not_met.subscales["sss"], not_met.band) == (8, "criteria not met")


def test_acr_wpi6_sss8_not_met_and_wpi3_never_met() -> None:
    fm = get_instrument("acr2016-fm")
    six = {
        "shoulder_girdle_left",
        "shoulder_girdle_right",
        "hip_left",
        "hip_right",
        "neck",
        "chest",
    }
    result = score(fm, fm_answers(six, 3, 3, 2, 0, 1))
    assert (result.subscales["wpi"], result.subscales["sss"], result.band) == (
        6,
        8,
        "criteria not met",
    )
    three = {"shoulder_girdle_left", "hip_right", "neck"}
    result = score(fm, fm_answers(three, 3, 3, 3, 3, 1))
    assert (result.subscales["sss"], result.band) == (12, "criteria not met")


def test_acr_needs_four_regions_and_jaw_chest_abdomen_do_not_count() -> None:
    fm = get_instrument("acr2016-fm")
    painful = {
        "jaw_left",
        "jaw_right",
        "chest",
        "abdomen",
        "shoulder_girdle_left",
        "upper_arm_left",
        "hip_left",
        "upper_leg_left",
        "neck",
    }
    result = score(fm, fm_answers(painful, 3, 3, 3, 3, 1))
    assert result.subscales == {"wpi": 9, "sss": 12, "regions": 3}
    assert result.band == "criteria not met"
    result = score(fm, fm_answers(painful | {"lower_leg_right"}, 3, 3, 3, 3, 1))
    assert result.subscales["regions"] == 4
    assert result.band == "criteria met"


def test_acr_needs_three_months() -> None:
    result = score(get_instrument("acr2016-fm"), fm_answers(FOUR_REGIONS_7_AREAS, 3, 3, 3, 3, 0))
    assert result.band == "criteria not met"
    assert result.total == 19


def test_acr_duration_question_is_required() -> None:
    answers: dict[str, int | None] = dict(fm_answers(FOUR_REGIONS_7_AREAS, 1, 1, 1, 1, 1))
    answers["symptoms_3_months"] = None
    errors = errors_of("acr2016-fm", answers)
    assert errors == [("symptoms_3_months", "required item is missing")]


# --- band edges ----------------------------------------------------------------------------

EDGES = [
    ("phq9", 4, "minimal"),
    ("phq9", 5, "mild"),
    ("phq9", 9, "mild"),
    ("phq9", 10, "moderate"),
    ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately severe"),
    ("phq9", 19, "moderately severe"),
    ("phq9", 20, "severe"),
    ("phq9", 0, "minimal"),
    ("phq9", 27, "severe"),
    ("phq2", 2, "negative screen"),
    ("phq2", 3, "positive screen"),
    ("gad2", 2, "negative screen"),
    ("gad2", 3, "positive screen"),
    ("gad7", 4, "minimal"),
    ("gad7", 5, "mild"),
    ("gad7", 9, "mild"),
    ("gad7", 10, "moderate"),
    ("gad7", 14, "moderate"),
    ("gad7", 15, "severe"),
    ("gad7", 21, "severe"),
    ("cows", 0, "no active withdrawal"),
    ("cows", 4, "no active withdrawal"),
    ("cows", 5, "mild"),
    ("cows", 12, "mild"),
    ("cows", 13, "moderate"),
    ("cows", 24, "moderate"),
    ("cows", 25, "moderately severe"),
    ("cows", 36, "moderately severe"),
    ("cows", 37, "severe"),
    ("cows", 48, "severe"),
    ("kw-use-criteria", 1, "none"),
    ("kw-use-criteria", 2, "mild"),
    ("kw-use-criteria", 3, "mild"),
    ("kw-use-criteria", 4, "moderate"),
    ("kw-use-criteria", 5, "moderate"),
    ("kw-use-criteria", 6, "severe"),
    ("kw-use-criteria", 11, "severe"),
]


@pytest.mark.parametrize(("instrument_id", "total", "label"), EDGES)
def test_band_edges(instrument_id: str, total: int, label: str) -> None:
    instrument = get_instrument(instrument_id)
    answers = answers_for_total(instrument, total)
    result = score(instrument, answers)
    assert result.total == total
    assert result.band == label


@pytest.mark.parametrize(
    "instrument_id", [i for i in sorted(load_instruments()) if load_instruments()[i].scoring.bands]
)
def test_every_possible_total_has_exactly_one_band(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    low, high = instrument.total_range
    for total in range(int(low), int(high) + 1):
        labels = [band.label for band in instrument.scoring.bands if band.contains(total)]
        assert len(labels) == 1, (total, labels)


# --- invalid input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "value", "fragment"),
    [
        (0, 3, "not an allowed value"),  # resting pulse allows 0/1/2/4
        (2, 2, "not an allowed value"),  # restlessness allows 0/1/3/5
        (3, 4, "not an allowed value"),  # pupil size allows 0/1/2/5
        (6, 4, "not an allowed value"),  # GI upset allows 0/1/2/3/5
        (10, 1, "not an allowed value"),  # gooseflesh allows 0/3/5
        (10, 4, "not an allowed value"),
        (1, 5, "not an allowed value"),  # sweating allows 0-4
        (0, -1, "not an allowed value"),
    ],
)
def test_cows_rejects_values_outside_each_items_set(
    position: int, value: int, fragment: str
) -> None:
    answers: list[Any] = [0] * 11
    answers[position] = value
    errors = errors_of("cows", answers)
    assert len(errors) == 1
    item_id, message = errors[0]
    assert item_id == get_instrument("cows").item_ids[position]
    assert fragment in message


def test_all_item_errors_reported_together() -> None:
    errors = errors_of("cows", [3, 0, 2, 0, 0, 0, 0, 0, 0, 0, True])
    assert [item for item, _ in errors] == ["resting_pulse", "restlessness", "gooseflesh"]


@pytest.mark.parametrize("value", [11, -1, 100])
def test_daily_pain_out_of_range(value: int) -> None:
    errors = errors_of("kw-daily-pain", [value, 5, 5, 5, 5])
    assert errors == [("pain_now", f"{value} is out of range 0-10")]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (True, "boolean"),
        (False, "boolean"),
        (float("nan"), "NaN"),
        (Decimal("NaN"), "NaN"),
        (1.0, "float"),
        (2.5, "float"),
        ("1", "str"),
        (Decimal("1"), "Decimal"),
        ([1], "list"),
    ],
)
def test_wrong_types_are_rejected(value: Any, fragment: str) -> None:
    errors = errors_of("phq9", [0, 0, value, 0, 0, 0, 0, 0, 0])
    assert len(errors) == 1
    assert errors[0][0] == "sleep_trouble"
    assert "must be an integer" in errors[0][1] and fragment in errors[0][1]


@pytest.mark.parametrize("count", [0, 8, 11])
def test_phq9_wrong_count(count: int) -> None:
    errors = errors_of("phq9", [0] * count)
    assert errors == [("answers", f"expected 9-10 answers, got {count}")]


@pytest.mark.parametrize("count", [10, 12])
def test_cows_wrong_count(count: int) -> None:
    assert errors_of("cows", [0] * count) == [("answers", f"expected 11 answers, got {count}")]


@pytest.mark.parametrize("answers", ["012345678", 12345, None, b"000000000"])
def test_answers_must_be_a_sequence_or_mapping(answers: Any) -> None:
    errors = errors_of("phq9", answers)
    assert errors[0][0] == "answers"


def test_unknown_mapping_key_is_rejected() -> None:
    phq2 = get_instrument("phq2")
    errors = errors_of("phq2", {"little_interest": 1, "feeling_down": 1, "item_3": 0})
    assert errors == [("item_3", "not an item of this instrument")]
    assert phq2.id == "phq2"


# --- missing items ---------------------------------------------------------------------


def test_missing_phq9_item_is_never_zero() -> None:
    errors = errors_of("phq9", [1, 1, None, 1, 1, 1, 1, 1, 1])
    assert errors == [("sleep_trouble", "required item is missing")]


def test_missing_mapping_keys_are_missing_items() -> None:
    errors = errors_of("gad2", {"nervous": 2})
    assert errors == [("cannot_stop_worrying", "required item is missing")]


@pytest.mark.parametrize(
    "instrument_id", ["kw-daily-pain", "gad7", "cows", "kw-withdrawal", "kw-use-criteria"]
)
def test_require_all_instruments_reject_any_missing_item(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    answers: list[Any] = answers_for_total(instrument, 0)
    first_scored = instrument.scoring.total_items[0]
    answers[instrument.item_ids.index(first_scored)] = None
    errors = errors_of(instrument_id, answers)
    assert errors == [(first_scored, "required item is missing")]


PRORATED = """
schema_version: 1
id: clinic-prorated
version: "2024.1"
title: Clinic test scale
description: Five items, prorated when one is missing.
completed_by: patient
recall_period: Last week
wording: own_words
validated: false
validation_note: A test instrument.
licence: {status: Clinic's own, redistributable: false}
references: [{citation: Test, url: "https://example.org/scale"}]
items:
  - {id: a, text: A, range: {min: 0, max: 3}}
  - {id: b, text: B, range: {min: 0, max: 3}}
  - {id: c, text: C, range: {min: 0, max: 3}}
  - {id: d, text: D, range: {min: 0, max: 3}}
  - {id: e, text: E, range: {min: 0, max: 3}}
scoring:
  method: sum
  missing:
    policy: prorate
    max_missing: 1
    source: test convention
    note: One item may be missing; the sum is scaled by 5/4 and rounded half-up.
  safety_flags:
    - {item: e, greater_than: 2, flag: test_flag, message: Item e is 3.}
"""


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ([1, 0, 0, 0, None], 1),  # 1 * 5/4 = 1.25 -> 1
        ([1, 1, 0, 0, None], 3),  # 2 * 5/4 = 2.5 -> 3 (half-up, not half-even)
        ([3, 3, 3, None, 3], 15),  # 12 * 5/4 = 15
        ([2, 2, 2, 2, 2], 10),
    ],
)
def test_prorating_rule(answers: list[int | None], total: int) -> None:
    instrument = parse_instrument_text(PRORATED, "test")
    result = score(instrument, answers)
    assert result.total == total
    assert result.prorated is (None in answers)


def test_prorating_limit_and_unanswered_safety_item() -> None:
    instrument = parse_instrument_text(PRORATED, "test")
    result = score(instrument, [1, 1, 1, 1, None])
    assert result.flags == ["test_flag_not_assessed"]
    with pytest.raises(ScoringError) as info:
        score(instrument, [1, None, 1, None, 1])
    assert [item for item, _ in info.value.errors] == ["b", "d"]
    assert "at most 1" in info.value.errors[0][1]


def test_mean_rounding_is_half_up() -> None:
    text = PRORATED.replace("method: sum", "method: mean\n  precision: 1").replace(
        "id: clinic-prorated", "id: clinic-mean"
    )
    instrument = parse_instrument_text(text, "test")
    assert score(instrument, [0, 0, 0, 1, None]).total == Decimal("0.3")  # 0.25 -> 0.3
    assert score(instrument, [1, 1, 1, 0, 0]).total == Decimal("0.6")
    assert score(instrument, [1, 1, 2, None, 2]).total == Decimal("1.5")


# --- property: sum-scored totals are the sum of the answers ------------------------------

SUM_SCORED = sorted(i for i, inst in load_instruments().items() if inst.scoring.method == "sum")


@st.composite
def valid_answers(draw: st.DrawFn, instrument_id: str) -> list[int | None]:
    instrument = get_instrument(instrument_id)
    answers: list[int | None] = []
    for item in instrument.items:
        choices = st.sampled_from(sorted(item.allowed))
        if not item.required:
            answers.append(draw(st.one_of(st.none(), choices)))
        else:
            answers.append(draw(choices))
    return answers


@pytest.mark.parametrize("instrument_id", SUM_SCORED)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_sum_total_equals_sum_of_answers(instrument_id: str, data: st.DataObject) -> None:
    instrument = get_instrument(instrument_id)
    answers = data.draw(valid_answers(instrument_id))
    result = score(instrument, answers)
    by_id = dict(zip(instrument.item_ids, answers, strict=True))
    assert result.total == sum(by_id[i] or 0 for i in instrument.scoring.total_items)
    assert isinstance(result.total, int)
    low, high = instrument.total_range
    assert low <= result.total <= high
