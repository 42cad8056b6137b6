"""Two-factor log-in for clinicians and admins with an authenticator app."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import AuditEvent, TOTPDevice

from .conftest import Triangle

PASSWORD = "correct horse battery staple"


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    step = int(timezone.now().timestamp()) // 30 + drift
    return pyotp.TOTP(device.secret).at(step * 30)


def test_a_clinic_that_requires_it_makes_clinicians_enrol(client: Client, tri: Triangle) -> None:
    tri.clinic.require_two_factor = True
    tri.clinic.save()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response["Location"] == reverse("two_factor")
    assert client.get(reverse("patient_list")).status_code == 302  # not logged in yet
    page = client.get(reverse("two_factor")).content.decode()
    assert "Set up your authenticator app" in page and "<svg" in page
    device = TOTPDevice.objects.get(user=tri.clinician)
    assert client.post(reverse("two_factor"), {"code": "000000"}).status_code == 400
    response = client.post(reverse("two_factor"), {"code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("patient_list")).status_code == 200
    assert AuditEvent.objects.filter(action="two_factor.enrol", actor=tri.clinician).exists()


def test_a_registered_device_is_always_asked_for_and_codes_cannot_be_replayed(
    client: Client, tri: Triangle
) -> None:
    device = TOTPDevice.objects.create(user=tri.admin, secret=pyotp.random_base32(), confirmed=True)
    client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    code = code_for(device)
    assert client.post(reverse("two_factor"), {"code": code}).status_code == 302
    assert client.get(reverse("clinic_users")).status_code == 200
    client.logout()
    client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    response = client.post(reverse("two_factor"), {"code": code})  # the same code again
    assert response.status_code == 400 and "already used" in response.content.decode()


def test_patients_log_in_with_a_password_alone(client: Client, tri: Triangle) -> None:
    tri.clinic.require_two_factor = True
    tri.clinic.save()
    response = client.post(reverse("login"), {"username": "paul", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] != reverse("two_factor")
    assert client.get(reverse("patient_home")).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "patient"])
def test_the_code_page_needs_a_password_first(client: Client, tri: Triangle, who: str) -> None:
    if who == "patient":
        client.force_login(tri.patient.user)
    response = client.get(reverse("two_factor"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not TOTPDevice.objects.exists()


@pytest.mark.axes
def test_wrong_codes_lock_out_like_wrong_passwords(client: Client, tri: Triangle) -> None:
    device = TOTPDevice.objects.create(user=tri.admin, secret=pyotp.random_base32(), confirmed=True)
    client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    for _ in range(4):
        assert client.post(reverse("two_factor"), {"code": "000000"}).status_code == 400
    response = client.post(reverse("two_factor"), {"code": "000000"})
    assert response.status_code == 429 and "paused for 15 minutes" in response.content.decode()
    locked = AuditEvent.objects.filter(action="two_factor.locked_out", actor=tri.admin)
    assert locked.count() == 1
    # The right code no longer helps: the pending log-in is gone and the password step is
    # locked for this username from this address too.
    response = client.post(reverse("two_factor"), {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    response = client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get(reverse("clinic_users")).status_code == 302  # never logged in


@pytest.mark.axes
def test_a_pending_code_step_is_refused_once_locked_out(client: Client, tri: Triangle) -> None:
    TOTPDevice.objects.create(user=tri.admin, secret=pyotp.random_base32(), confirmed=True)
    client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    attacker = Client()  # same address, guessing passwords while the code page waits
    for _ in range(5):
        attacker.post(reverse("login"), {"username": "adam", "password": "wrong"})
    response = client.get(reverse("two_factor"))
    assert response.status_code == 429


@pytest.mark.axes
def test_a_right_code_before_the_limit_resets_the_count(client: Client, tri: Triangle) -> None:
    device = TOTPDevice.objects.create(user=tri.admin, secret=pyotp.random_base32(), confirmed=True)
    client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    for _ in range(4):
        client.post(reverse("two_factor"), {"code": "000000"})
    assert client.post(reverse("two_factor"), {"code": code_for(device)}).status_code == 302
    client.logout()
    client.post(reverse("login"), {"username": "adam", "password": PASSWORD})
    for _ in range(4):
        assert client.post(reverse("two_factor"), {"code": "000000"}).status_code == 400
