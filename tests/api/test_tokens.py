"""Personal access tokens: shown once, hashed at rest, refused when revoked or expired."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kratomwatch.api.auth import create_token, revoke_token
from kratomwatch.clinic.models import ApiToken, TokenScope

from .conftest import Api, Triangle

URL = "/api/patients"


def get(client: Client, secret: str | None) -> object:
    headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
    return client.get(URL, headers=headers)


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(
    client: Client, tri: Triangle
) -> None:
    new = create_token(tri.clinician, "laptop", scope=TokenScope.READ)
    assert new.secret.startswith("kw_")
    raw = new.secret.removeprefix("kw_")
    stored = ApiToken.objects.get(pk=new.token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:8]
    assert raw not in {getattr(stored, f.attname) for f in ApiToken._meta.fields}
    response = get(client, new.secret)
    assert response.status_code == 200  # type: ignore[attr-defined]
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer kw_nope", "Bearer not-a-kw-token", "Basic dXNlcjpwYXNz", "Token kw_x"],
)
def test_unknown_or_malformed_credentials_are_401_problems(
    client: Client, tri: Triangle, header: str
) -> None:
    response = client.get(URL, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_a_revoked_token_is_refused(client: Client, tri: Triangle) -> None:
    new = create_token(tri.clinician, "laptop")
    assert get(client, new.secret).status_code == 200  # type: ignore[attr-defined]
    revoke_token(new.token)
    assert get(client, new.secret).status_code == 401  # type: ignore[attr-defined]


def test_an_expired_token_is_refused(client: Client, tri: Triangle) -> None:
    new = create_token(
        tri.clinician, "old", expires_in=timedelta(days=1), now=timezone.now() - timedelta(days=2)
    )
    assert get(client, new.secret).status_code == 401  # type: ignore[attr-defined]


def test_a_token_without_expiry_works(client: Client, tri: Triangle) -> None:
    new = create_token(tri.clinician, "ci", expires_in=None)
    assert get(client, new.secret).status_code == 200  # type: ignore[attr-defined]


def test_a_deactivated_users_token_is_refused(client: Client, tri: Triangle) -> None:
    new = create_token(tri.clinician, "laptop")
    tri.clinician.is_active = False
    tri.clinician.save()
    assert get(client, new.secret).status_code == 401  # type: ignore[attr-defined]


def test_an_unknown_scope_is_refused(tri: Triangle) -> None:
    with pytest.raises(ValueError):
        create_token(tri.clinician, "x", scope="admin")


def test_a_session_is_not_a_token(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    assert client.get(URL).status_code == 401


def test_a_read_token_cannot_write(client: Client, tri: Triangle) -> None:
    new = create_token(tri.patient.user, "phone", scope=TokenScope.READ)
    response = client.post(
        f"/api/patients/{tri.patient.uuid}/doses",
        {
            "product": str(tri.product.uuid),
            "amount": "2",
            "unit": "g",
            "taken_at": timezone.now().isoformat(),
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {new.secret}", "Idempotency-Key": "a"},
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not tri.patient.doses.exists()


def test_me_tells_whose_token_it_is(api_as: Callable[..., Api], tri: Triangle) -> None:
    answer = api_as("clinician", scope=TokenScope.READ).get("/api/me")
    assert answer.status_code == 200
    assert answer.json() == {
        "username": tri.clinician.username,
        "role": "clinician",
        "clinic": tri.clinic.slug,
        "token_scope": "read",
        "token_expires_at": answer.json()["token_expires_at"],
    }
    assert answer.json()["token_expires_at"] is not None
    assert api_as("anonymous").get("/api/me").status_code == 401
