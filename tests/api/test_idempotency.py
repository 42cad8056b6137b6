"""Every API write stores its reply with its change, in one transaction.

A crash after the change but before the reply is stored must not leave a change without a
reply: otherwise a retry of the same request finds the change made (a finding no longer
open) and is refused with 409, although the client's request never got its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kratomwatch.clinic.models import ApiIdempotentReply, DoseEntry, FindingStatus

from .conftest import Api, Triangle


class Crash(Exception):
    """The process dies between the change and storing its reply."""


@pytest.fixture
def crash_on_reply(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    def arm() -> None:
        def crash(*args: Any, **kwargs: Any) -> Any:
            raise Crash

        monkeypatch.setattr(ApiIdempotentReply.objects, "create", crash)

    return arm


def dose_body(tri: Triangle, amount: str = "2.5") -> dict[str, Any]:
    return {
        "product": str(tri.product.uuid),
        "amount": amount,
        "unit": "g",
        "taken_at": "2026-01-05T08:00:00+00:00",
    }


def test_a_crash_before_the_reply_leaves_no_dose_and_the_retry_records_it(
    api_as: Callable[..., Api],
    tri: Triangle,
    crash_on_reply: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = api_as("patient")
    path = f"/api/patients/{tri.patient.uuid}/doses"
    crash_on_reply()
    with pytest.raises(Crash):
        api.post(path, dose_body(tri), key="d1")
    assert not DoseEntry.objects.filter(patient=tri.patient).exists()
    monkeypatch.undo()
    first = api.post(path, dose_body(tri), key="d1")
    assert first.status_code == 201
    again = api.post(path, dose_body(tri), key="d1")
    assert again.status_code == 200 and again.json() == first.json()
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1


def test_a_crash_before_the_reply_leaves_the_finding_open_and_the_retry_acknowledges(
    api_as: Callable[..., Api],
    tri: Triangle,
    crash_on_reply: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = api_as("clinician")
    path = f"/api/findings/{tri.finding.uuid}/acknowledge"
    crash_on_reply()
    with pytest.raises(Crash):
        api.post(path, {"reason": "Discussed at the visit."}, key="a1")
    tri.finding.refresh_from_db()
    assert tri.finding.status == FindingStatus.OPEN
    monkeypatch.undo()
    retry = api.post(path, {"reason": "Discussed at the visit."}, key="a1")
    assert retry.status_code == 200, retry.content
    tri.finding.refresh_from_db()
    assert tri.finding.status == FindingStatus.ACKNOWLEDGED
    replay = api.post(path, {"reason": "Discussed at the visit."}, key="a1")
    assert replay.status_code == 200 and replay.json() == retry.json()


def test_one_key_for_two_different_requests_is_refused(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    path = f"/api/patients/{tri.patient.uuid}/doses"
    assert api.post(path, dose_body(tri), key="same").status_code == 201
    reused = api.post(path, dose_body(tri, amount="3"), key="same")
    assert reused.status_code == 409
    assert reused.json()["type"].endswith("idempotency-key-reused")
    assert DoseEntry.objects.filter(patient=tri.patient).count() == 1


def test_a_refused_request_stores_no_reply_so_its_correction_is_run(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    path = f"/api/patients/{tri.patient.uuid}/doses"
    bad = api.post(path, {**dose_body(tri), "unit": "kg"}, key="fix")
    assert bad.status_code == 422
    assert api.post(path, dose_body(tri), key="fix").status_code == 201


def test_derived_record_keys_fit_and_stay_distinct() -> None:
    from kratomwatch.clinic.actions.idempotent import KEY_LENGTH, derived_key

    assert derived_key("api:short", "-q0") == "api:short-q0"  # keys that fit are unchanged
    for base in ("api:" + "k" * 76, "x" * 80, "api:" + "k" * 70):
        derived = [derived_key(base, s) for s in ("-q0", "-d0", "-d1", "-rf-seizure")]
        derived += [derived_key(base, "-rf-breathing_difficulty")]
        assert all(len(k) <= KEY_LENGTH for k in derived)
        assert len(set(derived)) == len(derived)
    # Two long keys that differ only at the end do not share their derived keys.
    assert derived_key("a" * 79 + "1", "-d0") != derived_key("a" * 79 + "2", "-d0")
