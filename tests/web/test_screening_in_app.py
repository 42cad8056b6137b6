"""The app screens a patient's record and shows findings to the right people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions import screening as actions
from kratomwatch.clinic.actions.screening import do_screen_patient
from kratomwatch.clinic.models import (
    Finding,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    Product,
    SymptomReport,
)

from .conftest import Triangle


def test_a_benzodiazepine_on_the_list_becomes_a_referenced_finding(
    tri: Triangle, client: Client
) -> None:
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Xanax 0.5 mg")
    do_screen_patient(tri.patient.pk)
    finding = Finding.objects.get(
        patient=tri.patient, code="interaction.benzodiazepine", fingerprint__regex=r"^[0-9a-f]{32}$"
    )
    assert finding.severity == "high" and finding.status == "open" and finding.active
    assert "Xanax 0.5 mg" in finding.rationale
    assert finding.evidence_level
    assert all(ref.get("citation") and ref.get("url") for ref in finding.references)
    client.force_login(tri.clinician)
    url = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    html = client.get(f"{url}?tab=findings")
    assert "Kratom with a benzodiazepine" in html.content.decode()
    inbox = client.get(reverse("findings_inbox")).content.decode()
    assert "Kratom with a benzodiazepine" in inbox


def test_rescreening_does_not_duplicate_and_removal_makes_it_inactive(tri: Triangle) -> None:
    med = MedicationStatement.objects.create(patient=tri.patient, name_entered="alprazolam")
    do_screen_patient(tri.patient.pk)
    do_screen_patient(tri.patient.pk)
    rows = Finding.objects.filter(patient=tri.patient, code="interaction.benzodiazepine").exclude(
        pk=tri.finding.pk
    )
    assert rows.count() == 1
    med.stopped_on = timezone.localdate() - timedelta(days=1)
    med.save()
    do_screen_patient(tri.patient.pk)
    assert rows.get().active is False and rows.get().status == "open"


def test_a_red_flag_symptom_tells_the_patient_to_seek_urgent_care(
    tri: Triangle, client: Client
) -> None:
    SymptomReport.objects.create(
        patient=tri.patient, term="had a fit", severity=3, reported_at=timezone.now()
    )
    do_screen_patient(tri.patient.pk)
    finding = Finding.objects.get(patient=tri.patient, category="red_flag")
    assert finding.severity == "high"
    client.force_login(tri.patient.user)
    page = client.get(reverse("patient_home")).content.decode()
    assert finding.patient_message.split(".")[0] in page
    assert "emergency" in finding.patient_message.lower()


def test_unrecognized_medications_are_shown_not_ignored(tri: Triangle) -> None:
    MedicationStatement.objects.create(patient=tri.patient, name_entered="Zzqxium 5 mg")
    do_screen_patient(tri.patient.pk)
    finding = Finding.objects.get(patient=tri.patient, code="screening.not_recognized")
    assert "Zzqxium 5 mg" in finding.rationale


def test_a_screening_failure_is_itself_a_finding(
    tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(actions, "patient_snapshot", broken)
    do_screen_patient(tri.patient.pk)
    finding = Finding.objects.get(patient=tri.patient, code="screening.failed")
    assert finding.severity == "high" and "disk on fire" in finding.rationale


def test_conditions_are_screened(tri: Triangle) -> None:
    PatientCondition.objects.create(patient=tri.patient, code="pregnancy")
    do_screen_patient(tri.patient.pk)
    assert Finding.objects.filter(
        patient=tri.patient, category="condition", severity="high"
    ).exists()


def test_acknowledge_then_resolve_records_who_and_why(tri: Triangle, client: Client) -> None:
    client.force_login(tri.clinician)
    url = reverse(
        "finding_action",
        kwargs={"patient_uuid": tri.patient.uuid, "finding_uuid": tri.finding.uuid},
    )
    assert client.post(url, {"action": "acknowledge", "reason": ""}).status_code == 302
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"  # a reason is required
    client.post(url, {"action": "acknowledge", "reason": "Discussed at visit"})
    tri.finding.refresh_from_db()
    assert tri.finding.status == "acknowledged" and tri.finding.acknowledged_by == tri.clinician
    client.post(url, {"action": "resolve", "reason": "Alprazolam stopped"})
    tri.finding.refresh_from_db()
    assert tri.finding.status == "resolved" and tri.finding.resolved_reason == "Alprazolam stopped"
    detail = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    page = client.get(f"{detail}?tab=findings")
    assert "Alprazolam stopped" not in page.content.decode()  # resolved ones leave the list
    response = client.post(url, {"action": "resolve", "reason": "again"}, follow=True)
    assert "already resolved" in response.content.decode()


def test_the_evidence_pages_show_statements_and_references(client: Client, db: None) -> None:
    html = client.get(reverse("evidence")).content.decode()
    assert "Evidence library" in html and "pubmed.ncbi.nlm.nih.gov" in html
    claims = client.get(reverse("evidence_claims")).content.decode()
    assert "not addictive" in claims.lower()
    rules = client.get(reverse("evidence_rules")).content.decode()
    assert "interaction.benzodiazepine" in rules


def test_a_note_is_shown_beside_what_it_concerns_and_is_not_a_finding(
    tri: Triangle, client: Client
) -> None:
    MedicationStatement.objects.create(patient=tri.patient, name_entered="nortriptyline 25 mg")
    Product.objects.create(patient=tri.patient, name="Green Malay powder", form="leaf_powder")
    do_screen_patient(tri.patient.pk)
    codes = set(Finding.objects.filter(patient=tri.patient).values_list("code", flat=True))
    assert not codes & {"interaction.cyp2d6_substrate_nti", "product.potency_unknown"}
    client.force_login(tri.clinician)
    url = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    html = client.get(f"{url}?tab=plan").content.decode()
    medications = html[html.index('id="medications"') : html.index('id="pgx"')]
    assert "nortriptyline 25 mg" in medications and "CYP2D6" in medications
    products = html[html.index("<h2>Products</h2>") :]
    products = products[: products.index("</section>")]
    assert "Green Malay powder" in products and "Product strength unknown" in products
    inbox = client.get(reverse("findings_inbox")).content.decode()
    assert "CYP2D6" not in inbox and "strength unknown" not in inbox
    # The patient is told what the note says to them, beside the product.
    client.force_login(tri.patient.user)
    mine = client.get(reverse("my_products")).content.decode()
    assert "We do not know how strong your product is" in mine
    # Once the strength is recorded, the note goes away.
    Product.objects.filter(patient=tri.patient).update(mitragynine_mg_per_g=15)
    do_screen_patient(tri.patient.pk)
    assert "We do not know how strong" not in client.get(reverse("my_products")).content.decode()


def test_a_note_is_shown_beside_its_own_entry_only_and_at_the_first_look(
    tri: Triangle, client: Client
) -> None:
    MedicationStatement.objects.create(
        patient=tri.patient, name_entered="loperamide", dose_text="2 mg 30 caps a day"
    )
    MedicationStatement.objects.create(
        patient=tri.patient, name_entered="loperamide", dose_text="2 mg after each loose stool"
    )
    # Waiting in the screening queue: the page screens first and shows what that stored.
    PatientProfile.objects.filter(pk=tri.patient.pk).update(screening_due_at=timezone.now())
    client.force_login(tri.clinician)
    url = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    page = client.get(f"{url}?tab=plan").content.decode()
    items = page[page.index('id="medications"') : page.index('id="pgx"')].split("<li>")
    high = next(i for i in items if "30 caps a day" in i)
    ordinary = next(i for i in items if "after each loose stool" in i)
    assert "high doses are used for withdrawal" not in high
    assert "high doses are used for withdrawal" in ordinary
    finding = Finding.objects.get(patient=tri.patient, code="interaction.loperamide_high_dose")
    assert "60 mg a day" in finding.rationale and finding.severity == "high"
