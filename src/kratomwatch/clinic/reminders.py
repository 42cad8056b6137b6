"""Daily check-in reminders, by e-mail and by push, sent exactly once per patient per day on
each channel the patient chose.

Safe to run every few minutes from cron or a timer: a reminder is due once the patient's
local reminder time has passed, if they have not checked in today and none was sent today on
that channel. The ReminderLog row (patient, day, channel) claims the reminder before it is
sent, outside any transaction (a slow mail server or push service holds no database lock):
a second runner at the same moment is stopped by the row's unique constraint, and if
sending fails the row is deleted so that the next run tries again. A push subscription the
push service no longer knows (404, 410) is deleted. Nothing sent carries health information
or the patient's name.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from kratomwatch.clinic import push
from kratomwatch.clinic.models import PatientProfile, PushSubscription, ReminderLog

logger = logging.getLogger(__name__)

EMAIL = "email"
PUSH = "push"
SUBJECT = gettext_noop("Your KratomWatch check-in")
BODY = gettext_noop(
    "Hello,\n\nThis is your daily reminder to check in on KratomWatch. It takes about a "
    "minute:\n\n%(url)s\n\nYou can change or turn off this reminder on the 'Reminders and my "
    "data' page.\n"
)


def _push_text(url: str) -> str:
    return push.payload(gettext("KratomWatch"), gettext("KratomWatch: time for your check-in"), url)


def reminder_email(patient: PatientProfile, url: str) -> tuple[str, str]:
    """Subject and body of the reminder, in the patient's language."""
    with translation.override(patient.language):
        return gettext(SUBJECT), gettext(BODY) % {"url": url}


def due_patients(now: datetime) -> list[PatientProfile]:
    """Patients whose reminder time has passed today, who have not checked in today, and who
    chose a channel they can be reached on."""
    local = timezone.localtime(now)
    today = local.date()
    by_email = Q(remind_by_email=True) & ~Q(user__email="")
    by_push = Q(remind_by_push=True) & Q(
        Exists(PushSubscription.objects.filter(user_id=OuterRef("user_id")))
    )
    candidates = (
        PatientProfile.objects.filter(
            reminder_time__isnull=False, reminder_time__lte=local.time(), user__is_active=True
        )
        .filter(by_email | by_push)
        .exclude(checkins__day=today)
        .select_related("user")
    )
    return list(candidates)


def channels_of(patient: PatientProfile) -> list[str]:
    chosen = []
    if patient.remind_by_email and patient.user.email:
        chosen.append(EMAIL)
    if patient.remind_by_push:
        chosen.append(PUSH)
    return chosen


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every due reminder; returns how many were sent (one per patient and channel)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    url = settings.KRATOMWATCH_BASE_URL.rstrip("/") + "/me/checkin/"
    sent = 0
    for patient in due_patients(now):
        done = set(
            ReminderLog.objects.filter(patient=patient, day=today).values_list("channel", flat=True)
        )
        for channel in channels_of(patient):
            if channel not in done and _send_one(patient, channel, today, url):
                sent += 1
    return sent


def _send_one(patient: PatientProfile, channel: str, today: object, url: str) -> bool:
    user = patient.user
    try:
        with transaction.atomic():
            claim = ReminderLog.objects.create(patient=patient, day=today, channel=channel)
    except IntegrityError:
        return False  # another runner has it
    outcome: push.Outcome | None = None
    sent = False
    if patient.checkins.filter(day=today).exists():
        claim.delete()  # checked in while this run was sending to others
        return False
    try:
        with translation.override(push.language_of(user)):
            if channel == EMAIL:
                send_mail(*reminder_email(patient, url), None, [user.email])
                sent = True
            else:
                subscriptions = list(PushSubscription.objects.filter(user=user))
                outcome = push.send_to_user(subscriptions, _push_text(url))
                sent = outcome.delivered  # False: every subscription was gone
    except push.PushFailed as exc:
        outcome = exc.outcome
        logger.warning("reminder push failed for patient %s; will retry", patient.uuid)
    except Exception:  # noqa: BLE001 - one patient's failure never stops the others'
        logger.exception("reminder by %s failed for patient %s; will retry", channel, patient.uuid)
    finally:
        push.forget_gone(outcome)
    if not sent:
        claim.delete()
    return sent
