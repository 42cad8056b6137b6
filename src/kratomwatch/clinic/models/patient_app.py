"""What the patient's own app keeps: check-ins, scheduled questionnaires, reminders, requests."""

from django.db import models
from django.utils.translation import gettext_lazy

from .base import Record
from .people import PatientProfile, User


class CheckIn(Record):
    """One daily check-in: ratings, doses, symptoms and a note saved together."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="checkins")
    day = models.DateField(help_text="The patient's local day the check-in is for.")
    submitted_at = models.DateTimeField(
        help_text="When the patient saved it: on the phone, for one kept there with no "
        "connection and sent later."
    )
    received_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a check-in kept on the phone with no connection reached the server; "
        "empty for one sent as it was saved.",
    )
    note = models.TextField(blank=True, max_length=2000)
    idempotency_key = models.CharField(max_length=80)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"], name="unique_checkin_idempotency_key"
            )
        ]


class QuestionnaireSchedule(Record):
    """A questionnaire the clinician asked the patient to complete every ``every_days`` days."""

    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="questionnaire_schedules"
    )
    instrument_id = models.CharField(max_length=60)
    every_days = models.PositiveSmallIntegerField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument_id"], name="unique_schedule_per_instrument"
            )
        ]


class ReminderLog(models.Model):
    """One row per patient, day and channel a reminder was sent on: the guard that makes it
    exactly once."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=10, default="email")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "day", "channel"], name="unique_reminder_per_day_channel"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.patient_id} {self.day} {self.channel}"


class DeletionRequest(Record):
    class Status(models.TextChoices):
        REQUESTED = "requested", gettext_lazy("Requested")
        ANONYMIZED = (
            "anonymized",
            gettext_lazy("Identity removed; records kept until the retention date"),
        )
        DONE = "done", gettext_lazy("Erased")
        DECLINED = "declined", gettext_lazy("Declined (retention rules)")

    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="deletion_requests"
    )
    reason = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    retain_until = models.DateField(null=True, blank=True)
    handled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
