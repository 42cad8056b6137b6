"""Text typed into any form: control characters are refused with the field's error, and
nothing is saved; any other Unicode is kept as typed. One rule (kratomwatch.domain.text),
applied by every form of the app (kratomwatch.clinic.text)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

import kratomwatch.clinic
from kratomwatch.clinic.models import (
    ClinicalNote,
    DeletionRequest,
    MedicationStatement,
    Product,
)
from kratomwatch.clinic.text import CleanText
from kratomwatch.domain.text import text_problem

from .conftest import Triangle


def test_every_form_of_the_app_applies_the_text_rule() -> None:
    found = []
    for module in pkgutil.walk_packages(kratomwatch.clinic.__path__, "kratomwatch.clinic."):
        if ".migrations" in module.name or ".management" in module.name:
            continue
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__.startswith("kratomwatch."):
                found.append(cls)
    assert len(found) >= 15
    assert [c.__name__ for c in found if not issubclass(c, CleanText)] == []


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_named(char: str) -> None:
    problem = text_problem(f"ab{char}c")
    assert problem is not None and f"U+{ord(char):04X}" in problem and "position 3" in problem


@pytest.mark.parametrize("text", ["", "tab\there", "lines\r\nand\n", "👍🏽 $x^2$ مرحبا 中文"])
def test_everything_else_is_text(text: str) -> None:
    assert text_problem(text) is None


# route name, kwargs, who, the fields posted (the text under test goes in the first), the
# records that must not grow, and the field's label that names the error
CASES: list[tuple[str, Callable[[Triangle], dict[str, Any]], str, dict[str, str], Any, str]] = [
    (
        "medication_add",
        lambda t: {"patient_uuid": t.patient.uuid},
        "clinician",
        {"name": "tramadol{}"},
        MedicationStatement,
        "Medication",
    ),
    (
        "medication_add",
        lambda t: {"patient_uuid": t.patient.uuid},
        "clinician",
        {"dose_text": "50 mg{}", "name": "tramadol"},
        MedicationStatement,
        "Dose",
    ),
    (
        "note_add",
        lambda t: {"patient_uuid": t.patient.uuid},
        "clinician",
        {"text": "Seen{}"},
        ClinicalNote,
        "New note",
    ),
    (
        "request_deletion",
        lambda t: {},
        "patient",
        {"reason": "please{}"},
        DeletionRequest,
        "Reason (optional)",
    ),
    (
        "product_add",
        lambda t: {},
        "patient",
        {"name": "Red{}", "form": "leaf_powder", "idempotency_key": "k1"},
        Product,
        "",
    ),
]


@pytest.mark.parametrize(
    "name, kwargs_for, who, data, model, label", CASES, ids=[f"{c[0]}-{c[5]}" for c in CASES]
)
@pytest.mark.parametrize("char", ["\x00", "\x1b"], ids=["nul", "escape"])
def test_a_control_character_is_refused_with_the_fields_error(
    client: Client,
    tri: Triangle,
    name: str,
    kwargs_for: Any,
    who: str,
    data: dict[str, str],
    model: Any,
    label: str,
    char: str,
) -> None:
    client.force_login(tri.users()[who])
    before = model.objects.count()
    posted = {k: v.format(char) for k, v in data.items()}
    response = client.post(reverse(name, kwargs=kwargs_for(tri)), posted, follow=True)
    assert response.status_code in (200, 400)
    page = response.content.decode()
    assert f"control character (U+{ord(char):04X})" in page
    if label:
        assert f"{label}: This text contains" in page
    assert model.objects.count() == before


def test_a_bulk_acknowledgement_reason_with_a_nul_is_refused(client: Client, tri: Triangle) -> None:
    tri.finding.severity = "low"
    tri.finding.save()
    client.force_login(tri.clinician)
    response = client.post(
        reverse("bulk_acknowledge"),
        {"finding": str(tri.finding.uuid), "reason": "seen\x00"},
        follow=True,
    )
    assert "Reason: This text contains an invisible control character (U+0000)" in (
        response.content.decode()
    )
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"


def test_a_checkin_note_with_a_nul_is_refused_and_the_rest_kept(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    before = tri.patient.checkins.count()
    response = client.post(reverse("checkin"), {"idempotency_key": "k9", "note": "slept badly\x00"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "control character (U+0000)" in page
    assert "slept badly" in page  # what was typed is shown again for correction
    assert tri.patient.checkins.count() == before


def test_other_unicode_is_saved_as_typed(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    name = "Tramadol 👍🏽 $x^2$ مرحبا"
    client.post(
        reverse("medication_add", kwargs={"patient_uuid": tri.patient.uuid}),
        {"name": name, "dose_text": "50 mg\r\ntwice"},
    )
    med = tri.patient.medications.get(name_entered=name)
    assert med.dose_text == "50 mg\r\ntwice"


def test_a_missing_field_is_named_once(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    url = reverse("medication_add", kwargs={"patient_uuid": tri.patient.uuid})
    page = client.post(url, {"name": "  "}, follow=True).content.decode()
    assert "Enter the medication name (up to 200 characters)." in page
    assert "Medication: Enter" not in page
    page = client.post(url, {"name": "x" * 201}, follow=True).content.decode()
    assert "Medication: Ensure this value has at most 200 characters" in page


@pytest.mark.parametrize("param", ["q", "condition", "form", "category"])
def test_a_panel_search_with_a_nul_is_refused_not_a_server_error(
    client: Client, tri: Triangle, param: str
) -> None:
    client.force_login(tri.clinician)
    response = client.get(reverse("patient_list"), {param: "Pa\x00ul"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The search was not applied." in page and "control character (U+0000)" in page
    assert "Paul" in page  # the whole panel, unfiltered


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069"])
def test_direction_overrides_are_refused(char: str) -> None:
    problem = text_problem(f"gm 01{char}")
    assert problem is not None and "direction" in problem and "position 6" in problem


@pytest.mark.parametrize("text", ["\ufeff", "\u200b \u200d", "\u2060"])
def test_a_required_answer_that_shows_nothing_is_missing(
    client: Client, tri: Triangle, text: str
) -> None:
    client.force_login(tri.clinician)
    url = reverse("note_add", kwargs={"patient_uuid": tri.patient.uuid})
    client.post(url, {"text": text})
    client.post(
        reverse("medication_add", kwargs={"patient_uuid": tri.patient.uuid}),
        {"name": text},
    )
    assert not ClinicalNote.objects.filter(patient=tri.patient).exists()
    assert not MedicationStatement.objects.filter(patient=tri.patient, name_entered=text).exists()
