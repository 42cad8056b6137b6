"""The account's API tokens page: each person lists, creates and revokes their own tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.actions.tokens import create_token
from kratomwatch.clinic.models import ApiToken, AuditEvent

from .conftest import Triangle

URL = "/account/tokens/"


def secret_on(html: str) -> str:
    match = re.search(r'id="new-secret"[^>]*value="(kw_[^"]+)"', html)
    assert match, "the new token's secret is not on the page"
    return match.group(1)


@pytest.mark.parametrize("who", ["patient", "clinician", "admin"])
def test_every_role_creates_a_token_and_sees_its_secret_once(
    client: Client, tri: Triangle, who: str
) -> None:
    user = tri.users()[who]
    client.force_login(user)
    assert 'href="/account/tokens/"' in client.get(URL).content.decode()  # in the header
    created = client.post(URL, {"name": "My script", "scope": "write", "days": "30"})
    assert created.status_code == 302 and created["Location"] == URL  # a reload posts nothing
    response = client.get(URL)
    html = response.content.decode()
    secret = secret_on(html)
    assert "shown only this once" in html
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.scope) == ("My script", "write")
    assert secret.removeprefix("kw_").startswith(token.prefix)
    assert token.expires_at is not None
    assert 29 <= (token.expires_at - token.created).days <= 30
    assert AuditEvent.objects.filter(actor=user, action="token.create").count() == 1
    # The token works with the API, as its owner.
    me = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["username"] == user.username
    # The list shows it without the secret; the secret is never shown again.
    listed = client.get(URL).content.decode()
    assert f"kw_{token.prefix}…" in listed and "My script" in listed
    assert secret not in listed and 'id="new-secret"' not in listed
    assert "Read and write" in listed and "Active" in listed
    assert ApiToken.objects.filter(user=user).count() == 1


def test_last_use_is_shown(client: Client, tri: Triangle) -> None:
    new = create_token(tri.patient.user, "phone app")
    client.force_login(tri.patient.user)
    assert "Not used yet" in client.get(URL).content.decode()
    client.get("/api/me", headers={"Authorization": f"Bearer {new.secret}"})
    html = client.get(URL).content.decode()
    assert "Not used yet" not in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "scope": "read", "days": "30"}, "name", "Enter a name for the token."),
        ({"name": "x", "scope": "admin", "days": "30"}, "scope", "Select a valid choice"),
        ({"name": "x", "scope": "read", "days": "0"}, "days", "Enter at least 1 day."),
        ({"name": "x", "scope": "read", "days": "366"}, "days", "Enter at most 365 days."),
        ({"name": "x", "scope": "read", "days": "ten"}, "days", "Enter a whole number of days"),
        ({"name": "x", "scope": "read", "days": ""}, "days", "Enter after how many days"),
        ({"name": "x" * 101, "scope": "read", "days": "30"}, "name", "at most 100 characters"),
    ],
)
def test_bad_input_is_refused_with_a_specific_error_and_values_kept(
    client: Client, tri: Triangle, data: dict[str, str], field: str, message: str
) -> None:
    client.force_login(tri.clinician)
    response = client.post(URL, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'class="error-summary"' in html
    assert f'href="#id_{field}' in html
    if data["name"]:
        assert f'value="{data["name"]}"' in html  # what was typed is kept
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="token.create").exists()


def test_revoking_asks_first_then_the_api_refuses_the_token(client: Client, tri: Triangle) -> None:
    new = create_token(tri.clinician, "laptop")
    url = reverse("api_token_revoke", kwargs={"token_uuid": new.token.uuid})
    client.force_login(tri.clinician)
    ask = client.get(url)
    assert ask.status_code == 200 and "stops working at once" in ask.content.decode()
    new.token.refresh_from_db()
    assert new.token.revoked_at is None  # asking changes nothing
    response = client.post(url, follow=True)
    assert "is revoked" in response.content.decode() and "Revoked" in response.content.decode()
    new.token.refresh_from_db()
    assert new.token.revoked_at is not None
    assert AuditEvent.objects.filter(actor=tri.clinician, action="token.revoke").count() == 1
    assert (
        client.get("/api/me", headers={"Authorization": f"Bearer {new.secret}"}).status_code == 401
    )
    again = client.post(url, follow=True)
    assert "already revoked" in again.content.decode()
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


@pytest.mark.parametrize("who", ["patient", "colleague", "outsider", "admin", "other_admin"])
def test_nobody_sees_or_revokes_another_persons_token(
    client: Client, tri: Triangle, who: str
) -> None:
    new = create_token(tri.clinician, "alice's laptop")
    url = reverse("api_token_revoke", kwargs={"token_uuid": new.token.uuid})
    client.force_login(tri.users()[who])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert "alice&#x27;s laptop" not in client.get(URL).content.decode()
    new.token.refresh_from_db()
    assert new.token.revoked_at is None


def test_anonymous_is_sent_to_login(client: Client, tri: Triangle) -> None:
    response = client.post(URL, {"name": "x", "scope": "read", "days": "1"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not ApiToken.objects.exists()


def test_expired_tokens_are_shown_as_expired(client: Client, tri: Triangle) -> None:
    create_token(tri.patient.user, "old", now=timezone.now() - timedelta(days=100))
    client.force_login(tri.patient.user)
    assert "Expired" in client.get(URL).content.decode()


def test_a_clinic_admins_token_sees_what_the_admin_sees(client: Client, tri: Triangle) -> None:
    """No clinical record: an admin manages accounts, on the web and through the API alike."""
    client.force_login(tri.admin)
    secret = secret_on(
        client.post(
            URL, {"name": "audit", "scope": "write", "days": "7"}, follow=True
        ).content.decode()
    )
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/me", headers=auth).json()["role"] == "clinic_admin"
    assert client.get("/api/patients", headers=auth).json()["items"] == []
    record = f"/api/patients/{tri.patient.uuid}/checkins"
    assert client.get(record, headers=auth).status_code == 404
