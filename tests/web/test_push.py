"""Web Push reminders, end to end: a local receiver plays the push service.

The receiver (a threaded ``http.server`` on 127.0.0.1) checks what a real push service would
and what the browser would: the VAPID ``Authorization`` header (RFC 8292: an ES256 JWT
signed with the server's key, for the receiver's origin, not expired) and the payload,
decrypted with the browser's private key and auth secret (RFC 8291, aes128gcm).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic import push
from kratomwatch.clinic.models import CheckIn, PushSubscription, ReminderLog, VapidKey
from kratomwatch.clinic.reminders import send_due_reminders

from .conftest import Triangle
from .push_receiver import Browser, Receiver, decrypt, serve, unb64, verify_vapid


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    yield from serve(settings)


def subscribe(client: Client, browser: Browser, endpoint: str) -> Any:
    return client.post(
        reverse("push_subscribe"),
        json.dumps(browser.subscription(endpoint)),
        content_type="application/json",
    )


def at(hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute)))


@pytest.fixture
def paul(tri: Triangle) -> Triangle:
    """Paul wants a push reminder (only) at 08:00 and has not checked in today."""
    tri.patient.reminder_time = time(8, 0)
    tri.patient.remind_by_push = True
    tri.patient.remind_by_email = False
    tri.patient.save()
    CheckIn.objects.filter(patient=tri.patient).delete()
    return tri


def test_a_reminder_reaches_the_push_service_signed_and_encrypted(
    client: Client, paul: Triangle, receiver: Receiver
) -> None:
    browser = Browser()
    client.force_login(paul.patient.user)
    assert subscribe(client, browser, receiver.url("/push/paul-phone")).status_code == 201

    assert send_due_reminders(at(7, 59)) == 0
    assert send_due_reminders(at(8, 1)) == 1
    (delivery,) = receiver.deliveries
    assert delivery.path == "/push/paul-phone"
    verify_vapid(delivery, receiver.origin)
    message = decrypt(delivery, browser)
    assert message["body"] == "KratomWatch: time for your check-in"
    assert message["url"].endswith("/me/checkin/")
    assert "Paul" not in json.dumps(message)  # shown on a lock screen: no name
    assert not mail.outbox  # push only, as chosen
    assert PushSubscription.objects.get().last_success is not None

    # Not twice the same day.
    assert send_due_reminders(at(8, 30)) == 0
    assert send_due_reminders(at(21)) == 0
    assert len(receiver.deliveries) == 1


def test_a_forged_signature_would_be_seen(
    client: Client, paul: Triangle, receiver: Receiver
) -> None:
    """The receiver's check is a real one: another key's signature fails it."""
    client.force_login(paul.patient.user)
    subscribe(client, Browser(), receiver.url("/push/p"))
    send_due_reminders(at(9))
    (delivery,) = receiver.deliveries
    VapidKey.objects.update(public_key=push.new_key_pair()[1])
    with pytest.raises((AssertionError, InvalidSignature)):
        verify_vapid(delivery, receiver.origin)


def test_no_reminder_after_the_check_in(client: Client, paul: Triangle, receiver: Receiver) -> None:
    client.force_login(paul.patient.user)
    subscribe(client, Browser(), receiver.url("/push/p"))
    CheckIn.objects.create(
        patient=paul.patient,
        day=timezone.localdate(),
        submitted_at=timezone.now(),
        idempotency_key="today",
    )
    assert send_due_reminders(at(9)) == 0
    assert receiver.deliveries == []


def test_both_channels_once_each(client: Client, paul: Triangle, receiver: Receiver) -> None:
    paul.patient.remind_by_email = True
    paul.patient.save()
    paul.patient.user.email = "paul@example.org"
    paul.patient.user.save()
    client.force_login(paul.patient.user)
    phone, laptop = Browser(), Browser()
    subscribe(client, phone, receiver.url("/push/phone"))
    subscribe(client, laptop, receiver.url("/push/laptop"))
    assert send_due_reminders(at(9)) == 2  # e-mail and push
    assert sorted(d.path for d in receiver.deliveries) == ["/push/laptop", "/push/phone"]
    by_path = {d.path: d for d in receiver.deliveries}
    assert decrypt(by_path["/push/laptop"], laptop)["title"] == "KratomWatch"
    assert len(mail.outbox) == 1
    assert send_due_reminders(at(10)) == 0
    assert len(receiver.deliveries) == 2 and len(mail.outbox) == 1


def test_a_gone_subscription_is_removed(client: Client, paul: Triangle, receiver: Receiver) -> None:
    client.force_login(paul.patient.user)
    subscribe(client, Browser(), receiver.url("/push/old-phone"))
    receiver.status["/push/old-phone"] = 410
    assert send_due_reminders(at(9)) == 0
    assert not PushSubscription.objects.exists()
    assert not ReminderLog.objects.exists()  # nothing was sent
    # A new subscription later that day still gets the day's reminder.
    subscribe(client, Browser(), receiver.url("/push/new-phone"))
    assert send_due_reminders(at(10)) == 1
    assert receiver.deliveries[-1].path == "/push/new-phone"


def test_a_failing_push_service_is_retried_without_duplicates(
    client: Client, paul: Triangle, receiver: Receiver
) -> None:
    client.force_login(paul.patient.user)
    subscribe(client, Browser(), receiver.url("/push/p"))
    receiver.status["/push/p"] = 503
    assert send_due_reminders(at(9)) == 0
    assert PushSubscription.objects.exists()  # kept: the service may be back
    assert not ReminderLog.objects.exists()
    receiver.status["/push/p"] = 201
    assert send_due_reminders(at(9, 5)) == 1
    assert send_due_reminders(at(9, 10)) == 0
    assert [d.path for d in receiver.deliveries] == ["/push/p", "/push/p"]


def test_a_push_service_redirect_is_not_followed(
    client: Client, paul: Triangle, receiver: Receiver
) -> None:
    client.force_login(paul.patient.user)
    subscribe(client, Browser(), receiver.url("/push/p"))
    receiver.status["/push/p"] = 307
    receiver.location["/push/p"] = receiver.url("/internal-admin")
    assert send_due_reminders(at(9)) == 0
    assert [d.path for d in receiver.deliveries] == ["/push/p"]  # never /internal-admin
    assert not ReminderLog.objects.exists()  # tried again on the next run


def test_a_stored_endpoint_no_longer_accepted_is_not_posted_to(
    client: Client, paul: Triangle, receiver: Receiver, settings: Any
) -> None:
    client.force_login(paul.patient.user)
    subscribe(client, Browser(), receiver.url("/push/p"))
    settings.KRATOMWATCH_PUSH_LOCAL_ENDPOINTS = False
    assert send_due_reminders(at(9)) == 0
    assert receiver.deliveries == []
    assert not PushSubscription.objects.exists()


def test_the_vapid_key_pair_is_made_once_and_kept(db: None) -> None:
    first = push.vapid_keys()
    assert push.vapid_keys() == first
    assert VapidKey.objects.count() == 1
    assert len(unb64(first[0])) == 32 and unb64(first[1])[0] == 4


def test_the_environment_gives_the_vapid_keys(db: None, settings: Any) -> None:
    given = push.new_key_pair()
    settings.KRATOMWATCH_VAPID_KEYS = given
    assert push.vapid_keys() == given
    assert not VapidKey.objects.exists()


def test_two_servers_making_the_key_pair_at_once_agree(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other server stored its pair between this one's look and its own insert: this one
    takes the stored pair rather than failing or using a pair of its own."""
    private, public = push.new_key_pair()
    VapidKey.objects.create(pk=1, private_key=private, public_key=public)
    monkeypatch.setattr(VapidKey.objects, "filter", lambda **kw: VapidKey.objects.none())
    assert push.vapid_keys() == (private, public)
    assert VapidKey.objects.count() == 1
