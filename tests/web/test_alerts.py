"""The care team hears of a new high-severity finding at once, on each clinician's chosen
channel, once per finding per clinician; the rest comes in a daily digest, once a day."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic import alerts, screening_queue
from kratomwatch.clinic.models import (
    AlertChannel,
    CareTeamMembership,
    DigestLog,
    Finding,
    FindingAlert,
    PushSubscription,
)
from kratomwatch.clinic.screening_queue import ScreeningWorker

from .conftest import Triangle
from .push_receiver import Browser, Receiver, decrypt, serve, verify_vapid
from .test_patient_checkin import checkin_data


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    yield from serve(settings)


def test_a_red_flag_tells_each_clinician_once_on_their_channel(
    client: Client,
    tri: Triangle,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.alert_channel = AlertChannel.EMAIL
    tri.clinician.save()
    # Carol joins Paul's care team and wants push notifications only, on her phone.
    CareTeamMembership.objects.create(patient=tri.patient, clinician=tri.colleague)
    tri.colleague.email = "carol@clinic.example"
    tri.colleague.alert_channel = AlertChannel.PUSH
    tri.colleague.save()
    phone = Browser()
    info = phone.subscription(receiver.url("/push/carol"))
    PushSubscription.objects.create(user=tri.colleague, endpoint=info["endpoint"], **info["keys"])
    # Olga (another clinic) is told nothing.
    tri.outsider.email = "olga@other.example"
    tri.outsider.save()

    client.force_login(tri.patient.user)
    data = checkin_data(tri, red_flags=["chest_pain"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("checkin"), data).status_code == 302
    finding = Finding.objects.get(patient=tri.patient, category="red_flag")
    assert finding.severity == "high"
    # The patient's request sends nothing: the alerts wait in the outbox for the worker.
    assert mail.outbox == [] and receiver.deliveries == []
    assert FindingAlert.objects.filter(finding=finding, sent_at__isnull=True).count() == 2
    # The worker's round sends them (the test's connection is its transaction: kept open).
    monkeypatch.setattr(screening_queue, "close_old_connections", lambda: None)
    ScreeningWorker(interval=0.0).round()

    (message,) = mail.outbox
    assert message.to == ["alice@clinic.example"]
    assert "/findings/" in message.body
    for text in (message.subject, message.body):
        assert "Paul" not in text and "chest" not in text.lower()
    (delivery,) = receiver.deliveries
    assert delivery.path == "/push/carol"
    verify_vapid(delivery, receiver.origin)
    shown = decrypt(delivery, phone)
    assert shown["body"] == "A patient has a new urgent finding"
    assert shown["url"].endswith("/findings/")
    assert "Paul" not in json.dumps(shown)
    assert FindingAlert.objects.filter(finding=finding, sent_at__isnull=False).count() == 2

    # The same finding again (another screening, a second runner): nobody is told twice.
    assert alerts.queue_alerts(tri.patient, [finding]) == 0
    assert alerts.send_pending_alerts() == 0
    assert len(mail.outbox) == 1 and len(receiver.deliveries) == 1


def test_a_red_flag_reported_again_after_it_was_acknowledged_is_told_again(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.save()
    client.force_login(tri.patient.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("checkin"), checkin_data(tri, red_flags=["chest_pain"]))
    assert alerts.send_pending_alerts() == 1
    assert len(mail.outbox) == 1
    finding = Finding.objects.get(patient=tri.patient, category="red_flag")
    Finding.objects.filter(pk=finding.pk).update(
        status="acknowledged", acknowledged_at=timezone.now(), acknowledged_by=tri.clinician
    )
    # The same symptom reported again later: the finding is opened again, and told again.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("checkin"), checkin_data(tri, red_flags=["chest_pain"]))
    assert alerts.send_pending_alerts() == 1
    finding.refresh_from_db()
    assert finding.status == "open"
    assert len(mail.outbox) == 2
    assert FindingAlert.objects.filter(finding=finding, clinician=tri.clinician).count() == 2


def test_both_and_none(tri: Triangle, receiver: Receiver) -> None:
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.alert_channel = AlertChannel.BOTH
    tri.clinician.save()
    info = Browser().subscription(receiver.url("/push/alice"))
    PushSubscription.objects.create(user=tri.clinician, endpoint=info["endpoint"], **info["keys"])
    assert alerts.queue_alerts(tri.patient, [tri.finding]) == 1
    assert alerts.send_pending_alerts() == 1
    assert len(mail.outbox) == 1 and len(receiver.deliveries) == 1

    tri.clinician.alert_channel = AlertChannel.NONE
    tri.clinician.save()
    FindingAlert.objects.all().delete()
    assert alerts.queue_alerts(tri.patient, [tri.finding]) == 0
    assert alerts.send_pending_alerts() == 0
    assert len(mail.outbox) == 1 and len(receiver.deliveries) == 1


def test_a_failed_alert_is_tried_again_a_few_times_then_waits_for_the_digest(
    tri: Triangle, receiver: Receiver
) -> None:
    tri.clinician.alert_channel = AlertChannel.PUSH
    tri.clinician.save()
    info = Browser().subscription(receiver.url("/push/alice"))
    PushSubscription.objects.create(user=tri.clinician, endpoint=info["endpoint"], **info["keys"])
    receiver.status["/push/alice"] = 503  # the push service is down
    assert alerts.queue_alerts(tri.patient, [tri.finding]) == 1
    now = timezone.now()
    assert alerts.send_pending_alerts(now) == 0
    (alert,) = FindingAlert.objects.all()
    assert alert.claimed_at is not None and alert.sent_at is None and alert.attempts == 1
    assert alerts.send_pending_alerts(now + timedelta(minutes=1)) == 0  # not every round
    assert len(receiver.deliveries) == 1
    for minutes in (6, 12, 18, 24):
        alerts.send_pending_alerts(now + timedelta(minutes=minutes))
    assert len(receiver.deliveries) == 3  # three tries in all
    assert alerts.digest_findings(tri.clinician, tri.finding.first_seen) == [tri.finding]


def test_an_alert_taken_by_a_server_that_stopped_is_sent_later(tri: Triangle) -> None:
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.save()
    alerts.queue_alerts(tri.patient, [tri.finding])
    taken = timezone.now()
    FindingAlert.objects.update(claimed_at=taken, attempts=1)  # and then nothing
    assert alerts.send_pending_alerts(taken + timedelta(minutes=1)) == 0
    assert alerts.send_pending_alerts(taken + timedelta(minutes=6)) == 1
    assert len(mail.outbox) == 1


def test_push_that_reaches_no_device_falls_back_to_e_mail(tri: Triangle) -> None:
    tri.clinician.alert_channel = AlertChannel.PUSH  # but no device subscribed
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.save()
    alerts.queue_alerts(tri.patient, [tri.finding])
    assert alerts.send_pending_alerts() == 1
    assert mail.outbox[0].to == ["alice@clinic.example"]


def test_two_servers_never_send_one_alert_twice(tri: Triangle) -> None:
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.save()
    alerts.queue_alerts(tri.patient, [tri.finding])
    (alert,) = FindingAlert.objects.all()
    # Another server claimed it a moment ago: this one leaves it alone.
    FindingAlert.objects.filter(pk=alert.pk).update(claimed_at=timezone.now())
    assert alerts.send_pending_alerts() == 0
    assert mail.outbox == []


def make_finding(tri: Triangle, fingerprint: str, severity: str, seen: datetime) -> Finding:
    return Finding.objects.create(
        patient=tri.patient,
        code=f"test.{fingerprint}",
        fingerprint=fingerprint,
        severity=severity,
        category="test",
        title="A test finding",
        rationale="For the digest.",
        first_seen=seen,
        last_seen=seen,
    )


def test_the_digest_sends_the_rest_once_a_day(tri: Triangle) -> None:
    day1 = timezone.make_aware(datetime(2026, 12, 7, 9, 0))
    tri.clinician.email = "alice@clinic.example"
    tri.clinician.alert_digest = True
    tri.clinician.save()
    Finding.objects.filter(pk=tri.finding.pk).update(first_seen=day1 - timedelta(hours=2))
    make_finding(tri, "m1", "moderate", day1 - timedelta(hours=1))
    # Alice was told of the high one at once: it is not in her digest.
    FindingAlert.objects.create(
        finding=tri.finding,
        clinician=tri.clinician,
        occurrence=tri.finding.last_caused_at,
        claimed_at=day1,
        sent_at=day1,
    )
    # Carol asked for a digest but has no patient with new findings: she gets none.
    tri.colleague.email = "carol@clinic.example"
    tri.colleague.alert_digest = True
    tri.colleague.save()

    assert alerts.send_daily_digests(day1) == 1
    (message,) = mail.outbox
    assert message.to == ["alice@clinic.example"]
    assert "1 new finding " in message.body and "/findings/" in message.body
    assert "Paul" not in message.body and "test finding" not in message.body.lower()
    assert alerts.send_daily_digests(day1 + timedelta(hours=3)) == 0  # once a day

    make_finding(tri, "l1", "low", day1 + timedelta(hours=5))
    make_finding(tri, "l2", "low", day1 + timedelta(hours=6))
    assert alerts.send_daily_digests(day1 + timedelta(days=1)) == 1
    assert "2 new findings " in mail.outbox[1].body  # only those since the last digest
    assert alerts.send_daily_digests(day1 + timedelta(days=2)) == 0  # nothing new
    assert DigestLog.objects.filter(clinician=tri.clinician).count() == 2


def test_the_digest_command_runs(tri: Triangle) -> None:
    from django.core.management import call_command

    tri.clinician.email = "alice@clinic.example"
    tri.clinician.alert_digest = True
    tri.clinician.save()
    call_command("send_alert_digests")
    assert len(mail.outbox) == 1  # the fixture's finding, of today
