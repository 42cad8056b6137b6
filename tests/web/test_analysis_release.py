"""The patient's personal analysis: no figure per gram and no direction of a dose-pain link,
and only words their clinician chose to share (an audited act); the clinician's section keeps
the figures, in association wording."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic import models
from kratomwatch.clinic.analysis_app import dose_response, patient_summary
from kratomwatch.clinic.models import AuditEvent, PatientProfile, User

from .conftest import Triangle
from .test_analysis_app import add_dose, add_pain

# What would quantify a benefit per gram or point the patient towards more (or less) kratom.
PER_GRAM = re.compile(r"\bper gram\b|\bextra gram\b|\d\s*(g|grams?)\b|\d+(\.\d+)? points?\b", re.I)
DIRECTION = re.compile(
    r"\b(lower|higher|better|improv\w*|benefit\w*|relie\w*|helps?|smallest|largest)\b", re.I
)


@pytest.fixture
def seeded(db: None) -> dict[str, PatientProfile]:
    from kratomwatch.synthetic.seed import seed_demo_clinic

    summary = seed_demo_clinic(patients=6, days=120, today=timezone.localdate(), screen=False)
    patients = PatientProfile.objects.filter(clinic=summary.clinic).select_related("user")
    return {p.user.username: p for p in patients}


def clinician_of(patient: PatientProfile) -> User:
    return patient.care_team.order_by("username").first()  # type: ignore[return-value]


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def patients_section(client: Client, patient: PatientProfile) -> str:
    client.force_login(patient.user)
    response = client.get(reverse("my_dose_response"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return text_of(response.content.decode())


def clinicians_section(client: Client, patient: PatientProfile, user: User | None = None) -> str:
    client.force_login(user or clinician_of(patient))
    url = reverse("patient_dose_response", kwargs={"patient_uuid": patient.uuid})
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def share(client: Client, patient: PatientProfile, digest: str) -> int:
    url = reverse("release_dose_response", kwargs={"patient_uuid": patient.uuid})
    return client.post(url, {"digest": digest}).status_code


def digest_in(body: str) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]+)"', body)
    assert found
    return found.group(1)


def pain_falls_with_dose(t: Triangle, days: int = 60) -> None:
    """A diary in which pain was clearly lower on days with more kratom."""
    today = timezone.localdate()
    doses = [1 + (k * 3) % 5 for k in range(days + 1)]  # 1 to 5 g, varied from day to day
    for k in range(days):
        day = today - timedelta(days=days - 1 - k)
        add_dose(t, day, 9, Decimal(doses[k + 1]))
        noise = ((k * 7) % 5 - 2) / 4
        add_pain(t.patient, day, round(8 - 0.5 * (doses[k + 1] + doses[k]) / 2 + noise, 1))


def test_the_patients_words_never_quantify_per_gram_nor_point_a_direction(
    tri: Triangle, seeded: dict[str, PatientProfile]
) -> None:
    pain_falls_with_dose(tri)
    falls = dose_response(tri.patient).pain
    assert falls.sufficient and falls.effect is not None and falls.effect.ci90[1] < 0
    # patient05's diary: pain higher on days with more kratom.
    linked = 0
    for name, patient in [("falls", tri.patient), *seeded.items()]:
        view = dose_response(patient)
        words = " ".join(patient_summary(view))
        assert not PER_GRAM.search(words), (name, PER_GRAM.search(words))
        assert not DIRECTION.search(words), (name, DIRECTION.search(words))
        assert "Please do not change how much you take" in words
        if view.pain.sufficient and view.pain.effect is not None:
            lo, hi = view.pain.effect.ci90
            if hi < 0 or lo > 0:
                linked += 1
                assert "were linked" in words and "does not show that one changed" in words
    assert linked >= 2  # a clear link either way was checked


def test_until_the_clinician_shares_it_the_patient_sees_that_they_will_go_through_it(
    client: Client, seeded: dict[str, PatientProfile]
) -> None:
    patient = seeded["patient01"]
    text = patients_section(client, patient)
    assert "Your clinician will go through what your diary shows" in text
    assert "This looks at" not in text and not re.search(r"\d+ days", text)
    # Nothing about the analysis leaves the server for the patient before it is shared.
    trends = text_of(client.get(reverse("trends")).content.decode())
    assert "points out of 10 for each" not in trends


def test_sharing_is_the_clinicians_explicit_audited_act(
    client: Client, seeded: dict[str, PatientProfile]
) -> None:
    patient = seeded["patient01"]
    clinician = clinician_of(patient)
    body = clinicians_section(client, patient)
    assert "Not shared." in body
    preview = patient_summary(dose_response(patient))
    for line in preview:
        assert line.replace("'", "&#x27;") in body  # the words shown before sharing
    assert share(client, patient, digest_in(body)) == 302
    release = models.AnalysisRelease.objects.get(patient=patient)
    assert release.released_by == clinician and release.lines == preview
    event = AuditEvent.objects.get(action="analysis.release")
    assert (event.actor, event.patient, event.object_uuid) == (clinician, patient, release.uuid)

    text = patients_section(client, patient)
    assert "Your clinician will go through" not in text
    assert f"Shared with you by {clinician.get_full_name() or clinician.username}" in text
    for line in preview:
        assert line in text.replace("&#x27;", "'")
    assert "Shared by" in clinicians_section(client, patient)


def test_the_patient_keeps_the_shared_words_until_newer_ones_are_shared(
    client: Client, tri: Triangle
) -> None:
    today = timezone.localdate()
    body = clinicians_section(client, tri.patient, tri.clinician)
    assert share(client, tri.patient, digest_in(body)) == 302
    shared = patients_section(client, tri.patient)
    assert "In the last 120 days there are 0 such days" in shared
    for k in range(3):  # the diary grows after sharing
        add_pain(tri.patient, today - timedelta(days=k), 5)
        add_dose(tri, today - timedelta(days=k), 9, Decimal("2"))
    assert patients_section(client, tri.patient) == shared
    body = clinicians_section(client, tri.patient, tri.clinician)
    assert share(client, tri.patient, digest_in(body)) == 302
    assert "there are 2 such days" in patients_section(client, tri.patient)
    assert models.AnalysisRelease.objects.filter(patient=tri.patient).count() == 2


def test_words_that_changed_since_the_clinician_read_them_are_not_shared(
    client: Client, tri: Triangle
) -> None:
    body = clinicians_section(client, tri.patient, tri.clinician)
    today = timezone.localdate()
    for k in range(2):  # a check-in arrives while the clinician reads
        add_pain(tri.patient, today - timedelta(days=k), 5)
        add_dose(tri, today - timedelta(days=k), 9, Decimal("2"))
    response = client.post(
        reverse("release_dose_response", kwargs={"patient_uuid": tri.patient.uuid}),
        {"digest": digest_in(body)},
        follow=True,
    )
    assert response.status_code == 200
    assert "Nothing was shared" in response.content.decode()
    assert not models.AnalysisRelease.objects.exists()
    assert not AuditEvent.objects.filter(action="analysis.release").exists()
    assert share(client, tri.patient, "") == 302 and not models.AnalysisRelease.objects.exists()


def test_only_the_patients_clinician_shares(client: Client, tri: Triangle) -> None:
    digest = digest_in(clinicians_section(client, tri.patient, tri.clinician))
    url = reverse("release_dose_response", kwargs={"patient_uuid": tri.patient.uuid})
    for user in (tri.colleague, tri.outsider, tri.patient.user, tri.admin):
        client.force_login(user)
        assert client.post(url, {"digest": digest}).status_code in (403, 404), user.username
    client.force_login(tri.clinician)
    assert client.get(url).status_code == 405
    assert not models.AnalysisRelease.objects.exists()


def test_the_clinicians_section_keeps_the_figures_in_association_wording(
    client: Client, seeded: dict[str, PatientProfile]
) -> None:
    patient = seeded["patient01"]
    body = clinicians_section(client, patient)
    table = body.split("What the patient sees")[0]
    assert "Difference in pain per g/day (sustained), 90% CrI" in table
    assert re.search(r"[+-]\d\.\d\d \([+-]\d\.\d\d to [+-]\d\.\d\d\) points", table)
    assert "Association, not causation" in table
    for causal in ("Effect per", "benefit", "Benefit"):
        assert causal not in table, causal
