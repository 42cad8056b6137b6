"""Telling the care team of findings: a new high-severity finding within seconds, on each
clinician's chosen channel (push, e-mail, both or none), and the rest in a daily digest.

A new high-severity finding (or one opened again because its cause happened again, a red
flag reported anew after it was acknowledged) is put in an outbox in the transaction that
stores it: one FindingAlert row per clinician to tell, not yet sent (:func:`queue_alerts`).
The screening worker that runs on every app server (and ``kratomwatch screen-worker``)
sends the outbox every round, a few seconds later, outside any transaction
(:func:`send_pending_alerts`): no patient's request waits for a push service or a mail
server, and a service that hangs holds no database lock. Each row is claimed by one server
(an UPDATE only one can win); one not delivered (a service down, a server stopped mid-send)
is tried again five minutes later, three times in all. A push that reaches no device falls
back to e-mail. Findings a clinician was not told of at once (channel "none", every try
failed) go in their next digest, if they asked for one. The digest goes by e-mail once per
clinician per day (DigestLog), with the findings new since the last one.

The texts name no patient and no health detail: they may be read on a lock screen or in a
shared inbox. The link leads to the findings page, behind the clinician's sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kratomwatch.clinic import access, push
from kratomwatch.clinic.models import (
    AlertChannel,
    DigestLog,
    Finding,
    FindingAlert,
    FindingSeverity,
    FindingStatus,
    PatientProfile,
    PushSubscription,
    User,
)

logger = logging.getLogger(__name__)


def _url(name: str) -> str:
    return settings.KRATOMWATCH_BASE_URL.rstrip("/") + reverse(name)


def queue_alerts(patient: PatientProfile, findings: Iterable[Finding]) -> int:
    """Put in the outbox, in the current transaction, an alert to each clinician of the
    patient's care team who wants one, for each of ``findings`` (the new ones and those
    opened again, just stored) that is high-severity. Returns how many were queued."""
    high = [f.fingerprint for f in findings if f.severity == FindingSeverity.HIGH]
    if not high:
        return 0
    clinicians = list(access.alerted_clinicians(patient).exclude(alert_channel=AlertChannel.NONE))
    queued = 0
    for finding in Finding.objects.filter(patient=patient, fingerprint__in=high):
        for clinician in clinicians:
            _, created = FindingAlert.objects.get_or_create(
                finding=finding, clinician=clinician, occurrence=occurrence(finding)
            )
            queued += created
    return queued


def occurrence(finding: Finding) -> datetime:
    """Which happening of ``finding`` an alert tells of: when its cause last happened, or,
    for one opened again by a report that arrived after a clinician closed it (kept on a
    phone with no connection), when it was closed. Two screenings that find the same news
    name the same occurrence, so it is told once."""
    times = (finding.last_caused_at, finding.acknowledged_at, finding.resolved_at)
    return max(t for t in times if t is not None)


#: How many alerts one round sends at most (the rest wait for the next round).
ROUND_LIMIT = 100
#: An alert not delivered (a push service or mail server down, a server stopped mid-send) is
#: tried again this long after it was last taken, up to MAX_ATTEMPTS times in all.
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3


def send_pending_alerts(now: datetime | None = None, limit: int = ROUND_LIMIT) -> int:
    """Send the alerts in the outbox, oldest first, each claimed first so that two servers
    never send the same one at once; returns how many reached their clinician."""
    now = now or timezone.now()
    told = 0
    waiting = FindingAlert.objects.filter(sent_at__isnull=True).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RETRY_AFTER, attempts__lt=MAX_ATTEMPTS)
    )
    for pk, claimed in list(waiting.order_by("pk").values_list("pk", "claimed_at")[:limit]):
        taken = FindingAlert.objects.filter(pk=pk, claimed_at=claimed, sent_at__isnull=True)
        if not taken.update(claimed_at=now, attempts=F("attempts") + 1):
            continue  # another server took it
        alert = FindingAlert.objects.select_related("clinician").get(pk=pk)
        if _deliver(alert.clinician):
            FindingAlert.objects.filter(pk=pk).update(sent_at=timezone.now())
            told += 1
    return told


def _deliver(clinician: User) -> bool:
    """Tell ``clinician`` there is a new urgent finding, on their channel; whether it reached
    them on at least one."""
    channel = clinician.alert_channel
    outcome: push.Outcome | None = None
    sent = False
    try:
        with translation.override(push.language_of(clinician)):
            url = _url("findings_inbox")
            title = _("KratomWatch")
            body = _("A patient has a new urgent finding")
            if channel in (AlertChannel.PUSH, AlertChannel.BOTH):
                subscriptions = list(PushSubscription.objects.filter(user=clinician))
                try:
                    outcome = push.send_to_user(subscriptions, push.payload(title, body, url))
                    sent = outcome.delivered
                except push.PushFailed as exc:
                    outcome = exc.outcome
                    logger.warning("alert push failed for clinician %s", clinician.uuid)
            # Push that reached no device (none subscribed, all gone) falls back to e-mail.
            by_email = channel in (AlertChannel.EMAIL, AlertChannel.BOTH) or not sent
            if by_email and clinician.email:
                send_mail(
                    _("KratomWatch: a patient has a new urgent finding"),
                    _(
                        "A patient on your care team has a new urgent finding. Sign in to "
                        "see it:\n\n%(url)s\n\nYou can change how you are told on the "
                        "'My alerts' page.\n"
                    )
                    % {"url": url},
                    None,
                    [clinician.email],
                )
                sent = True
    except OSError:
        logger.exception("alert e-mail failed for clinician %s", clinician.uuid)
    finally:
        push.forget_gone(outcome)
    return sent


def digest_findings(clinician: User, since: datetime) -> list[Finding]:
    """The open findings of the clinician's patients first seen since ``since`` that they
    were not told of at once."""
    told = FindingAlert.objects.filter(
        finding=OuterRef("pk"), clinician=clinician, sent_at__isnull=False
    )
    return list(
        access.care_team_findings(clinician)
        .filter(first_seen__gte=since, status=FindingStatus.OPEN)
        .exclude(Exists(told))
    )


def send_daily_digests(now: datetime | None = None) -> int:
    """Send each clinician who asked for one their digest, at most once a day; returns how
    many were sent. A clinician with nothing new gets none (and may get one later today)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    sent = 0
    for clinician in access.digest_clinicians():
        last = DigestLog.objects.filter(clinician=clinician).order_by("-sent_at").first()
        if last is not None and last.day == today:
            continue
        since = last.sent_at if last is not None else now - timedelta(days=1)
        findings = digest_findings(clinician, since)
        if not findings:
            continue
        try:
            # Claimed first, sent outside the transaction, released if it could not be sent.
            with transaction.atomic():
                log = DigestLog.objects.create(clinician=clinician, day=today, sent_at=now)
        except IntegrityError:
            continue  # another runner has it
        try:
            with translation.override(push.language_of(clinician)):
                count = len(findings)
                send_mail(
                    _("KratomWatch: new findings for your patients"),
                    ngettext(
                        "There is %(count)d new finding for the patients on your care team.",
                        "There are %(count)d new findings for the patients on your care team.",
                        count,
                    )
                    % {"count": count}
                    + "\n\n"
                    + _("Sign in to see them:\n\n%(url)s\n") % {"url": _url("findings_inbox")},
                    None,
                    [clinician.email],
                )
        except OSError:
            log.delete()
            logger.exception("digest e-mail failed for clinician %s; will retry", clinician.uuid)
            continue
        sent += 1
    return sent
