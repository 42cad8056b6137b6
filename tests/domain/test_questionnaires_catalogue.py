"""The shipped instrument files: ids, content, licences, references and documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kratomwatch.domain.questionnaires import (
    Instrument,
    UnknownInstrumentError,
    get_instrument,
    load_instruments,
)

SHIPPED = {
    "kw-daily-pain",
    "phq9",
    "phq2",
    "gad7",
    "gad2",
    "cows",
    "kw-withdrawal",
    "kw-use-criteria",
    "acr2016-fm",
}

PFIZER_NOTICE = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
    "with an educational grant from Pfizer Inc. No permission required to reproduce, "
    "translate, display or distribute."
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "instruments.md"


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Instrument]:
    return dict(load_instruments())


def test_exactly_the_expected_instruments_ship(catalogue: dict[str, Instrument]) -> None:
    shipped = {i.id for i in catalogue.values() if i.source.startswith("kratomwatch/data/")}
    assert shipped == SHIPPED


def test_load_is_cached() -> None:
    assert load_instruments() is load_instruments()


def test_unknown_instrument_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError) as info:
        get_instrument("bpi")
    assert isinstance(info.value, UnknownInstrumentError)
    assert "unknown instrument 'bpi'" in str(info.value)
    assert "phq9" in str(info.value)


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_every_instrument_has_licence_and_reference(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    assert instrument.licence.status.strip()
    assert instrument.licence.redistributable is True
    assert instrument.references
    for ref in instrument.references:
        assert ref.citation.strip()
        assert ref.pmid or ref.doi or ref.url
    assert instrument.version
    assert instrument.recall_period
    assert instrument.validation_note
    assert instrument.scoring.missing.note


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_every_instrument_has_a_docs_section(instrument_id: str) -> None:
    headings = [line for line in DOCS.read_text("utf-8").splitlines() if line.startswith("#")]
    assert any(f"`{instrument_id}`" in line for line in headings), instrument_id


@pytest.mark.parametrize(
    "name",
    [
        "BPI",
        "ODI",
        "PROMIS",
        "PEG",
        "SOWS",
        "DN4",
        "painDETECT",
        "FIQR",
        "LDQ",
        "Kratom Dependence Scale",
        "LANSS",
        "RMDQ",
    ],
)
def test_docs_explain_each_instrument_not_shipped(name: str) -> None:
    text = DOCS.read_text("utf-8")
    section = text.split("## Instruments we do not ship", 1)[1]
    assert re.search(rf"\b{re.escape(name)}\b", section), name


def test_docs_explain_clinic_instruments() -> None:
    text = DOCS.read_text("utf-8")
    assert "KRATOMWATCH_INSTRUMENT_DIRS" in text
    assert "extra_dirs" in text


@pytest.mark.parametrize(
    ("instrument_id", "pmid"),
    [
        ("kw-daily-pain", "18055266"),
        ("phq9", "11556941"),
        ("phq2", "14583691"),
        ("gad7", "16717171"),
        ("gad2", "17339617"),
        ("cows", "12924748"),
        ("acr2016-fm", "27916278"),
    ],
)
def test_primary_references(instrument_id: str, pmid: str) -> None:
    assert pmid in {ref.pmid for ref in get_instrument(instrument_id).references}


@pytest.mark.parametrize("instrument_id", ["phq9", "phq2", "gad7", "gad2"])
def test_pfizer_copyright_notice(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    assert instrument.licence.copyright == PFIZER_NOTICE
    assert instrument.wording == "original"


@pytest.mark.parametrize("instrument_id", ["kw-daily-pain", "kw-withdrawal", "kw-use-criteria"])
def test_own_words_instruments_say_they_are_not_validated(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    assert instrument.wording == "own_words"
    assert instrument.validated is False
    assert "not" in instrument.validation_note.lower()


def test_daily_pain_items_in_order() -> None:
    instrument = get_instrument("kw-daily-pain")
    assert instrument.item_ids == (
        "pain_now",
        "pain_average",
        "interference_activity",
        "interference_enjoyment",
        "sleep_quality",
    )
    for item in instrument.items:
        assert item.allowed == frozenset(range(11))
    assert instrument.item("sleep_quality").max_label == "Very well"
    assert instrument.completed_by == "patient"


def test_cows_allowed_values_per_item() -> None:
    cows = get_instrument("cows")
    expected = {
        "resting_pulse": {0, 1, 2, 4},
        "sweating": {0, 1, 2, 3, 4},
        "restlessness": {0, 1, 3, 5},
        "pupil_size": {0, 1, 2, 5},
        "bone_joint_aches": {0, 1, 2, 4},
        "runny_nose_tearing": {0, 1, 2, 4},
        "gi_upset": {0, 1, 2, 3, 5},
        "tremor": {0, 1, 2, 4},
        "yawning": {0, 1, 2, 4},
        "anxiety_irritability": {0, 1, 2, 4},
        "gooseflesh": {0, 3, 5},
    }
    assert {item.id: set(item.allowed) for item in cows.items} == expected
    assert cows.completed_by == "clinician"
    assert cows.total_range == (0, 48)
    assert "permissive" in cows.licence.status
    assert cows.licence.note and "uncertain" in cows.licence.note.lower()


def test_phq9_structure() -> None:
    phq9 = get_instrument("phq9")
    assert len(phq9.items) == 10
    difficulty = phq9.items[-1]
    assert difficulty.required is False and difficulty.scored is False
    assert len(phq9.scoring.total_items) == 9
    assert phq9.total_range == (0, 27)
    (rule,) = phq9.scoring.safety_rules
    assert (rule.item, rule.greater_than, rule.flag) == (phq9.items[8].id, 0, "suicidal_ideation")


def test_use_criteria_structure() -> None:
    checklist = get_instrument("kw-use-criteria")
    assert len(checklist.items) == 11
    assert all(item.allowed == frozenset({0, 1}) for item in checklist.items)
    (flag,) = checklist.scoring.context_flags
    assert flag.id == "under_medical_supervision"
    assert set(flag.exclude_items) == {"tolerance", "withdrawal"}


def test_withdrawal_checklist_has_no_bands() -> None:
    checklist = get_instrument("kw-withdrawal")
    assert 10 <= len(checklist.items) <= 12
    assert checklist.scoring.bands == ()
    assert checklist.scoring.band_rule is None
    assert all(item.allowed == frozenset({0, 1, 2, 3}) for item in checklist.items)


def test_acr2016_structure() -> None:
    fm = get_instrument("acr2016-fm")
    wpi = fm.subscale("wpi")
    assert len(wpi.items) == 19
    assert {fm.item(i).region for i in wpi.items} == {
        "left_upper",
        "right_upper",
        "left_lower",
        "right_lower",
        "axial",
    }
    regions = fm.subscale("regions")
    assert set(wpi.items) - set(regions.items) == {"jaw_left", "jaw_right", "chest", "abdomen"}
    assert len(fm.subscale("sss").items) == 6
    assert fm.total_range == (0, 31)


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_bands_are_contiguous_and_cover_the_range(instrument_id: str) -> None:
    instrument = get_instrument(instrument_id)
    bands = instrument.scoring.bands
    if not bands:
        return
    assert bands[0].min == instrument.total_range[0]
    assert bands[-1].max == instrument.total_range[1]
    for before, after in zip(bands, bands[1:], strict=False):
        assert after.min == before.max + 1
