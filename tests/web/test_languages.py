"""A patient chooses the language of their pages; staff see it; the login page follows the
browser."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic import push
from kratomwatch.clinic.actions.account import do_request_password_reset
from kratomwatch.clinic.models import AuditEvent, PatientProfile, User

from .conftest import Triangle
from .test_translations import back_to_the_default_language  # noqa: F401


def test_the_choice_persists_and_serves_every_page_in_it(tri: Triangle) -> None:
    client = Client()
    client.force_login(tri.patient.user)
    response = client.post(reverse("set_language"), {"language": "es"}, follow=True)
    assert response.status_code == 200
    tri.patient.refresh_from_db()
    assert tri.patient.language == "es"
    assert AuditEvent.objects.filter(patient=tri.patient, action="language.update").exists()
    # The browser asks for English; the patient's choice wins, on every page.
    page = client.get(reverse("patient_home"), HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "es"
    assert '<html lang="es">' in page.content.decode()
    assert 'value="es" selected' in client.get(reverse("my_data")).content.decode()


def test_a_language_that_is_not_offered_is_refused_with_a_message(tri: Triangle) -> None:
    client = Client()
    client.force_login(tri.patient.user)
    response = client.post(reverse("set_language"), {"language": "fr"}, follow=True)
    assert response.status_code == 200
    assert "Your language was not changed." in response.content.decode()
    assert PatientProfile.objects.get(pk=tri.patient.pk).language == "en"


def test_only_a_patient_sets_their_language(tri: Triangle) -> None:
    for user in (tri.clinician, tri.admin):
        client = Client()
        client.force_login(user)
        assert client.post(reverse("set_language"), {"language": "es"}).status_code in (403, 404)
    patient = Client()
    patient.force_login(tri.patient.user)
    assert patient.get(reverse("set_language")).status_code == 405
    assert Client().post(reverse("set_language"), {"language": "es"}).status_code == 302


def test_the_clinician_sees_the_patients_language(tri: Triangle) -> None:
    PatientProfile.objects.filter(pk=tri.patient.pk).update(language="ms")
    client = Client()
    client.force_login(tri.clinician)
    page = client.get(reverse("patient_detail", args=[tri.patient.uuid]))
    assert "language: Bahasa Melayu" in page.content.decode()


def test_staff_get_english_until_they_choose_whatever_the_browser_says(tri: Triangle) -> None:
    PatientProfile.objects.filter(pk=tri.patient.pk).update(language="ms")
    client = Client()
    client.force_login(tri.clinician)
    page = client.get(reverse("patient_list"), HTTP_ACCEPT_LANGUAGE="es")
    assert page["Content-Language"] == "en"
    assert "Log out" in page.content.decode()


def test_a_clinicians_choice_persists_and_serves_their_pages(tri: Triangle) -> None:
    client = Client()
    client.force_login(tri.clinician)
    assert 'action="/account/language/"' in client.get(reverse("alert_settings")).content.decode()
    response = client.post(reverse("staff_language"), {"language": "es"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("alert_settings")
    assert "Sus páginas están ahora en este idioma." in response.content.decode()
    assert User.objects.get(pk=tri.clinician.pk).language == "es"
    assert AuditEvent.objects.filter(actor=tri.clinician, action="language.update").exists()
    # The browser asks for English; the clinician's choice wins, in a new session too.
    again = Client()
    again.force_login(User.objects.get(pk=tri.clinician.pk))
    page = again.get(reverse("patient_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "es"
    assert "Mis pacientes" in page.content.decode()
    assert 'value="es" selected' in again.get(reverse("alert_settings")).content.decode()


def test_an_admin_chooses_on_the_clinic_settings(tri: Triangle) -> None:
    client = Client()
    client.force_login(tri.admin)
    response = client.post(reverse("staff_language"), {"language": "es"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("clinic_settings")
    assert client.get(reverse("clinic_users"))["Content-Language"] == "es"


def test_malay_is_not_offered_to_staff_and_patients_cannot_use_it(tri: Triangle) -> None:
    client = Client()
    client.force_login(tri.clinician)
    response = client.post(reverse("staff_language"), {"language": "ms"}, follow=True)
    assert "Your language was not changed." in response.content.decode()
    assert User.objects.get(pk=tri.clinician.pk).language == "en"
    patient = Client()
    patient.force_login(tri.patient.user)
    assert patient.post(reverse("staff_language"), {"language": "es"}).status_code in (403, 404)
    assert patient.get(reverse("staff_language")).status_code in (403, 404, 405)


def test_the_login_page_follows_the_browser(db: None) -> None:
    page = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ms,en;q=0.5")
    assert page["Content-Language"] == "ms"
    assert "Log masuk" in page.content.decode()
    page = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert "Iniciar sesión" in page.content.decode()
    assert (
        "Log in" not in Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    )


def test_e_mails_and_alerts_to_staff_are_in_their_language(
    tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=tri.clinician.pk).update(language="es", email="alice@clinic.example")
    clinician = User.objects.get(pk=tri.clinician.pk)
    assert push.language_of(clinician) == "es"
    assert push.language_of(tri.admin) == "en"
    with django_capture_on_commit_callbacks(execute=True):
        assert do_request_password_reset("alice@clinic.example")
    assert [m.subject for m in mail.outbox] == ["Restablecer su contraseña de KratomWatch"]
