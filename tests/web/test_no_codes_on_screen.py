"""People see labels, never internal codes; patients of the same name are told apart; the
findings page groups open findings per severity and patient, acknowledged ones apart."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions.findings import do_acknowledge_finding
from kratomwatch.clinic.models import Finding, PatientProfile, Role
from kratomwatch.domain.questionnaires import load_instruments
from kratomwatch.domain.safety import load_knowledge
from kratomwatch.domain.substances import load_knowledge as load_substances
from kratomwatch.synthetic.seed import seed_demo_clinic

from .conftest import Triangle, make_patient

SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}


class _Visible(HTMLParser):
    """The text a person sees: element text and shown attributes, not scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden += 1
        self.parts.extend(v for k, v in attrs if k in SHOWN_ATTRIBUTES and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"} and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(parser.parts)


def internal_codes() -> set[str]:
    """Rule ids, instrument ids, substance class ids, symptom ids and field names: every code
    that is not also a plain word (a class "alcohol" may be named Alcohol)."""
    kb = load_knowledge()
    codes = {rule.id for rule in kb.rules}
    codes |= {sid for sid in kb.symptoms if "_" in sid}
    codes |= set(load_instruments())
    codes |= {cid for cid, c in load_substances().classes.items() if c.label.lower() != cid.lower()}
    codes |= {
        f.name
        for model in apps.get_app_config("clinic").get_models()
        for f in model._meta.concrete_fields
        if "_" in f.name
    }
    return codes


def codes_in(text: str, codes: set[str]) -> set[str]:
    return {c for c in codes if re.search(rf"(?<![\w.-]){re.escape(c)}(?![\w-])", text)}


def test_the_main_clinician_pages_show_no_internal_codes(client: Client, db: None) -> None:
    summary = seed_demo_clinic(patients=8, days=30, today=timezone.localdate())
    codes = internal_codes()
    assert {"red_flag.breathing_difficulty", "phq9", "opioid_agonist", "leaf_equivalent_g"} <= codes
    clinician = summary.clinic.users.filter(role=Role.CLINICIAN).first()
    client.force_login(clinician)
    patients = PatientProfile.objects.filter(clinic=summary.clinic)
    finding = Finding.objects.filter(patient__in=patients, severity="high").first()
    assert finding is not None
    do_acknowledge_finding(finding, clinician, "Seen at the visit")  # the acknowledged list too
    pages = [reverse("patient_list") + "?show=all", reverse("findings_inbox")]
    for patient in patients.filter(care_team=clinician):
        for name in ("patient_detail", "plan_edit", "patient_dose_response", "trial_design"):
            pages.append(reverse(name, kwargs={"patient_uuid": patient.uuid}))
    shown = set(Finding.objects.filter(patient__in=patients).values_list("code", flat=True))
    assert any(code.startswith(("plan.", "red_flag.", "interaction.")) for code in shown)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert codes_in(visible_text(response.content.decode()), codes) == set(), url

    # And the patient's own pages.
    client.force_login(finding.patient.user)
    for name in ("patient_home", "my_plan", "trends", "my_products", "checkin", "record_views"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert codes_in(visible_text(response.content.decode()), codes) == set(), name


def test_patients_of_the_same_name_are_told_apart(client: Client, tri: Triangle) -> None:
    twins = [make_patient(f"sam{n}", tri.clinic, tri.clinician) for n in (1, 2)]
    for patient, year in zip(twins, (1961, 1988), strict=True):
        patient.display_name, patient.year_of_birth = "Sam Jones", year
        patient.save()
        Finding.objects.create(
            patient=patient,
            code="interaction.opioid",
            fingerprint="f",
            severity="high",
            category="interaction",
            title="Kratom with an opioid",
            rationale="r",
            first_seen=timezone.now(),
            last_seen=timezone.now(),
        )
    client.force_login(tri.clinician)
    for url in (reverse("patient_list"), reverse("findings_inbox")):
        text = visible_text(client.get(url).content.decode())
        hints = {p.identity_hint for p in twins}
        assert all(hint in text for hint in hints), url
        assert "born 1961" in text and "born 1988" in text
    assert twins[0].reference != twins[1].reference


def test_the_findings_page_groups_per_patient_and_keeps_acknowledged_apart(
    client: Client, tri: Triangle
) -> None:
    second = Finding.objects.create(
        patient=tri.patient,
        code="interaction.opioid",
        fingerprint="f2",
        severity="high",
        category="interaction",
        title="Kratom with an opioid",
        rationale="r",
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    done = Finding.objects.create(
        patient=tri.patient,
        code="product.seven_oh",
        fingerprint="f3",
        severity="moderate",
        category="product",
        title="Concentrated 7-OH product in use",
        rationale="r",
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    do_acknowledge_finding(done, tri.clinician, "Discussed")
    client.force_login(tri.clinician)
    response = client.get(reverse("findings_inbox"))
    html = response.content.decode()
    [(severity, _, items, patients)] = [s for s in response.context["sections"] if s[0] == "high"]
    assert [p for p, _ in patients] == [tri.patient]  # one group for the patient's two
    assert {f.pk for f in items} == {tri.finding.pk, second.pk}
    open_part, acknowledged_part = html.split('id="acknowledged"')
    assert "Concentrated 7-OH product in use" not in open_part
    assert "Concentrated 7-OH product in use" in acknowledged_part
    assert "Xanax listed." not in html  # compact: titles, not whole rationales
