"""Daily check-in reminders by e-mail, sent exactly once per patient per day.

Safe to run every few minutes from cron or a timer: a reminder is due once the patient's
local reminder time has passed, if they have not checked in today and none was sent today.
The ReminderLog row is written in the same transaction as the send: if sending fails, the row
is rolled back and the next run tries again; a second runner at the same moment is stopped by
the row's unique constraint. The e-mail carries no health information.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from kratomwatch.clinic.models import PatientProfile, ReminderLog

logger = logging.getLogger(__name__)

SUBJECT = gettext_noop("Your KratomWatch check-in")
BODY = gettext_noop(
    "Hello,\n\nThis is your daily reminder to check in on KratomWatch. It takes about a "
    "minute:\n\n%(url)s\n\nYou can change or turn off this reminder on the 'Reminders and my "
    "data' page.\n"
)


def reminder_email(patient: PatientProfile, url: str) -> tuple[str, str]:
    """Subject and body of the reminder, in the patient's language."""
    with translation.override(patient.language):
        return gettext(SUBJECT), gettext(BODY) % {"url": url}


def due_patients(now: datetime) -> list[PatientProfile]:
    local = timezone.localtime(now)
    today = local.date()
    candidates = (
        PatientProfile.objects.filter(
            reminder_time__isnull=False, reminder_time__lte=local.time(), user__is_active=True
        )
        .exclude(user__email="")
        .exclude(checkins__day=today)
        .exclude(pk__in=ReminderLog.objects.filter(day=today).values("patient_id"))
        .select_related("user")
    )
    return list(candidates)


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every due reminder; returns how many were sent."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    url = settings.KRATOMWATCH_BASE_URL.rstrip("/") + "/me/checkin/"
    sent = 0
    for patient in due_patients(now):
        try:
            with transaction.atomic():
                ReminderLog.objects.create(patient=patient, day=today)
                send_mail(*reminder_email(patient, url), None, [patient.user.email])
        except IntegrityError:
            continue  # another runner sent it
        except OSError:
            logger.exception("reminder e-mail failed for patient %s; will retry", patient.uuid)
            continue
        sent += 1
    return sent
