"""The limits file: schema, cross-checks, configurability, and the generated docs table."""

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from kratomwatch.domain.doses import (
    ALLOWED_UNITS,
    DoseLimitsError,
    DoseRejected,
    Unit,
    check_dose,
    default_limits,
    load_dose_limits,
    render_limits_markdown,
)
from kratomwatch.domain.products import ProductForm, ProductSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "doses.md"
SHIPPED = (resources.files("kratomwatch") / "data" / "dose_limits.yaml").read_text("utf-8")


def test_shipped_limits_load_and_every_limit_is_explained():
    limits = default_limits()
    assert "NOT safety thresholds" in limits.disclaimer
    assert "NOT dosing advice" in limits.disclaimer
    assert len(limits.limits) > 40
    for limit in limits.limits.values():
        assert limit.value > 0
        assert len(limit.rationale) > 20, limit.id
        assert all(ref in limits.references for ref in limit.references)
    cited = {ref for limit in limits.limits.values() for ref in limit.references}
    assert cited == {"garciaromeu2020", "huestis2024", "smith2024", "brown2025"}


def test_every_form_has_a_maximum_for_each_kind_of_unit_it_accepts():
    limits = default_limits()
    for form in ProductForm:
        assert any(
            i.startswith(f"forms.{form.value}.") and i.endswith(".max") for i in limits.limits
        )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  topical:\n", "  topicals:\n", "topical"),
        ("references: [huestis2024]", "references: [nosuch2099]", "nosuch2099"),
        ("        value: 2000\n        unit: ml", "        value: -5\n        unit: ml", "value"),
        ("        value: 2000\n        unit: ml", "        value: 2000\n        unit: l", "unit"),
        ("schema_version: 1", "schema_version: 2", "schema_version"),
    ],
)
def test_malformed_limits_are_refused(old, new, message):
    assert old in SHIPPED
    with pytest.raises(DoseLimitsError, match=message):
        load_dose_limits(SHIPPED.replace(old, new, 1))


def test_a_form_must_define_limits_for_exactly_its_units():
    tea = "  tea_liquid:\n    volume:\n"
    assert tea in SHIPPED
    text = SHIPPED.replace(
        tea,
        "  tea_liquid:\n    mass:\n      max:\n        value: 5\n        unit: g\n"
        "        rationale: not a unit tea accepts\n    volume:\n",
    )
    with pytest.raises(DoseLimitsError, match="forms/tea_liquid"):
        load_dose_limits(text)
    without_count = SHIPPED.replace("  capsule:\n    count:\n", "  capsule:\n    counted:\n")
    with pytest.raises(DoseLimitsError, match="forms/capsule"):
        load_dose_limits(without_count)


def test_schema_measures_match_the_allowed_units():
    schema = json.loads(
        (resources.files("kratomwatch") / "data" / "schemas" / "dose_limits.schema.json").read_text(
            "utf-8"
        )
    )
    measure = {Unit.G: "mass", Unit.MG: "mass", Unit.CAPSULE: "count", Unit.TABLET: "count"}
    for form in ProductForm:
        wanted = {measure.get(unit, "volume") for unit in ALLOWED_UNITS[form]}
        entry = schema["properties"]["forms"]["properties"][form.value]
        assert set(entry["required"]) == set(entry["properties"]) == wanted, form
        used = {i.split(".")[2] for i in default_limits().limits if i.startswith(f"forms.{form}.")}
        assert used == wanted, form


def test_future_tolerance_is_configurable():
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    wider = load_dose_limits(
        SHIPPED.replace("  future_tolerance:\n    value: 5", "  future_tolerance:\n    value: 10")
    )
    kwargs = dict(
        amount="2",
        unit="g",
        taken_at=now + timedelta(minutes=8),
        product=ProductSpec(ProductForm.LEAF_POWDER),
        now=now,
    )
    assert check_dose(**kwargs, limits=wider).taken_at == now + timedelta(minutes=8)
    with pytest.raises(DoseRejected):
        check_dose(**kwargs)


def test_docs_carry_the_generated_limits_table():
    doc = DOC.read_text(encoding="utf-8")
    table = render_limits_markdown(default_limits())
    assert table in doc, "regenerate with: python -m kratomwatch.domain.doses"
    for limit_id in default_limits().limits:
        assert f"`{limit_id}`" in doc
