"""A clinician or clinic admin who chose Spanish gets every staff page in Spanish: none of
the catalog's English texts is left on the page (docs/languages.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic.models import DeletionRequest, NofOneTrial, User

from .conftest import Triangle
from .test_access_matrix import ROUTES
from .test_translations import (  # noqa: F401
    assert_no_english,
    back_to_the_default_language,
    rich_record,
    visible_text,
)

#: Staff pages left out: the visit report (page and PDF) is written in English whatever the
#: clinician's language, checked below.
NOT_PAGES = {"visit_report_pdf", "visit_report"}
#: Public pages that staff reach from their menu.
SHARED = ["evidence", "evidence_claims", "evidence_rules"]


def staff_pages(role: str) -> list[str]:
    return sorted(
        name
        for name, (_, allowed) in ROUTES.items()
        if role in allowed and name not in NOT_PAGES and name != "home"
    )


def test_the_list_covers_the_staff_pages() -> None:
    assert {"patient_list", "patient_detail", "plan_edit", "trial_detail"} <= set(
        staff_pages("clinician")
    )
    assert {"clinic_users", "clinic_user", "deletion_requests"} <= set(staff_pages("admin"))


def kwargs_for(name: str, tri: Triangle) -> dict[str, Any]:
    if name == "trial_detail":
        trial = NofOneTrial.objects.filter(patient=tri.patient).latest("created")
        return {"patient_uuid": tri.patient.uuid, "trial_uuid": trial.uuid}
    return ROUTES[name][0](tri)


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_every_staff_page_is_in_spanish(tri: Triangle, role: str) -> None:
    rich_record(tri, "es")
    DeletionRequest.objects.create(patient=tri.patient, reason="")
    user = tri.users()[role]
    User.objects.filter(pk=user.pk).update(language="es")
    client = Client()
    client.force_login(user)
    for name in staff_pages(role) + SHARED:
        url = reverse(name, kwargs=kwargs_for(name, tri))
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        assert response["Content-Language"] == "es", url
        assert_no_english(visible_text(response.content.decode()), "es", url)


def test_the_panel_rows_loaded_by_htmx_are_in_spanish(tri: Triangle) -> None:
    rich_record(tri, "es")
    User.objects.filter(pk=tri.clinician.pk).update(language="es")
    client = Client()
    client.force_login(tri.clinician)
    rows = client.get(reverse("patient_list"), {"q": "zzz"}, HTTP_HX_REQUEST="true")
    assert "Ningún paciente coincide." in rows.content.decode()


def test_knowledge_base_texts_stay_in_english_marked_as_such(tri: Triangle) -> None:
    rich_record(tri, "es")
    User.objects.filter(pk=tri.clinician.pk).update(language="es")
    client = Client()
    client.force_login(tri.clinician)
    url = reverse("patient_detail", args=[tri.patient.uuid])
    html = client.get(f"{url}?tab=findings").content.decode()
    assert '<p lang="en">Alcohol listed.</p>' in html
    assert "Todos los pacientes" in html


def test_the_visit_report_stays_in_english_for_a_spanish_reader(tri: Triangle) -> None:
    rich_record(tri, "es")
    User.objects.filter(pk=tri.clinician.pk).update(language="es")
    client = Client()
    client.force_login(tri.clinician)
    page = client.get(reverse("visit_report", args=[tri.patient.uuid]))
    assert page["Content-Language"] == "en"
    html = page.content.decode()
    assert '<html lang="en">' in html
    assert "Active plan" in html and "Taper plan, version 1" in html  # not "Reducción…"
    assert client.get(reverse("patient_list"))["Content-Language"] == "es"
