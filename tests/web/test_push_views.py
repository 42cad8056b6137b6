"""Subscribing a browser to notifications, and the pages where reminders and alerts are
chosen: a subscription that is not one the server takes is refused with 400 and a message,
never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic import push
from kratomwatch.clinic.models import AlertChannel, AuditEvent, PushSubscription

from .conftest import Triangle
from .push_receiver import Browser, b64

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def good(**change: Any) -> dict[str, Any]:
    data = Browser().subscription(ENDPOINT)
    data.update(change)
    return data


def post(client: Client, name: str, data: Any) -> Any:
    return client.post(reverse(name), json.dumps(data), content_type="application/json")


def keys(p256dh: Any = None, auth: Any = None) -> dict[str, Any]:
    browser = Browser()
    return {
        "p256dh": browser.p256dh if p256dh is None else p256dh,
        "auth": b64(browser.auth) if auth is None else auth,
    }


BAD: list[tuple[str, Any, str]] = [
    ("array", [ENDPOINT], "must be a JSON object"),
    ("no endpoint", good(endpoint=None), "no endpoint"),
    ("plain http", good(endpoint="http://push.example.net/x"), "https"),
    ("local http", good(endpoint="http://127.0.0.1:9/x"), "https"),
    ("ftp", good(endpoint="ftp://push.example.net/x"), "https"),
    ("ip address", good(endpoint="https://10.0.0.5/x"), "push service's host"),
    ("ipv6", good(endpoint="https://[::1]/x"), "push service's host"),
    ("localhost", good(endpoint="https://localhost/x"), "not a browser's push service"),
    ("bare host", good(endpoint="https://intranet/x"), "not a browser's push service"),
    ("not a push service", good(endpoint="https://push.example.net/x"), "not a browser's push"),
    ("lookalike", good(endpoint="https://fcm.googleapis.com.evil.example/x"), "not a browser"),
    ("dotted decimal", good(endpoint="https://127.1/x"), "not a browser's push service"),
    ("other port", good(endpoint="https://fcm.googleapis.com:6379/x"), "not a browser's push"),
    ("user in url", good(endpoint="https://u:p@push.example.net/x"), "not a valid address"),
    ("bad port", good(endpoint="https://push.example.net:99999/x"), "not a valid address"),
    ("space", good(endpoint="https://push.example.net/a b"), "not a valid address"),
    ("too long", good(endpoint="https://push.example.net/" + "a" * 2000), "not a valid"),
    ("no keys", good(keys=None), "no keys"),
    ("keys a list", good(keys=["a"]), "no keys"),
    ("p256dh short", good(keys=keys(p256dh=b64(b"\x04" + b"1" * 30))), "65 bytes"),
    ("p256dh not base64", good(keys=keys(p256dh="not base64!")), "65 bytes"),
    ("p256dh a number", good(keys=keys(p256dh=12)), "65 bytes"),
    ("p256dh off the curve", good(keys=keys(p256dh=b64(b"\x04" + b"\x01" * 64))), "P-256"),
    ("auth short", good(keys=keys(auth=b64(b"x" * 8))), "16 bytes"),
    ("auth padded wrong", good(keys=keys(auth="a")), "16 bytes"),
    ("auth missing", good(keys={"p256dh": Browser().p256dh}), "16 bytes"),
]


@pytest.mark.parametrize("data, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_subscription_is_refused_with_a_message(
    client: Client, tri: Triangle, data: Any, message: str
) -> None:
    client.force_login(tri.patient.user)
    response = post(client, "push_subscribe", data)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"null", b'"text"', b"[]", b"1e999999"])
def test_a_body_that_is_not_a_subscription_is_400(
    client: Client, tri: Triangle, body: bytes
) -> None:
    client.force_login(tri.patient.user)
    response = client.post(reverse("push_subscribe"), body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]


def test_a_form_post_or_a_huge_body_is_refused(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = client.post(reverse("push_subscribe"), {"endpoint": ENDPOINT})
    assert response.status_code == 415 and "JSON" in response.json()["error"]
    big = good(padding="x" * 5000)
    assert post(client, "push_subscribe", big).status_code == 413


def test_local_endpoints_only_where_allowed(client: Client, tri: Triangle, settings: Any) -> None:
    client.force_login(tri.patient.user)
    settings.KRATOMWATCH_PUSH_LOCAL_ENDPOINTS = True
    assert post(client, "push_subscribe", good(endpoint="http://127.0.0.1:9/x")).status_code == 201
    assert post(client, "push_subscribe", good(endpoint="http://10.0.0.1/x")).status_code == 400


def test_subscribing_stores_and_a_shared_phone_changes_hands(client: Client, tri: Triangle) -> None:
    data = good()
    client.force_login(tri.patient.user)
    assert post(client, "push_subscribe", data).status_code == 201
    assert post(client, "push_subscribe", data).status_code == 201  # again: still one
    assert AuditEvent.objects.filter(action="push.subscribe").count() == 1  # a change once
    row = PushSubscription.objects.get()
    assert (row.user, row.endpoint, row.p256dh) == (
        tri.patient.user,
        ENDPOINT,
        data["keys"]["p256dh"],
    )
    # The same browser, now signed in as a clinician: it is hers, no longer Paul's.
    client.force_login(tri.clinician)
    assert post(client, "push_subscribe", data).status_code == 201
    assert PushSubscription.objects.get().user == tri.clinician


def test_unsubscribing_ends_only_ones_own(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    post(client, "push_subscribe", good())
    client.force_login(tri.other_patient.user)
    assert post(client, "push_unsubscribe", {"endpoint": ENDPOINT}).json() == {
        "unsubscribed": False
    }
    assert PushSubscription.objects.exists()
    client.force_login(tri.patient.user)
    assert post(client, "push_unsubscribe", {"endpoint": ENDPOINT}).json() == {"unsubscribed": True}
    assert not PushSubscription.objects.exists()
    response = post(client, "push_unsubscribe", {"endpoint": 5})
    assert response.status_code == 400 and response.json()["error"]


def test_who_may_subscribe(client: Client, tri: Triangle) -> None:
    assert post(client, "push_subscribe", good()).status_code == 302  # to the login page
    client.force_login(tri.admin)
    assert post(client, "push_subscribe", good()).status_code == 403
    client.force_login(tri.patient.user)
    assert client.get(reverse("push_subscribe")).status_code == 405
    assert not PushSubscription.objects.exists()


def test_the_reminder_page_offers_notifications(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    html = client.get(reverse("my_data")).content.decode()
    assert f'data-vapid-key="{push.public_key()}"' in html
    assert "kratomwatch/push.js" in html
    assert "Remind me by e-mail" in html and "Remind me with a notification" in html
    assert "kratomwatch/push.js" not in client.get(reverse("patient_home")).content.decode()


def test_the_clinician_chooses_how_to_be_told(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    html = client.get(reverse("alert_settings")).content.decode()
    assert "kratomwatch/push.js" in html and 'value="email"' in html
    response = client.post(
        reverse("alert_settings"), {"alert_channel": "both", "alert_digest": "on"}
    )
    assert response.status_code == 302
    tri.clinician.refresh_from_db()
    assert tri.clinician.alert_channel == AlertChannel.BOTH and tri.clinician.alert_digest
    response = client.post(reverse("alert_settings"), {"alert_channel": "pager"})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    tri.clinician.refresh_from_db()
    assert tri.clinician.alert_channel == AlertChannel.BOTH


def test_a_deletion_request_handled_ends_the_patients_subscriptions(
    client: Client, tri: Triangle
) -> None:
    from kratomwatch.clinic.models import DeletionRequest

    client.force_login(tri.patient.user)
    post(client, "push_subscribe", good())
    request = DeletionRequest.objects.create(patient=tri.patient, reason="moving away")
    client.force_login(tri.admin)
    client.post(reverse("handle_deletion", kwargs={"request_uuid": request.uuid}))
    assert not PushSubscription.objects.exists()
