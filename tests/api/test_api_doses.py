"""Recording doses through the API: idempotency, field errors, confirmations, pagination."""

from __future__ import annotations

import time
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


@pytest.mark.parametrize("request_kind", ["read", "dose"])
def test_a_new_minute_starts_the_count_again(
    api_as: Callable[..., Api], tri: Triangle, settings: object, request_kind: str
) -> None:
    """A token that used up last minute's allowance may go on in this one, counted from 1;
    this minute's allowance used up is a 429. Reads and doses are counted alike, when
    they authenticate."""
    from kratomwatch.api.auth import token_for
    from kratomwatch.clinic.models import ApiToken

    settings.KRATOMWATCH_API_RATE_LIMIT = 2  # type: ignore[attr-defined]
    api = api_as("patient")
    assert api.secret is not None
    token = token_for(api.secret)
    assert token is not None
    keys = iter(range(100))

    def send() -> int:
        if request_kind == "read":
            return int(api.get("/api/patients").status_code)
        return int(api.post(url(tri), dose(tri), key=f"k{next(keys)}").status_code)

    if timezone.now().second >= 55:  # the three requests go in one minute
        time.sleep(61 - timezone.now().second)
    this_minute = timezone.now().replace(second=0, microsecond=0)
    ApiToken.objects.filter(pk=token.pk).update(
        window_start=this_minute - timedelta(minutes=1), window_count=2
    )
    ok = 201 if request_kind == "dose" else 200
    assert send() == ok
    assert _count(api) == 1
    assert send() == ok
    assert send() == 429
    assert _count(api) == 2
    assert ApiToken.objects.get(pk=token.pk).window_start == this_minute


def _count(api: Api) -> int:
    from kratomwatch.api.auth import token_for

    assert api.secret is not None
    token = token_for(api.secret)
    assert token is not None
    return token.window_count


def test_every_dose_post_counts_toward_the_rate_limit_once(
    api_as: Callable[..., Api], tri: Triangle, settings: object
) -> None:
    """Every request counts once, those that write nothing included."""
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


def test_a_dose_is_stored_with_its_audit_event_count_and_screening_mark(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    from kratomwatch.clinic.audit_chain import verify_chain
    from kratomwatch.clinic.models import AuditEvent, PatientProfile

    api = api_as("patient")
    before = PatientProfile.objects.get(pk=tri.patient.pk)
    PatientProfile.objects.filter(pk=tri.patient.pk).update(screening_due_at=None)
    response = api.post(url(tri), dose(tri), key="one")
    assert response.status_code == 201
    stored = tri.patient.doses.get()
    assert str(stored.uuid) == response.json()["uuid"]
    event = AuditEvent.objects.get(object_uuid=stored.uuid)
    assert event.action == "dose.create" and event.patient_id == tri.patient.pk
    assert verify_chain().ok
    assert _count(api) == 1
    # The screening queue screens the patient: marked due, the change counted.
    after = PatientProfile.objects.get(pk=tri.patient.pk)
    assert after.screening_due_at is not None
    assert after.change_count == before.change_count + 1


@pytest.mark.parametrize("failing", ["database", "python"])
def test_a_dose_that_fails_is_counted_and_leaves_nothing(
    api_as: Callable[..., Api],
    tri: Triangle,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    """A statement that fails after the dose was saved, or an error in the code that builds
    its audit event, rolls everything back; the request is counted all the same, and the
    connection goes on working."""
    from django.db import DatabaseError, connection

    from kratomwatch.clinic import audit_chain, signals
    from kratomwatch.clinic.models import AuditEvent

    api = api_as("patient")
    events = AuditEvent.objects.count()
    if failing == "database":

        def failing_mark(_pk: int) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such")

        monkeypatch.setattr(signals, "mark_due", failing_mark)
        expected: type[Exception] = DatabaseError
    else:

        def broken(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError("a bug while building the audit event")

        monkeypatch.setattr(audit_chain, "event_after", broken)
        expected = RuntimeError
    with pytest.raises(expected):
        api.post(url(tri), dose(tri), key="x")
    assert not tri.patient.doses.exists()  # the dose went with its audit event
    assert AuditEvent.objects.count() == events
    assert _count(api) == 1
    monkeypatch.undo()
    assert api.post(url(tri), dose(tri), key="y").status_code == 201
    assert tri.patient.doses.count() == 1 and _count(api) == 2


@pytest.mark.parametrize(
    "case", ["unknown product", "archived product", "another record", "refused", "unconfirmed"]
)
def test_a_refused_dose_leaves_nothing_and_is_counted(
    api_as: Callable[..., Api], tri: Triangle, case: str
) -> None:
    """A dose refused by the access check or the dose check writes nothing, and the request
    is counted once."""
    from kratomwatch.clinic.models import AuditEvent

    api = api_as("patient")
    events = AuditEvent.objects.count()
    target, body = url(tri), dose(tri)
    if case == "unknown product":
        body = dose(tri, product=str(tri.other_patient.products.create(name="Pia's").uuid))
    elif case == "archived product":
        tri.product.archived = True
        tri.product.save()
    elif case == "another record":
        target = f"/api/patients/{tri.other_patient.uuid}/doses"
    elif case == "refused":
        body = dose(tri, unit="ml")
    else:
        body = dose(tri, amount="50", unit="mg")
    response = api.post(target, body, key="k")
    expected = {
        "unknown product": (422, "product_unknown"),
        "archived product": (422, "product_unknown"),
        "another record": (404, None),
        "refused": (422, "unit_not_allowed"),
        "unconfirmed": (422, "mg_probably_g"),
    }[case]
    assert response.status_code == expected[0], response.content
    if expected[1]:
        assert expected[1] in [e["code"] for e in response.json()["errors"]]
    assert not DoseEntry.objects.exists() and AuditEvent.objects.count() == events
    assert _count(api) == 1
    if case == "archived product":
        tri.product.archived = False
        tri.product.save()
    assert api.post(url(tri), dose(tri), key="next").status_code == 201
    assert _count(api) == 2


def test_a_read_only_token_is_refused_and_counted(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient", scope="read")
    assert api.post(url(tri), dose(tri)).status_code == 403
    assert _count(api) == 1 and not tri.patient.doses.exists()


@pytest.mark.parametrize("amount", ["1e400", "9" * 300, "1E+999999999", "1." + "0" * 300 + "1"])
def test_a_huge_or_overprecise_amount_is_a_field_error(
    api_as: Callable[..., Api], tri: Triangle, amount: str
) -> None:
    response = api_as("patient").post(url(tri), dose(tri, amount=amount))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"amount"}
    assert not tri.patient.doses.exists()


def test_a_300_digit_json_number_is_a_field_error(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    body = (
        f'{{"product": "{tri.product.uuid}", "amount": {"9" * 300}, "unit": "g", '
        f'"taken_at": "{timezone.now().isoformat()}"}}'
    )
    response = api.client.post(
        url(tri), body, content_type="application/json", headers=api._headers("k")
    )
    assert response.status_code == 422
    assert not tri.patient.doses.exists()


def test_a_retry_gets_the_stored_reply_after_its_product_is_archived(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    body = dose(tri)
    first = api.post(url(tri), body, key="before-archive")
    assert first.status_code == 201
    tri.product.archived = True
    tri.product.save()
    again = api.post(url(tri), body, key="before-archive")
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert tri.patient.doses.count() == 1
