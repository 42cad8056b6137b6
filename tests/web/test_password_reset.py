"""Self-service password reset by e-mail: every role, no account enumeration, throttled."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic.actions.account import PER_ADDRESS, PER_CLIENT
from kratomwatch.clinic.models import AuditEvent, User

from .conftest import Triangle

BASE = "https://kratomwatch.example.org"
NEW = "a brand new passphrase 42"


@pytest.fixture(autouse=True)
def public_address(settings: Any) -> None:
    settings.KRATOMWATCH_BASE_URL = BASE + "/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


Ask = Callable[[Client, str], Any]


@pytest.fixture
def ask(django_capture_on_commit_callbacks: Any) -> Ask:
    """Ask for a link, running what the request's commit would (sending the e-mail)."""

    def post(client: Client, email: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email})

    return post


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(rf"{re.escape(BASE)}(/\S+)", str(message.body))
    assert found, message.body
    return found.group(1)


def test_the_login_page_links_to_the_reset(client: Client, tri: Triangle) -> None:
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page
    assert client.get(reverse("password_reset")).status_code == 200


@pytest.mark.parametrize("who", ["patient", "clinician", "admin"])
def test_every_role_resets_its_password_by_email(
    client: Client, tri: Triangle, ask: Ask, who: str
) -> None:
    user = {"patient": tri.patient.user, "clinician": tri.clinician, "admin": tri.admin}[who]
    user.email = f"{who}@example.org"
    user.save()
    response = ask(client, f"  {who.upper()}@Example.org ")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert user.username in str(mail.outbox[0].body)
    path = link_in(mail.outbox[0])
    form_page = client.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert Client().login(username=user.username, password=NEW)
    actions = list(AuditEvent.objects.filter(actor=user).values_list("action", flat=True))
    assert "password.reset_requested" in actions and "password.reset" in actions
    # The link works once.
    again = Client().get(path, follow=True).content.decode()
    assert "This link does not work" in again


def test_an_unknown_address_gets_the_same_answer(client: Client, tri: Triangle, ask: Ask) -> None:
    tri.clinician.email = "alice@example.org"
    tri.clinician.save()
    known = ask(client, "alice@example.org")
    unknown = ask(client, "nobody@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    assert not AuditEvent.objects.filter(action="password.reset_requested", actor=None).exists()


def test_a_deactivated_account_gets_no_link(client: Client, tri: Triangle, ask: Ask) -> None:
    User.objects.filter(pk=tri.colleague.pk).update(email="carol@example.org", is_active=False)
    assert ask(client, "carol@example.org").status_code == 302
    assert mail.outbox == []


def test_one_address_gets_a_few_emails_an_hour(client: Client, tri: Triangle, ask: Ask) -> None:
    tri.clinician.email = "alice@example.org"
    tri.clinician.save()
    for _ in range(PER_ADDRESS + 3):
        response = ask(client, "alice@example.org")
        assert response.status_code == 302  # the same answer, sent or not
    assert len(mail.outbox) == PER_ADDRESS


def test_one_client_address_is_throttled(client: Client, tri: Triangle, ask: Ask) -> None:
    tri.clinician.email = "alice@example.org"
    tri.clinician.save()
    for n in range(PER_CLIENT):
        assert ask(client, f"guess{n}@example.org").status_code == 302
    response = ask(client, "alice@example.org")
    assert response.status_code == 429
    assert "Too many password reset requests" in response.content.decode()
    assert mail.outbox == []
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert ask(other, "alice@example.org").status_code == 302
    assert len(mail.outbox) == 1


def test_a_bad_address_is_named(client: Client, tri: Triangle, ask: Ask) -> None:
    response = ask(client, "not an address")
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
