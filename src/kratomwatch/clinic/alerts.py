"""Telling the care team of findings: a new high-severity finding at once, on each
clinician's chosen channel (push, e-mail, both or none), and the rest in a daily digest.

A new high-severity finding is announced after the screening that stored it has committed
(``transaction.on_commit``), once per finding per clinician: the FindingAlert row is written
in the same transaction as the send, so a failed send leaves no row, and a second attempt is
stopped by the row's unique constraint. A finding opened again because its cause happened
again (a red flag reported anew after it was acknowledged) is announced again. A finding
a clinician was not told of at once (their channel is "none", or the send failed) goes in
their next digest. The digest goes by e-mail once per clinician per day (DigestLog), with
the findings new since the last one.

The texts name no patient and no health detail: they may be read on a lock screen or in a
shared inbox. The link leads to the findings page, behind the clinician's sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
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
    PushSubscription,
    User,
)

logger = logging.getLogger(__name__)


def _url(name: str) -> str:
    return settings.KRATOMWATCH_BASE_URL.rstrip("/") + reverse(name)


def announce_on_commit(patient_id: int, findings: Iterable[Finding]) -> None:
    """After the current transaction commits, tell the patient's care team of those of
    ``findings`` (the new ones and those opened again, just stored) that are high-severity."""
    prints = [f.fingerprint for f in findings if f.severity == FindingSeverity.HIGH]
    if prints:
        # Robust: a failure to alert is logged and never fails the request that saved the
        # finding (it goes in the digest instead).
        transaction.on_commit(partial(send_finding_alerts, patient_id, prints), robust=True)


def send_finding_alerts(patient_id: int, fingerprints: list[str]) -> int:
    """Tell each clinician of the patient of each finding, once; returns how many were told."""
    told = 0
    found = Finding.objects.filter(
        patient_id=patient_id, fingerprint__in=fingerprints, severity=FindingSeverity.HIGH
    ).select_related("patient")
    for finding in found:
        for clinician in access.alerted_clinicians(finding.patient):
            if clinician.alert_channel != AlertChannel.NONE and _alert(finding, clinician):
                told += 1
    return told


class _NothingSent(Exception):
    pass


def _alert(finding: Finding, clinician: User) -> bool:
    channel = clinician.alert_channel
    outcome: push.Outcome | None = None
    try:
        with transaction.atomic(), translation.override(push.language_of(clinician)):
            FindingAlert.objects.create(
                finding=finding, clinician=clinician, occurrence=finding.last_caused_at
            )
            url = _url("findings_inbox")
            title = _("KratomWatch")
            body = _("A patient has a new urgent finding")
            sent = False
            if channel in (AlertChannel.PUSH, AlertChannel.BOTH):
                subscriptions = list(PushSubscription.objects.filter(user=clinician))
                try:
                    outcome = push.send_to_user(subscriptions, push.payload(title, body, url))
                    sent = outcome.delivered
                except push.PushFailed as exc:
                    outcome = exc.outcome
                    logger.warning("alert push failed for clinician %s", clinician.uuid)
            if channel in (AlertChannel.EMAIL, AlertChannel.BOTH) and clinician.email:
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
            if not sent:
                raise _NothingSent
        return True
    except (IntegrityError, _NothingSent):
        return False
    except OSError:
        logger.exception("alert e-mail failed for clinician %s", clinician.uuid)
        return False
    finally:
        push.forget_gone(outcome)


def digest_findings(clinician: User, since: datetime) -> list[Finding]:
    """The open findings of the clinician's patients first seen since ``since`` that they
    were not told of at once."""
    told = FindingAlert.objects.filter(finding=OuterRef("pk"), clinician=clinician)
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
            with transaction.atomic(), translation.override(push.language_of(clinician)):
                DigestLog.objects.create(clinician=clinician, day=today, sent_at=now)
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
        except IntegrityError:
            continue
        except OSError:
            logger.exception("digest e-mail failed for clinician %s; will retry", clinician.uuid)
            continue
        sent += 1
    return sent
