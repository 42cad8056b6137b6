"""Each operation x each member of the triangle, with tokens: allowed or 404 (or 403)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import TokenScope, User

from .conftest import Api, Triangle

WHO = ["patient", "other_patient", "clinician", "colleague", "outsider", "admin", "other_admin"]
READS: dict[str, tuple[Callable[[Triangle], str], set[str]]] = {
    "patient": (lambda t: f"/api/patients/{t.patient.uuid}", {"patient", "clinician"}),
    "products": (lambda t: f"/api/patients/{t.patient.uuid}/products", {"patient", "clinician"}),
    "doses": (lambda t: f"/api/patients/{t.patient.uuid}/doses", {"patient", "clinician"}),
    "findings": (lambda t: f"/api/patients/{t.patient.uuid}/findings", {"clinician"}),
}


@pytest.mark.parametrize("what", sorted(READS))
@pytest.mark.parametrize("who", WHO)
def test_reads(api_as: Callable[..., Api], tri: Triangle, what: str, who: str) -> None:
    url_for, allowed = READS[what]
    response = api_as(who, TokenScope.READ).get(url_for(tri))
    if who in allowed:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert b"Paul" not in response.content and b"Red Bali" not in response.content


@pytest.mark.parametrize("who", WHO)
def test_patient_list_shows_only_visible_patients(
    api_as: Callable[..., Api], tri: Triangle, who: str
) -> None:
    body = api_as(who).get("/api/patients").json()
    names = {p["display_name"] for p in body["items"]}
    expected = {
        "patient": {"Paul"},
        "other_patient": {"Pia"},
        "clinician": {"Paul"},
        "colleague": {"Pia"},
        "outsider": {"Otto"},
    }.get(who, set())
    assert names == expected


def dose(t: Triangle, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "product": str(t.product.uuid),
        "amount": "2.5",
        "unit": "g",
        "taken_at": timezone.now().isoformat(),
    }
    body.update(extra)
    return body


@pytest.mark.parametrize("who", WHO)
def test_only_the_patient_posts_their_doses(
    api_as: Callable[..., Api], tri: Triangle, who: str
) -> None:
    response = api_as(who).post(f"/api/patients/{tri.patient.uuid}/doses", dose(tri))
    if who == "patient":
        assert response.status_code == 201, response.content
        assert tri.patient.doses.get().source == "api"
    else:
        assert response.status_code == (403 if who == "clinician" else 404)
        assert not tri.patient.doses.exists()


@pytest.mark.parametrize("who", WHO)
def test_only_the_patients_clinician_acknowledges(
    api_as: Callable[..., Api], tri: Triangle, who: str
) -> None:
    response = api_as(who).post(
        f"/api/findings/{tri.finding.uuid}/acknowledge", {"reason": "reviewed"}
    )
    tri.finding.refresh_from_db()
    if who == "clinician":
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "acknowledged"
        assert tri.finding.status == "acknowledged"
        assert tri.finding.acknowledged_by == tri.clinician
    else:
        assert response.status_code == 404
        assert tri.finding.status == "open"


def test_acknowledging_needs_a_write_token(api_as: Callable[..., Api], tri: Triangle) -> None:
    api = api_as("clinician", TokenScope.READ)
    response = api.post(f"/api/findings/{tri.finding.uuid}/acknowledge", {"reason": "ok"})
    assert response.status_code == 403
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"


def test_acknowledging_twice_with_the_same_key_replays_and_a_new_key_conflicts(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("clinician")
    url = f"/api/findings/{tri.finding.uuid}/acknowledge"
    first = api.post(url, {"reason": "reviewed"}, key="ack-1")
    again = api.post(url, {"reason": "reviewed"}, key="ack-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = api.post(url, {"reason": "reviewed"}, key="ack-2")
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"


def test_a_post_without_an_idempotency_key_is_400(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    response = api.post(f"/api/patients/{tri.patient.uuid}/doses", dose(tri), key=None)
    assert response.status_code == 400
    assert response.json()["type"].endswith("no-idempotency-key")
    assert not tri.patient.doses.exists()
    response = api_as("clinician").post(
        f"/api/findings/{tri.finding.uuid}/acknowledge", {"reason": "x"}, key=None
    )
    assert response.status_code == 400


@pytest.mark.parametrize("reason", ["\ufeff", " \u200b ", "\u2060\u00ad"])
def test_a_reason_that_shows_nothing_is_no_reason(
    api_as: Callable[..., Api], tri: Triangle, reason: str
) -> None:
    response = api_as("clinician").post(
        f"/api/findings/{tri.finding.uuid}/acknowledge", {"reason": reason}
    )
    assert response.status_code == 422
    tri.finding.refresh_from_db()
    assert tri.finding.status == "open"


def test_a_refusal_is_in_english_whatever_the_client_or_the_account_asks(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    User.objects.filter(pk=tri.clinician.pk).update(language="es")
    api = api_as("clinician")
    api.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    url = f"/api/findings/{tri.finding.uuid}/acknowledge"
    assert api.post(url, {"reason": "reviewed"}, key="ack-1").status_code == 200
    other = api.post(url, {"reason": "reviewed"}, key="ack-2")
    assert other.status_code == 409
    assert "Only an open finding can be acknowledged" in other.content.decode()
