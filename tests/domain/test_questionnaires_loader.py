"""Loading instrument files: schema checks, consistency checks and clinic directories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from kratomwatch.domain.questionnaires import (
    ENV_VAR,
    InstrumentDefinitionError,
    clear_cache,
    get_instrument,
    instrument_schema,
    load_instrument_file,
    load_instruments,
    parse_instrument_text,
    score,
)

CLINIC = """
schema_version: 1
id: clinic-sleep
version: "2025.1"
title: Clinic sleep scale
description: A clinic's own licensed scale (test copy).
completed_by: patient
recall_period: Last 7 nights
wording: original
validated: true
validation_note: Validated by its developers.
licence:
  status: Licensed to the clinic; not for redistribution
  redistributable: false
references:
  - {citation: "Developer. Sleep scale. 2020.", doi: 10.1000/example.123}
items:
  - {id: q1, text: Question one, range: {min: 0, max: 4}}
  - {id: q2, text: Question two, range: {min: 0, max: 4}}
scoring:
  method: sum
  missing: {policy: require_all, note: All items required.}
  bands:
    - {min: 0, max: 3, label: low}
    - {min: 4, max: 8, label: high}
"""


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    clear_cache()
    yield
    clear_cache()


def definition(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(CLINIC)
    raw.update(changes)
    return raw


def problems_for(raw: Any) -> str:
    with pytest.raises(InstrumentDefinitionError) as info:
        parse_instrument_text(yaml.safe_dump(raw), "test.yaml")
    return str(info.value)


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(instrument_schema())


def test_every_shipped_file_passes_the_schema_directly() -> None:
    folder = Path(__file__).resolve().parents[2] / "src" / "kratomwatch" / "data" / "instruments"
    schema = json.loads(
        (folder.parent / "schemas" / "instrument.schema.json").read_text(encoding="utf-8")
    )
    files = sorted(folder.glob("*.yaml"))
    assert len(files) == 9
    for file in files:
        jsonschema.validate(yaml.safe_load(file.read_text(encoding="utf-8")), schema)
        assert load_instrument_file(file).id == file.stem


def test_clinic_definition_loads() -> None:
    instrument = parse_instrument_text(CLINIC, "clinic.yaml")
    assert instrument.total_range == (0, 8)
    assert score(instrument, [2, 3]).band == "high"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (definition(licence=None), "licence"),
        (definition(references=[]), "references"),
        (definition(references=[{"citation": "No identifier"}]), "references/0"),
        (definition(completed_by="nurse"), "completed_by"),
        (definition(wording="verbatim"), "wording"),
        (definition(colour="blue"), "colour"),
        (definition(id="Has Spaces"), "id"),
        (definition(version=1), "version"),
    ],
)
def test_schema_violations_are_reported(raw: dict[str, Any], fragment: str) -> None:
    assert fragment in problems_for(raw)


def test_missing_required_field() -> None:
    raw = definition()
    del raw["recall_period"]
    assert "recall_period" in problems_for(raw)


def test_item_needs_options_or_range() -> None:
    raw = definition(items=[{"id": "q1", "text": "Question"}])
    assert "items/0" in problems_for(raw)


def test_band_gap_is_rejected() -> None:
    raw = definition()
    raw["scoring"] = dict(
        raw["scoring"],
        bands=[
            {"min": 0, "max": 2, "label": "low"},
            {"min": 4, "max": 8, "label": "high"},
        ],
    )
    assert "contiguous" in problems_for(raw)


def test_band_not_covering_range_is_rejected() -> None:
    raw = definition()
    raw["scoring"] = dict(raw["scoring"], bands=[{"min": 0, "max": 7, "label": "all"}])
    assert "total max is 8" in problems_for(raw)


def test_unknown_item_references_are_rejected() -> None:
    raw = definition()
    raw["scoring"] = dict(
        raw["scoring"],
        subscales=[{"id": "s", "label": "S", "method": "sum", "items": ["q1", "q9"]}],
        safety_flags=[{"item": "q7", "greater_than": 0, "flag": "x", "message": "m"}],
    )
    text = problems_for(raw)
    assert "'q9'" in text and "'q7'" in text


def test_duplicate_item_ids_and_option_values() -> None:
    raw = definition(
        items=[
            {
                "id": "q1",
                "text": "A",
                "options": [{"value": 0, "label": "a"}, {"value": 0, "label": "b"}],
            },
            {"id": "q1", "text": "B", "range": {"min": 0, "max": 4}},
        ]
    )
    text = problems_for(raw)
    assert "duplicate item ids" in text and "duplicate option values" in text


def test_optional_item_cannot_count_in_the_total() -> None:
    raw = definition()
    raw["items"][1]["required"] = False
    assert "cannot be optional" in problems_for(raw)
    raw["items"][1]["scored"] = False
    raw["scoring"]["bands"] = [{"min": 0, "max": 4, "label": "all"}]
    assert parse_instrument_text(yaml.safe_dump(raw), "ok.yaml").total_range == (0, 4)


def test_prorate_needs_a_limit_and_a_source() -> None:
    raw = definition()
    raw["scoring"] = dict(raw["scoring"], missing={"policy": "prorate", "note": "n"})
    assert "max_missing" in problems_for(raw)


def test_invalid_yaml_is_reported() -> None:
    with pytest.raises(InstrumentDefinitionError, match="not valid YAML"):
        parse_instrument_text("id: [unclosed", "broken.yaml")


def test_extra_directory(tmp_path: Path) -> None:
    (tmp_path / "clinic-sleep.yaml").write_text(CLINIC, encoding="utf-8")
    catalogue = load_instruments(extra_dirs=[tmp_path])
    assert "clinic-sleep" in catalogue and "phq9" in catalogue
    assert get_instrument("clinic-sleep", extra_dirs=[tmp_path]).licence.redistributable is False
    assert "clinic-sleep" not in load_instruments()


def test_extra_directory_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "clinic-sleep.yaml").write_text(CLINIC, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert get_instrument("clinic-sleep").version == "2025.1"


def test_clinic_file_cannot_redefine_a_shipped_id(tmp_path: Path) -> None:
    (tmp_path / "phq9.yaml").write_text(CLINIC.replace("clinic-sleep", "phq9"), encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match="already defined"):
        load_instruments(extra_dirs=[tmp_path])


def test_invalid_clinic_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CLINIC.replace("redistributable: false", ""), encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError) as info:
        load_instruments(extra_dirs=[tmp_path])
    assert str(bad) in str(info.value)
    assert "redistributable" in str(info.value)


def test_missing_extra_directory(tmp_path: Path) -> None:
    with pytest.raises(InstrumentDefinitionError, match="not a directory"):
        load_instruments(extra_dirs=[tmp_path / "nowhere"])


def test_domain_package_does_not_import_django() -> None:
    code = (
        "import sys, kratomwatch.domain.questionnaires as q; q.load_instruments(); "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
