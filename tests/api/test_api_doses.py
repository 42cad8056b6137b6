"""Recording doses through the API: idempotency, field errors, confirmations, pagination."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import DoseEntry

from .conftest import Api, Triangle
from .test_api_access import dose


def url(t: Triangle) -> str:
    return f"/api/patients/{t.patient.uuid}/doses"


def test_the_same_key_answers_with_the_same_dose(api_as: Callable[..., Api], tri: Triangle) -> None:
    api = api_as("patient")
    body = dose(tri)
    first = api.post(url(tri), body, key="abc")
    again = api.post(url(tri), body, key="abc")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    assert tri.patient.doses.count() == 1
    assert first.json()["amount"] == "2.5" and first.json()["unit"] == "g"
    assert first.json()["mitragynine_mg"] == "37.5"
    assert api.post(url(tri), body, key="def").status_code == 201
    assert tri.patient.doses.count() == 2


def test_a_key_reused_for_another_dose_is_a_conflict(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    assert api.post(url(tri), dose(tri), key="abc").status_code == 201
    response = api.post(url(tri), dose(tri, amount="3"), key="abc")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert tri.patient.doses.count() == 1


def test_field_errors_are_listed_as_problem_details(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    naive = (timezone.now() - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    response = api_as("patient").post(url(tri), dose(tri, unit="ml", taken_at=naive))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    assert problem["status"] == 422
    codes = {(e["field"], e["code"]) for e in problem["errors"]}
    assert ("unit", "unit_not_allowed") in codes
    assert ("taken_at", "taken_at_naive") in codes
    assert all(set(e) == {"field", "message", "code"} for e in problem["errors"])
    assert not tri.patient.doses.exists()


def test_a_schema_error_is_a_422_problem_with_fields(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    response = api_as("patient").post(url(tri), {"amount": "2"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"product", "unit", "taken_at"} <= fields


def test_an_unknown_product_is_a_field_error(api_as: Callable[..., Api], tri: Triangle) -> None:
    other = tri.other_patient.products.create(name="Pia's", form="leaf_powder")
    response = api_as("patient").post(url(tri), dose(tri, product=str(other.uuid)))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "product_unknown"


def test_an_unusual_value_needs_its_confirmation(api_as: Callable[..., Api], tri: Triangle) -> None:
    api = api_as("patient")
    response = api.post(url(tri), dose(tri, amount="50", unit="mg"), key="small")
    assert response.status_code == 422
    assert response.json()["type"].endswith("confirmation-required")
    codes = [e["code"] for e in response.json()["errors"]]
    assert "mg_probably_g" in codes, codes
    assert not tri.patient.doses.exists()
    confirmed = api.post(url(tri), dose(tri, amount="50", unit="mg", confirm=codes), key="small")
    assert confirmed.status_code == 201
    assert confirmed.json()["confirmed_warnings"] == codes


def test_pages_follow_the_next_link_in_a_stable_order(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    for i in range(5):
        assert api.post(url(tri), dose(tri), key=f"k{i}").status_code == 201
    seen: list[str] = []
    page = api.get(url(tri), limit=2).json()
    pages = 1
    while True:
        seen += [d["uuid"] for d in page["items"]]
        if page["next"] is None:
            break
        assert "cursor=" in page["next"]
        page = api.get(page["next"].replace("http://testserver", "")).json()
        pages += 1
    expected = [
        str(u) for u in DoseEntry.objects.order_by("created", "pk").values_list("uuid", flat=True)
    ]
    assert seen == expected and pages == 3


def test_a_forged_cursor_is_a_400_problem(api_as: Callable[..., Api], tri: Triangle) -> None:
    response = api_as("patient").get(url(tri), cursor="not a cursor!")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_the_rate_limit_answers_429_with_retry_after(
    api_as: Callable[..., Api], tri: Triangle, settings: object
) -> None:
    settings.KRATOMWATCH_API_RATE_LIMIT = 3  # type: ignore[attr-defined]
    api = api_as("patient")
    statuses = [api.get("/api/patients").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/patients")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Each token has its own count.
    assert api_as("patient").get("/api/patients").status_code == 200


def _count(api: Api) -> int:
    from kratomwatch.api.auth import token_for

    assert api.secret is not None
    token = token_for(api.secret)
    assert token is not None
    return token.window_count


def test_every_dose_post_counts_toward_the_rate_limit_once(
    api_as: Callable[..., Api], tri: Triangle, settings: object
) -> None:
    """A dose counts its request in its own transaction; requests that write nothing are
    counted all the same, once each."""
    settings.KRATOMWATCH_API_RATE_LIMIT = 6  # type: ignore[attr-defined]
    api = api_as("patient")
    body = dose(tri)
    answers = [
        api.post(url(tri), body, key="a").status_code,  # written
        api.post(url(tri), body, key="a").status_code,  # the same key again
        api.post(url(tri), {"amount": "2"}, key="b").status_code,  # a bad body
        api.post(url(tri), dose(tri, unit="ml"), key="c").status_code,  # a refused dose
        api.post(url(tri), dose(tri, amount="3"), key="a").status_code,  # a key reused
    ]
    assert answers == [201, 200, 422, 422, 409]
    assert _count(api) == 5
    assert api.post(url(tri), dose(tri), key="d").status_code == 201
    assert _count(api) == 6
    # Over the limit: 429, and the dose is not written.
    over = api.post(url(tri), dose(tri), key="e")
    assert over.status_code == 429 and int(over["Retry-After"]) >= 1
    assert over.json()["type"].endswith("rate-limited")
    assert api.post(url(tri), {"amount": "2"}, key="f").status_code == 429
    assert api.get(url(tri)).status_code == 429
    assert tri.patient.doses.count() == 2
    assert not DoseEntry.objects.filter(idempotency_key__in=["api:e", "api:f"]).exists()


def test_a_dose_that_fails_is_counted_and_leaves_nothing(
    api_as: Callable[..., Api], tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kratomwatch.clinic import rows
    from kratomwatch.clinic.models import AuditEvent

    real_run = rows.run

    def broken(*args: Any, **kwargs: Any) -> Any:
        real_run(*args, **kwargs)  # the dose and its audit event are written, then it fails
        raise RuntimeError("the database went away")

    api = api_as("patient")
    events = AuditEvent.objects.count()
    monkeypatch.setattr(rows, "run", broken)
    with pytest.raises(RuntimeError):
        api.post(url(tri), dose(tri), key="x")
    assert not tri.patient.doses.exists()  # the dose went with its audit event
    assert AuditEvent.objects.count() == events
    assert _count(api) == 1


def test_a_read_only_token_is_refused_and_counted(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient", scope="read")
    assert api.post(url(tri), dose(tri)).status_code == 403
    assert _count(api) == 1 and not tri.patient.doses.exists()
