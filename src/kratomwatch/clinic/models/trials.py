"""N-of-1 trials: a randomized schedule of two regimens agreed between clinician and patient."""

from django.db import models
from django.utils.translation import gettext_lazy

from .base import Record
from .people import PatientProfile, User


class TrialStatus(models.TextChoices):
    PLANNED = "planned", gettext_lazy("Planned")
    RUNNING = "running", gettext_lazy("Running")
    COMPLETED = "completed", gettext_lazy("Completed")
    STOPPED = "stopped", gettext_lazy("Stopped early")


class NofOneTrial(Record):
    """One trial. ``schedule`` is ``TrialSchedule.to_dict()``: it is regenerated from
    ``seed`` and the parameters when read, and must match. ``result`` is
    ``TrialResult.to_dict()``, stored when the trial completes or is stopped."""

    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="nof1_trials"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    regimen_a = models.CharField(max_length=200)
    regimen_b = models.CharField(max_length=200)
    period_days = models.PositiveSmallIntegerField()
    pairs = models.PositiveSmallIntegerField()
    washout_days = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    seed = models.BigIntegerField(help_text="The randomization seed; reproduces the schedule.")
    schedule = models.JSONField()
    status = models.CharField(
        max_length=10, choices=TrialStatus.choices, default=TrialStatus.PLANNED
    )
    stopped_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.TextField(blank=True, max_length=2000)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "-created"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"N-of-1 trial {self.start_date} to {self.end_date}"


class TrialDay(Record):
    """The patient's answer for one day: "I followed today's trial regimen", yes or no."""

    trial = models.ForeignKey(NofOneTrial, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    followed = models.BooleanField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["trial", "day"], name="unique_trial_day")]
